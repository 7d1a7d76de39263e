"""clearing: what a line undoes, redemptions found by their spend, the last reorder alert.

Revision ID: clearing_0002
Revises: clearing_0001
Create Date: 2026-12-04 14:30:00

``clearing_movements.origin_id`` names the line a reversal gives back or a fee was charged
on (so a refund gives each block what was drawn from it and reverses fees pro rata);
redeemed lines are found by their cause (the spend) when its points are refunded;
``clearing_partners.reorder_alerted_at`` is when the points left in a partner's blocks last
crossed below its reorder threshold. Only new nullable columns and indexes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "clearing_0002"
down_revision: str | None = "clearing_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("clearing_movements", sa.Column("origin_id", postgresql.UUID(), nullable=True))
    op.create_index(
        "ix_clearing_movements_origin",
        "clearing_movements",
        ["tenant_id", "origin_id"],
        unique=False,
        postgresql_where=sa.text("origin_id IS NOT NULL"),
    )
    op.create_index(
        "ix_clearing_movements_redemption",
        "clearing_movements",
        ["tenant_id", "cause"],
        unique=False,
        postgresql_where=sa.text("kind = 'redeemed'"),
    )
    op.add_column(
        "clearing_partners",
        sa.Column("reorder_alerted_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("clearing_partners", "reorder_alerted_at")
    op.drop_index("ix_clearing_movements_redemption", table_name="clearing_movements")
    op.drop_index("ix_clearing_movements_origin", table_name="clearing_movements")
    op.drop_column("clearing_movements", "origin_id")
