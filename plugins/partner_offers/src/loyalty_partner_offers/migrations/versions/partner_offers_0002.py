"""partner_offers: an offer may reward with another module's rule effect: the purchases its
effect failed on are counted, and a reward's ledger transaction is optional (an effect may
post none).

Revision ID: partner_offers_0002
Revises: partner_offers_0001
Create Date: 2026-12-04 16:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "partner_offers_0002"
down_revision: str | None = "partner_offers_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "partner_offers_offers",
        sa.Column("effect_failures", sa.Integer(), server_default="0", nullable=False),
    )
    op.alter_column("partner_offers_redemptions", "transaction_id", nullable=True)


def downgrade() -> None:
    op.execute(
        "DELETE FROM partner_offers_reversals v USING partner_offers_redemptions r"
        " WHERE v.tenant_id = r.tenant_id AND v.redemption_id = r.id"
        " AND r.transaction_id IS NULL"
    )
    op.execute("DELETE FROM partner_offers_redemptions WHERE transaction_id IS NULL")
    op.alter_column("partner_offers_redemptions", "transaction_id", nullable=False)
    op.drop_column("partner_offers_offers", "effect_failures")
