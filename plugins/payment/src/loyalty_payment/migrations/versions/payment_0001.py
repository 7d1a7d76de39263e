"""payment: payments, their tenders and their timeline.

Revision ID: payment_0001
Revises:
Create Date: 2026-11-24 01:30:00

The module's first revision: a base of its own (branch label ``payment``) that depends on
the core revision introducing ledger holds. Every table is secured with row-level security;
the timeline is insert-only for the app role.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from loyalty_core.sdk import secure_tenant_table

revision: str = "payment_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("payment",)
depends_on: str | Sequence[str] | None = "0007_ledger_holds"

UUID = postgresql.UUID(as_uuid=True)


def _created_at() -> sa.Column[object]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "payment_payments",
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("id", UUID, nullable=False),
        sa.Column("member_id", UUID, nullable=True),
        sa.Column("order_reference", sa.String(length=100), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("held", sa.BigInteger(), nullable=False),
        sa.Column("captured", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("refunded", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        _created_at(),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('authorized', 'captured', 'voided', 'expired', 'refunded')",
            name=op.f("ck_payment_payments_status"),
        ),
        sa.CheckConstraint(
            "amount > 0 AND held > 0 AND held <= amount", name=op.f("ck_payment_payments_held")
        ),
        sa.CheckConstraint(
            "captured >= 0 AND captured <= held", name=op.f("ck_payment_payments_captured")
        ),
        sa.CheckConstraint(
            "refunded >= 0 AND refunded <= captured", name=op.f("ck_payment_payments_refunded")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.tenant_id"],
            name=op.f("fk_payment_payments_tenant_id_tenants"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_payment_payments_tenant_id_members"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_payment_payments")),
        sa.UniqueConstraint(
            "tenant_id", "idempotency_key", name="uq_payment_payments_idempotency_key"
        ),
    )
    op.create_index(
        "ix_payment_payments_member", "payment_payments", ["tenant_id", "member_id", "id"]
    )
    op.create_index(
        "ix_payment_payments_order", "payment_payments", ["tenant_id", "order_reference"]
    )
    op.create_index(
        "ix_payment_payments_due",
        "payment_payments",
        ["tenant_id", "expires_at"],
        postgresql_where=sa.text("status = 'authorized'"),
    )
    op.create_table(
        "payment_tenders",
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("payment_id", UUID, nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("tender", sa.String(length=32), nullable=False),
        sa.Column("instrument", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("hold_id", UUID, nullable=False),
        sa.Column("held", sa.BigInteger(), nullable=False),
        sa.Column("held_units", sa.BigInteger(), nullable=False),
        sa.Column("captured", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("captured_units", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("capture_transaction_id", UUID, nullable=True),
        sa.Column("refunded", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("refunded_units", sa.BigInteger(), server_default="0", nullable=False),
        sa.CheckConstraint("held > 0 AND held_units > 0", name=op.f("ck_payment_tenders_held")),
        sa.CheckConstraint(
            "captured >= 0 AND captured <= held", name=op.f("ck_payment_tenders_captured")
        ),
        sa.CheckConstraint(
            "refunded >= 0 AND refunded <= captured", name=op.f("ck_payment_tenders_refunded")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "payment_id"],
            ["payment_payments.tenant_id", "payment_payments.id"],
            name=op.f("fk_payment_tenders_tenant_id_payment_payments"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "payment_id", "position", name=op.f("pk_payment_tenders")
        ),
    )
    op.create_table(
        "payment_operations",
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("id", UUID, nullable=False),
        sa.Column("payment_id", UUID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column(
            "parts",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        _created_at(),
        sa.CheckConstraint(
            "kind IN ('authorize', 'capture', 'void', 'expire', 'refund')",
            name=op.f("ck_payment_operations_kind"),
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_payment_operations_amount")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "payment_id"],
            ["payment_payments.tenant_id", "payment_payments.id"],
            name=op.f("fk_payment_operations_tenant_id_payment_payments"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_payment_operations")),
        sa.UniqueConstraint(
            "tenant_id",
            "payment_id",
            "kind",
            "idempotency_key",
            name="uq_payment_operations_key",
        ),
    )
    op.create_index(
        "ix_payment_operations_payment", "payment_operations", ["tenant_id", "payment_id", "id"]
    )
    secure_tenant_table(op, "payment_payments")
    secure_tenant_table(op, "payment_tenders")
    secure_tenant_table(op, "payment_operations", immutable=True)


def downgrade() -> None:
    op.drop_table("payment_operations")
    op.drop_table("payment_tenders")
    op.drop_table("payment_payments")
