"""tiers: a CEL expression as the qualifying metric: window aggregates per month and event,
and the ladder's health (failures of its expression).

Revision ID: tiers_0003
Revises: tiers_0002
Create Date: 2026-12-04 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from loyalty_core.sdk import secure_tenant_table

revision: str = "tiers_0003"
down_revision: str | None = "tiers_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AGGREGATES = ("spend", "purchases", "visits", "status_points")


def upgrade() -> None:
    for table in ("tiers_metrics", "tiers_contributions"):
        for name in AGGREGATES:
            op.add_column(
                table, sa.Column(name, sa.BigInteger(), server_default="0", nullable=False)
            )
    op.create_table(
        "tiers_ladder_health",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("failures", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.tenant_id"],
            name=op.f("fk_tiers_ladder_health_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tiers_ladder_health")),
    )
    secure_tenant_table(op, "tiers_ladder_health")


def downgrade() -> None:
    op.drop_table("tiers_ladder_health")
    for table in ("tiers_metrics", "tiers_contributions"):
        for name in AGGREGATES:
            op.drop_column(table, name)
