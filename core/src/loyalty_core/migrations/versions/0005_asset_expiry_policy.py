"""Asset expiry policies: days after earn, end of month, end of year, a fixed date.

Assets that had ``expiry_days`` keep expiring that many days after earn.

Revision ID: 0005_asset_expiry_policy
Revises: 0004_rules
Create Date: 2026-11-24 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_asset_expiry_policy"
down_revision: str | None = "0004_rules"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECKS = {
    "expiry_policy": "expiry_policy IN ('never', 'days_after_earn', 'end_of_month',"
    " 'end_of_year', 'fixed_date')",
    "expiry_days_policy": "(expiry_policy = 'days_after_earn') = (expiry_days IS NOT NULL)",
    "expiry_date_policy": "(expiry_policy = 'fixed_date') = (expiry_date IS NOT NULL)",
    "expiry_periods": "expiry_periods >= 0 AND (expiry_periods = 0"
    " OR expiry_policy IN ('end_of_month', 'end_of_year'))",
}


def upgrade() -> None:
    op.add_column(
        "assets",
        sa.Column("expiry_policy", sa.String(length=16), server_default="never", nullable=False),
    )
    op.add_column(
        "assets",
        sa.Column("expiry_periods", sa.SmallInteger(), server_default="0", nullable=False),
    )
    op.add_column("assets", sa.Column("expiry_date", sa.Date(), nullable=True))
    op.execute("UPDATE assets SET expiry_policy = 'days_after_earn' WHERE expiry_days IS NOT NULL")
    for name, condition in CHECKS.items():
        op.create_check_constraint(op.f(f"ck_assets_{name}"), "assets", condition)


def downgrade() -> None:
    for name in CHECKS:
        op.drop_constraint(op.f(f"ck_assets_{name}"), "assets", type_="check")
    op.execute("UPDATE assets SET expiry_days = NULL WHERE expiry_policy <> 'days_after_earn'")
    op.drop_column("assets", "expiry_date")
    op.drop_column("assets", "expiry_periods")
    op.drop_column("assets", "expiry_policy")
