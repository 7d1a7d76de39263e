"""partner_offers: the money a partner was charged for each reward it funds, and credited
back for each refund's share, as clearing told (what ``offerPerformance`` reports as owed).

Revision ID: partner_offers_0003
Revises: partner_offers_0002
Create Date: 2026-12-04 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "partner_offers_0003"
down_revision: str | None = "partner_offers_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("partner_offers_redemptions", sa.Column("money", sa.BigInteger(), nullable=True))
    op.add_column(
        "partner_offers_redemptions", sa.Column("currency", sa.String(length=3), nullable=True)
    )
    op.add_column("partner_offers_reversals", sa.Column("money", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("partner_offers_reversals", "money")
    op.drop_column("partner_offers_redemptions", "currency")
    op.drop_column("partner_offers_redemptions", "money")
