"""Accounts owned by modules on behalf of non-members (a gift card's stored value).

Revision ID: 0003_owned_accounts
Revises: 0002_balance_notify
Create Date: 2026-11-23 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_owned_accounts"
down_revision: str | None = "0002_balance_notify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("ledger_accounts", sa.Column("owner_ref", sa.String(length=100), nullable=True))
    op.create_check_constraint(
        op.f("ck_ledger_accounts_one_owner"),
        "ledger_accounts",
        "member_id IS NULL OR owner_ref IS NULL",
    )
    op.drop_index("uq_ledger_accounts_tenant_purpose", table_name="ledger_accounts")
    op.create_index(
        "uq_ledger_accounts_tenant_purpose",
        "ledger_accounts",
        ["tenant_id", "asset_id", "purpose"],
        unique=True,
        postgresql_where=sa.text("member_id IS NULL AND owner_ref IS NULL"),
    )
    op.create_index(
        "uq_ledger_accounts_owner_purpose",
        "ledger_accounts",
        ["tenant_id", "owner_ref", "asset_id", "purpose"],
        unique=True,
        postgresql_where=sa.text("owner_ref IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_ledger_accounts_owner_purpose", table_name="ledger_accounts")
    op.drop_index("uq_ledger_accounts_tenant_purpose", table_name="ledger_accounts")
    op.create_index(
        "uq_ledger_accounts_tenant_purpose",
        "ledger_accounts",
        ["tenant_id", "asset_id", "purpose"],
        unique=True,
        postgresql_where=sa.text("member_id IS NULL"),
    )
    op.drop_constraint(op.f("ck_ledger_accounts_one_owner"), "ledger_accounts", type_="check")
    op.drop_column("ledger_accounts", "owner_ref")
