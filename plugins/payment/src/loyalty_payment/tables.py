"""The module's tables, all named ``payment_*``, on the shared metadata of the SDK.

The value itself is never here: what a payment holds, captures and refunds lives in the
core ledger (holds and transactions) and in the tender modules' accounts. These tables say
which payment it was for, in what order the tenders paid, and what happened when.
"""

from __future__ import annotations

from loyalty_core.sdk import created_at_column, id_column, metadata, tenant_id_column
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

payments = Table(
    "payment_payments",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("member_id", UUID(as_uuid=True)),
    Column("order_reference", String(100), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("held", BigInteger, nullable=False),
    Column("captured", BigInteger, nullable=False, server_default="0"),
    Column("refunded", BigInteger, nullable=False, server_default="0"),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("idempotency_key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("actor", String(200), nullable=False),
    created_at_column(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    CheckConstraint(
        "status IN ('authorized', 'captured', 'voided', 'expired', 'refunded')", name="status"
    ),
    CheckConstraint("amount > 0 AND held > 0 AND held <= amount", name="held"),
    CheckConstraint("captured >= 0 AND captured <= held", name="captured"),
    CheckConstraint("refunded >= 0 AND refunded <= captured", name="refunded"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
    ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_payment_payments_idempotency_key"),
    Index("ix_payment_payments_member", "tenant_id", "member_id", "id"),
    Index("ix_payment_payments_order", "tenant_id", "order_reference"),
    Index(
        "ix_payment_payments_due",
        "tenant_id",
        "expires_at",
        postgresql_where=text("status = 'authorized'"),
    ),
)
"""One payment: an amount of an order, authorised (``held`` of it set aside across the
tenders, the rest due by cash or card), then captured, voided or expired, then refunded."""

tenders = Table(
    "payment_tenders",
    metadata,
    tenant_id_column(),
    Column("payment_id", UUID(as_uuid=True), primary_key=True),
    Column("position", SmallInteger, primary_key=True),
    Column("tender", String(32), nullable=False),
    Column("instrument", String(200), nullable=False),
    Column("label", String(100), nullable=False),
    Column("hold_id", UUID(as_uuid=True), nullable=False),
    Column("held", BigInteger, nullable=False),
    Column("held_units", BigInteger, nullable=False),
    Column("captured", BigInteger, nullable=False, server_default="0"),
    Column("captured_units", BigInteger, nullable=False, server_default="0"),
    Column("capture_transaction_id", UUID(as_uuid=True)),
    Column("refunded", BigInteger, nullable=False, server_default="0"),
    Column("refunded_units", BigInteger, nullable=False, server_default="0"),
    CheckConstraint("held > 0 AND held_units > 0", name="held"),
    CheckConstraint("captured >= 0 AND captured <= held", name="captured"),
    CheckConstraint("refunded >= 0 AND refunded <= captured", name="refunded"),
    ForeignKeyConstraint(
        ["tenant_id", "payment_id"], ["payment_payments.tenant_id", "payment_payments.id"]
    ),
)
"""The tenders that hold part of a payment, in the order of the customer's preference: what
each held, captured and refunded, in money (minor units) and in its own units."""

operations = Table(
    "payment_operations",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("payment_id", UUID(as_uuid=True), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("idempotency_key", String(200)),
    Column("request_hash", String(64)),
    Column("actor", String(200), nullable=False),
    Column("parts", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    created_at_column(),
    CheckConstraint("kind IN ('authorize', 'capture', 'void', 'expire', 'refund')", name="kind"),
    CheckConstraint("amount >= 0", name="amount"),
    ForeignKeyConstraint(
        ["tenant_id", "payment_id"], ["payment_payments.tenant_id", "payment_payments.id"]
    ),
    UniqueConstraint(
        "tenant_id", "payment_id", "kind", "idempotency_key", name="uq_payment_operations_key"
    ),
    Index("ix_payment_operations_payment", "tenant_id", "payment_id", "id"),
)
"""The timeline of a payment, insert-only: every operation with its amount, who asked, and
per tender what moved (``parts``: position, amount, units, ledger transaction)."""

__all__ = ["operations", "payments", "tenders"]
