"""The module's tables, all named ``tiers_*``, on the shared metadata of the SDK.

Every table starts with ``tenant_id`` and the migration secures each with row-level
security. Status points themselves are not here: they are a points asset of the tenant in
the core ledger; ``tiers_metrics`` keeps what counts toward a level, per member and month.
"""

from __future__ import annotations

from loyalty_core.sdk import created_at_column, id_column, metadata, tenant_id_column
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

ladders = Table(
    "tiers_ladders",
    metadata,
    tenant_id_column(),
    Column("version", Integer, nullable=False),
    Column("definition", JSONB, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
)
"""One ladder per tenant; ``version`` rises with every change (caches compare it)."""

members = Table(
    "tiers_members",
    metadata,
    tenant_id_column(),
    Column("member_id", UUID(as_uuid=True), primary_key=True),
    Column("level", String(40)),
    Column("since", DateTime(timezone=True), nullable=False),
    Column("base_level", String(40)),
    Column("anchor_month", SmallInteger, nullable=False),
    Column("window_end", Date, nullable=False),
    Column("grace_level", String(40)),
    Column("grace_until", Date),
    Column("warned_for", Date),
    Column("override_level", String(40)),
    Column("override_reason", String(500)),
    Column("override_actor", String(200)),
    Column("override_expires_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
    Index("ix_tiers_members_window_end", "tenant_id", "window_end"),
    Index(
        "ix_tiers_members_grace",
        "tenant_id",
        "grace_until",
        postgresql_where=text("grace_until IS NOT NULL"),
    ),
    Index(
        "ix_tiers_members_override",
        "tenant_id",
        "override_expires_at",
        postgresql_where=text("override_level IS NOT NULL"),
    ),
)
"""A member's standing: the level earned by the metric (``level``, since when), the level
the last window's end confirmed (``base_level``: what a refund cannot go under), the end of
the current window, a pending grace, and an operator's override beside (never instead of)
the earned level. The row is the member's lock for every change of level."""

metrics = Table(
    "tiers_metrics",
    metadata,
    tenant_id_column(),
    Column("member_id", UUID(as_uuid=True), primary_key=True),
    Column("month", Date, primary_key=True),
    Column("value", BigInteger, nullable=False),
    *(
        Column(name, BigInteger, nullable=False, server_default="0")
        for name in ("spend", "purchases", "visits", "status_points")
    ),
    ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
)
"""The qualifying metric per member and local month (first day): windows sum these. Under
an EXPRESSION ladder the month's aggregates (``spend``, ``purchases``, ``visits``,
``status_points``) are kept instead, and the expression is evaluated over their sums."""

contributions = Table(
    "tiers_contributions",
    metadata,
    tenant_id_column(),
    Column("member_id", UUID(as_uuid=True), primary_key=True),
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("month", Date, nullable=False),
    Column("amount", BigInteger, nullable=False),
    *(
        Column(name, BigInteger, nullable=False, server_default="0")
        for name in ("spend", "purchases", "visits", "status_points")
    ),
    Column("event_type", String(100), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
    Index("ix_tiers_contributions_month", "tenant_id", "member_id", "month"),
)
"""What each event added to (or, a refund, took from) the metric, or under an EXPRESSION
ladder to the window's aggregates: every figure a member sees is the sum of these (or the
expression over their sums), so it can be explained event by event."""

health = Table(
    "tiers_ladder_health",
    metadata,
    tenant_id_column(),
    Column("failures", BigInteger, nullable=False, server_default="0"),
    Column("last_error", String(500)),
    Column("last_failed_at", DateTime(timezone=True)),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
)
"""How often the ladder's EXPRESSION metric could not be evaluated for a member (the member
was skipped), and the last error: a row of its own, written only on failure, so events
never wait on the ladder row."""

history = Table(
    "tiers_history",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("member_id", UUID(as_uuid=True), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("from_level", String(40)),
    Column("to_level", String(40)),
    Column("reason", String(500), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("event_id", UUID(as_uuid=True)),
    Column("metric", BigInteger),
    created_at_column(),
    Index("ix_tiers_history_member", "tenant_id", "member_id", "id"),
)
"""Every change of a member's level, with its reason: insert-only. No foreign key: each row
is written for a member with a standing row, whose own key checks the member, and a
window's end writes a row for most members at once (the per-row check cost as much as the
row)."""

plans = Table(
    "tiers_plans",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("code", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("price", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("period", String(8), nullable=False),
    Column("trial_days", Integer, nullable=False),
    Column("level", String(40)),
    Column("benefits", JSONB, nullable=False),
    created_at_column(),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
    UniqueConstraint("tenant_id", "code", name="uq_tiers_plans_code"),
)
"""Paid membership plans: what a member pays the retailer's payment provider for, and the
level or benefits it grants while it runs."""

memberships = Table(
    "tiers_memberships",
    metadata,
    tenant_id_column(),
    Column("member_id", UUID(as_uuid=True), primary_key=True),
    Column("plan_id", UUID(as_uuid=True), nullable=False),
    Column("state", String(16), nullable=False),
    Column("subscription", String(200), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("period_end", DateTime(timezone=True)),
    Column("grace_until", DateTime(timezone=True)),
    Column("last_event_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
    ForeignKeyConstraint(["tenant_id", "plan_id"], ["tiers_plans.tenant_id", "tiers_plans.id"]),
)
"""A member's membership as the provider's events, folded in their order, left it."""

membership_events = Table(
    "tiers_membership_events",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("provider_event_id", String(200), nullable=False),
    Column("member_id", UUID(as_uuid=True), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("plan_code", String(40), nullable=False),
    Column("subscription", String(200), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("period_end", DateTime(timezone=True)),
    created_at_column(),
    ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
    UniqueConstraint("tenant_id", "provider_event_id", name="uq_tiers_membership_events_provider"),
    Index("ix_tiers_membership_events_member", "tenant_id", "member_id", "occurred_at"),
)
"""Every subscription event the provider sent, once (a replay finds its id taken)."""

webhooks = Table(
    "tiers_webhooks",
    metadata,
    tenant_id_column(),
    Column("secret", String(200)),
    Column("grace_days", Integer, nullable=False),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
)
"""The tenant's webhook signing secret (none: no webhook) and membership grace, copied from
its settings when it enables the module: a provider's request carries no credential of
ours, so the route finds the tenant's secret here, and the ``member.tier`` fact its grace."""

TABLES = (
    ladders,
    members,
    metrics,
    contributions,
    history,
    health,
    plans,
    memberships,
    membership_events,
    webhooks,
)

__all__ = [
    "TABLES",
    "contributions",
    "health",
    "history",
    "ladders",
    "members",
    "membership_events",
    "memberships",
    "metrics",
    "plans",
    "webhooks",
]
