"""Assets that only count: a points asset may be marked not spendable.

Status points (the tiers module's qualifying asset) are earned and counted, never spent: a
redemption, a hold for a payment or a transfer of them is refused with
``ASSET_NOT_SPENDABLE``. Every existing asset stays spendable; only points can be made
otherwise (money is there to pay with).

Revision ID: 0010_asset_spendable
Revises: 0009_platform_lists_modules
Create Date: 2026-12-04 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_asset_spendable"
down_revision: str | None = "0009_platform_lists_modules"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "assets",
        sa.Column("spendable", sa.Boolean(), server_default="true", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_assets_spendable"), "assets", "spendable OR kind = 'points'"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_assets_spendable"), "assets", type_="check")
    op.drop_column("assets", "spendable")
