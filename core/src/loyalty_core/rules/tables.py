"""Tables of campaigns: current state, immutable versions, per-member limit counters, the
awards a campaign made (what refunds credit back to budgets and limits), and the failures
of each campaign (``rules.health``)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from loyalty_core.db.metadata import created_at_column, id_column, metadata, tenant_id_column

rule_campaigns = Table(
    "rule_campaigns",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("name", String(200), nullable=False),
    Column("status", String(16), nullable=False, server_default="draft"),
    Column("current_version", Integer, nullable=False),
    Column("budget_spent", BigInteger, nullable=False, server_default="0"),
    created_at_column(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("status_reason", String(500)),
    CheckConstraint("status IN ('draft', 'active', 'inactive', 'paused')", name="status"),
    CheckConstraint("budget_spent >= 0", name="budget_spent_not_negative"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
)
"""``status_reason``: why the campaign is in its status when it did not come from an admin
(``paused`` by its own failures)."""

rule_campaign_versions = Table(
    "rule_campaign_versions",
    metadata,
    tenant_id_column(),
    Column("campaign_id", UUID(as_uuid=True), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("trigger_type", String(64), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("definition", JSONB, nullable=False),
    Column("actor", String(200), nullable=False),
    created_at_column(),
    ForeignKeyConstraint(
        ["tenant_id", "campaign_id"], ["rule_campaigns.tenant_id", "rule_campaigns.id"]
    ),
    Index("ix_rule_campaign_versions_trigger", "tenant_id", "trigger_type"),
)

rule_member_counters = Table(
    "rule_member_counters",
    metadata,
    tenant_id_column(),
    Column("campaign_id", UUID(as_uuid=True), primary_key=True),
    Column("member_id", UUID(as_uuid=True), primary_key=True),
    Column("period", String(32), primary_key=True),
    Column("awards", Integer, nullable=False),
    Column("points", BigInteger, nullable=False),
    CheckConstraint("awards >= 0 AND points >= 0", name="not_negative"),
    ForeignKeyConstraint(
        ["tenant_id", "campaign_id"], ["rule_campaigns.tenant_id", "rule_campaigns.id"]
    ),
    ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
)

rule_awards = Table(
    "rule_awards",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("campaign_id", UUID(as_uuid=True), nullable=False),
    Column("version", Integer, nullable=False),
    Column("member_id", UUID(as_uuid=True), nullable=False),
    Column("event_id", UUID(as_uuid=True)),
    Column("points", BigInteger, nullable=False),
    Column("periods", JSONB, nullable=False),
    created_at_column(),
    ForeignKeyConstraint(
        ["tenant_id", "campaign_id", "version"],
        [
            "rule_campaign_versions.tenant_id",
            "rule_campaign_versions.campaign_id",
            "rule_campaign_versions.version",
        ],
    ),
    ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
    ForeignKeyConstraint(["tenant_id", "event_id"], ["events.tenant_id", "events.id"]),
    Index("ix_rule_awards_event", "tenant_id", "event_id"),
)

rule_occurrences = Table(
    "rule_occurrences",
    metadata,
    tenant_id_column(),
    Column("campaign_id", UUID(as_uuid=True), primary_key=True),
    Column("member_id", UUID(as_uuid=True), primary_key=True),
    Column("occurrence", String(64), primary_key=True),
    created_at_column(),
    ForeignKeyConstraint(
        ["tenant_id", "campaign_id"], ["rule_campaigns.tenant_id", "rule_campaigns.id"]
    ),
    ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
)
"""One row per scheduled trigger that fired (``birthday:2026``): the unique key is what makes
a job running twice, or on two replicas at once, award once."""

rule_campaign_health = Table(
    "rule_campaign_health",
    metadata,
    tenant_id_column(),
    Column("campaign_id", UUID(as_uuid=True), primary_key=True),
    Column("failures", BigInteger, nullable=False),
    Column("consecutive", Integer, nullable=False),
    Column("last_version", Integer, nullable=False),
    Column("last_error", String(500), nullable=False),
    Column("last_error_class", String(100), nullable=False),
    Column("last_failure_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("failures >= consecutive AND consecutive >= 0", name="counts"),
    ForeignKeyConstraint(
        ["tenant_id", "campaign_id"], ["rule_campaigns.tenant_id", "rule_campaigns.id"]
    ),
)
"""A campaign's failures at run time, once it failed (no row: it never did). A row of its own,
written only when something fails, so that failing ingestions never wait for the campaign's
row, which budget reservations lock (see ``rules.health``)."""

rule_segments = Table(
    "rule_segments",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("name", String(64), nullable=False),
    Column("condition", String(2000), nullable=False),
    created_at_column(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
    UniqueConstraint("tenant_id", "name", name="uq_rule_segments_name"),
)
"""Members grouped by a CEL condition over the member: campaign targets, ``member.segments``."""

__all__ = [
    "rule_awards",
    "rule_campaign_health",
    "rule_campaign_versions",
    "rule_campaigns",
    "rule_member_counters",
    "rule_occurrences",
    "rule_segments",
]
