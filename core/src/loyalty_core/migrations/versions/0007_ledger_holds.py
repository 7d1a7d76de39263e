"""Holds: pending debits of two-phase payments (``ledger_holds``, ``ledger_accounts.held``).

Revision ID: 0007_ledger_holds
Revises: 0006_tenant_change_notify
Create Date: 2026-11-24 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from loyalty_core.db.security import secure_tenant_table

revision: str = "0007_ledger_holds"
down_revision: str | None = "0006_tenant_change_notify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "ledger_accounts",
        sa.Column("held", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.drop_constraint(op.f("ck_ledger_accounts_no_overdraft"), "ledger_accounts", type_="check")
    op.create_check_constraint(
        op.f("ck_ledger_accounts_no_overdraft"), "ledger_accounts", "allow_negative OR balance >= held"
    )
    op.create_check_constraint(op.f("ck_ledger_accounts_held"), "ledger_accounts", "held >= 0")
    op.create_table(
        "ledger_holds",
        sa.Column("tenant_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("account_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("asset_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="held", nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("cause_kind", sa.String(length=32), nullable=False),
        sa.Column("cause_id", sa.String(length=200), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("transaction_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_ledger_holds_amount")),
        sa.CheckConstraint(
            "status IN ('held', 'captured', 'released')", name=op.f("ck_ledger_holds_status")
        ),
        sa.CheckConstraint(
            "(status = 'held') = (closed_at IS NULL)", name=op.f("ck_ledger_holds_closed")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "account_id"],
            ["ledger_accounts.tenant_id", "ledger_accounts.id"],
            name=op.f("fk_ledger_holds_tenant_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "transaction_id"],
            ["ledger_transactions.tenant_id", "ledger_transactions.id"],
            name=op.f("fk_ledger_holds_tenant_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ledger_holds")),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_ledger_holds_idempotency"),
    )
    op.create_index(
        "ix_ledger_holds_open",
        "ledger_holds",
        ["tenant_id", "account_id"],
        postgresql_where=sa.text("status = 'held'"),
    )
    secure_tenant_table(op, "ledger_holds")


def downgrade() -> None:
    op.drop_index("ix_ledger_holds_open", table_name="ledger_holds")
    op.drop_table("ledger_holds")
    op.drop_constraint(op.f("ck_ledger_accounts_held"), "ledger_accounts", type_="check")
    op.drop_constraint(op.f("ck_ledger_accounts_no_overdraft"), "ledger_accounts", type_="check")
    op.create_check_constraint(
        op.f("ck_ledger_accounts_no_overdraft"), "ledger_accounts", "allow_negative OR balance >= 0"
    )
    op.drop_column("ledger_accounts", "held")
