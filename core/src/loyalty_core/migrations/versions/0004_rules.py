"""Campaigns: current state, immutable versions, per-member limit counters, awards.

Revision ID: 0004_rules
Revises: 0003_owned_accounts
Create Date: 2026-11-23 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from loyalty_core.db.security import secure_tenant_table
from sqlalchemy.dialects import postgresql

revision: str = "0004_rules"
down_revision: str | None = "0003_owned_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "rule_segments",
    "rule_occurrences",
    "rule_awards",
    "rule_member_counters",
    "rule_campaign_versions",
    "rule_campaigns",
)


def upgrade() -> None:
    op.create_table(
        "rule_campaigns",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="draft", nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("budget_spent", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'inactive')", name=op.f("ck_rule_campaigns_status")
        ),
        sa.CheckConstraint(
            "budget_spent >= 0", name=op.f("ck_rule_campaigns_budget_spent_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.tenant_id"], name=op.f("fk_rule_campaigns_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_rule_campaigns")),
    )
    op.create_table(
        "rule_campaign_versions",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("campaign_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("trigger_type", sa.String(length=64), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("definition", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "campaign_id"],
            ["rule_campaigns.tenant_id", "rule_campaigns.id"],
            name=op.f("fk_rule_campaign_versions_tenant_id_rule_campaigns"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "campaign_id", "version", name=op.f("pk_rule_campaign_versions")
        ),
    )
    op.create_index(
        "ix_rule_campaign_versions_trigger",
        "rule_campaign_versions",
        ["tenant_id", "trigger_type"],
        unique=False,
    )
    op.create_table(
        "rule_member_counters",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("campaign_id", sa.UUID(), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("awards", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "awards >= 0 AND points >= 0", name=op.f("ck_rule_member_counters_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "campaign_id"],
            ["rule_campaigns.tenant_id", "rule_campaigns.id"],
            name=op.f("fk_rule_member_counters_tenant_id_rule_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_rule_member_counters_tenant_id_members"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "campaign_id", "member_id", "period", name=op.f("pk_rule_member_counters")
        ),
    )
    op.create_table(
        "rule_awards",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("campaign_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=True),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("periods", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "campaign_id", "version"],
            [
                "rule_campaign_versions.tenant_id",
                "rule_campaign_versions.campaign_id",
                "rule_campaign_versions.version",
            ],
            name=op.f("fk_rule_awards_tenant_id_rule_campaign_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_rule_awards_tenant_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "event_id"],
            ["events.tenant_id", "events.id"],
            name=op.f("fk_rule_awards_tenant_id_events"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_rule_awards")),
    )
    op.create_index("ix_rule_awards_event", "rule_awards", ["tenant_id", "event_id"], unique=False)
    op.create_table(
        "rule_occurrences",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("campaign_id", sa.UUID(), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("occurrence", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "campaign_id"],
            ["rule_campaigns.tenant_id", "rule_campaigns.id"],
            name=op.f("fk_rule_occurrences_tenant_id_rule_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_rule_occurrences_tenant_id_members"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "campaign_id", "member_id", "occurrence", name=op.f("pk_rule_occurrences")
        ),
    )
    op.create_table(
        "rule_segments",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("condition", sa.String(length=2000), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.tenant_id"], name=op.f("fk_rule_segments_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_rule_segments")),
        sa.UniqueConstraint("tenant_id", "name", name="uq_rule_segments_name"),
    )
    for table in ("rule_campaigns", "rule_member_counters", "rule_segments"):
        secure_tenant_table(op, table)
    for table in ("rule_campaign_versions", "rule_awards", "rule_occurrences"):
        secure_tenant_table(op, table, immutable=True)


def downgrade() -> None:
    op.drop_index("ix_rule_awards_event", table_name="rule_awards")
    op.drop_index("ix_rule_campaign_versions_trigger", table_name="rule_campaign_versions")
    for table in TABLES:
        op.drop_table(table)
