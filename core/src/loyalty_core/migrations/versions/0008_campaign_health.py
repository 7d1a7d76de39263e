"""Campaign health: failures counted per campaign, and the ``paused`` status with its reason.

Revision ID: 0008_campaign_health
Revises: 0007_ledger_holds
Create Date: 2026-12-04 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from loyalty_core.db.security import secure_tenant_table

revision: str = "0008_campaign_health"
down_revision: str | None = "0007_ledger_holds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("rule_campaigns", sa.Column("status_reason", sa.String(length=500)))
    op.drop_constraint(op.f("ck_rule_campaigns_status"), "rule_campaigns", type_="check")
    op.create_check_constraint(
        op.f("ck_rule_campaigns_status"),
        "rule_campaigns",
        "status IN ('draft', 'active', 'inactive', 'paused')",
    )
    op.create_table(
        "rule_campaign_health",
        sa.Column("tenant_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("campaign_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("failures", sa.BigInteger(), nullable=False),
        sa.Column("consecutive", sa.Integer(), nullable=False),
        sa.Column("last_version", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("last_error_class", sa.String(length=100), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "failures >= consecutive AND consecutive >= 0",
            name=op.f("ck_rule_campaign_health_counts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "campaign_id"],
            ["rule_campaigns.tenant_id", "rule_campaigns.id"],
            name=op.f("fk_rule_campaign_health_tenant_id_rule_campaigns"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "campaign_id", name=op.f("pk_rule_campaign_health")),
    )
    secure_tenant_table(op, "rule_campaign_health")


def downgrade() -> None:
    op.drop_table("rule_campaign_health")
    op.execute("UPDATE rule_campaigns SET status = 'inactive' WHERE status = 'paused'")
    op.drop_constraint(op.f("ck_rule_campaigns_status"), "rule_campaigns", type_="check")
    op.create_check_constraint(
        op.f("ck_rule_campaigns_status"),
        "rule_campaigns",
        "status IN ('draft', 'active', 'inactive')",
    )
    op.drop_column("rule_campaigns", "status_reason")
