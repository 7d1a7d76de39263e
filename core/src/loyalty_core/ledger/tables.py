"""Tables of the ledger. See the package docstring for the invariants they keep."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from loyalty_core.db.metadata import created_at_column, id_column, metadata, tenant_id_column

EXPIRY_POLICY_CHECKS = (
    CheckConstraint(
        "expiry_policy IN ('never', 'days_after_earn', 'end_of_month', 'end_of_year',"
        " 'fixed_date')",
        name="expiry_policy",
    ),
    CheckConstraint(
        "(expiry_policy = 'days_after_earn') = (expiry_days IS NOT NULL)", name="expiry_days_policy"
    ),
    CheckConstraint(
        "(expiry_policy = 'fixed_date') = (expiry_date IS NOT NULL)", name="expiry_date_policy"
    ),
    CheckConstraint(
        "expiry_periods >= 0 AND (expiry_periods = 0"
        " OR expiry_policy IN ('end_of_month', 'end_of_year'))",
        name="expiry_periods",
    ),
)
"""An asset's expiry policy and its one parameter agree (``models.ExpiryPolicy``)."""

assets = Table(
    "assets",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("code", String(32), nullable=False),
    Column("name", String(100), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("scale", SmallInteger, nullable=False, server_default="0"),
    Column("allow_negative", Boolean, nullable=False, server_default="false"),
    Column("expiry_days", Integer),
    Column("pending_days", Integer, nullable=False, server_default="0"),
    created_at_column(),
    Column("expiry_policy", String(16), nullable=False, server_default="never"),
    Column("expiry_periods", SmallInteger, nullable=False, server_default="0"),
    Column("expiry_date", Date),
    Column("spendable", Boolean, nullable=False, server_default="true"),
    CheckConstraint("kind IN ('points', 'money')", name="kind"),
    CheckConstraint("spendable OR kind = 'points'", name="spendable"),
    CheckConstraint("expiry_days IS NULL OR expiry_days > 0", name="expiry_days"),
    *EXPIRY_POLICY_CHECKS,
    CheckConstraint("pending_days >= 0", name="pending_days"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
    UniqueConstraint("tenant_id", "code", name="uq_assets_code"),
)

ledger_accounts = Table(
    "ledger_accounts",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("asset_id", UUID(as_uuid=True), nullable=False),
    Column("member_id", UUID(as_uuid=True)),
    Column("owner_ref", String(100)),
    Column("purpose", String(32), nullable=False),
    Column("balance", BigInteger, nullable=False, server_default="0"),
    Column("tracks_balance", Boolean, nullable=False, server_default="true"),
    Column("allow_negative", Boolean, nullable=False, server_default="false"),
    created_at_column(),
    Column("held", BigInteger, nullable=False, server_default="0"),
    CheckConstraint("allow_negative OR balance >= held", name="no_overdraft"),
    CheckConstraint("held >= 0", name="held"),
    CheckConstraint("tracks_balance OR balance = 0", name="derived_balance"),
    CheckConstraint("member_id IS NULL OR owner_ref IS NULL", name="one_owner"),
    ForeignKeyConstraint(["tenant_id", "asset_id"], ["assets.tenant_id", "assets.id"]),
    ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
    Index(
        "uq_ledger_accounts_member_purpose",
        "tenant_id",
        "member_id",
        "asset_id",
        "purpose",
        unique=True,
        postgresql_where=text("member_id IS NOT NULL"),
    ),
    Index(
        "uq_ledger_accounts_tenant_purpose",
        "tenant_id",
        "asset_id",
        "purpose",
        unique=True,
        postgresql_where=text("member_id IS NULL AND owner_ref IS NULL"),
    ),
    Index(
        "uq_ledger_accounts_owner_purpose",
        "tenant_id",
        "owner_ref",
        "asset_id",
        "purpose",
        unique=True,
        postgresql_where=text("owner_ref IS NOT NULL"),
    ),
)

ledger_transactions = Table(
    "ledger_transactions",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("kind", String(32), nullable=False),
    Column("idempotency_key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("cause_kind", String(32), nullable=False),
    Column("cause_id", String(200)),
    Column("event_id", UUID(as_uuid=True)),
    Column("rule_id", UUID(as_uuid=True)),
    Column("rule_version", Integer),
    Column("actor", String(200), nullable=False),
    Column("reverses_id", UUID(as_uuid=True)),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    created_at_column(),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
    ForeignKeyConstraint(
        ["tenant_id", "reverses_id"], ["ledger_transactions.tenant_id", "ledger_transactions.id"]
    ),
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_ledger_transactions_idempotency"),
    Index("ix_ledger_transactions_event", "tenant_id", "event_id"),
)

ledger_lots = Table(
    "ledger_lots",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("account_id", UUID(as_uuid=True), nullable=False),
    Column("member_id", UUID(as_uuid=True), nullable=False),
    Column("asset_id", UUID(as_uuid=True), nullable=False),
    Column("transaction_id", UUID(as_uuid=True), nullable=False),
    Column("earned", BigInteger, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    Column("available_from", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    created_at_column(),
    CheckConstraint("earned > 0 AND remaining >= 0 AND remaining <= earned", name="remaining"),
    ForeignKeyConstraint(
        ["tenant_id", "account_id"], ["ledger_accounts.tenant_id", "ledger_accounts.id"]
    ),
    ForeignKeyConstraint(
        ["tenant_id", "transaction_id"],
        ["ledger_transactions.tenant_id", "ledger_transactions.id"],
    ),
    Index(
        "ix_ledger_lots_spend_order",
        "tenant_id",
        "account_id",
        text("expires_at ASC NULLS LAST"),
        "id",
        postgresql_where=text("remaining > 0"),
    ),
    Index(
        "ix_ledger_lots_due",
        "tenant_id",
        "available_from",
        postgresql_where=text("remaining > 0"),
    ),
    Index(
        "ix_ledger_lots_expiring",
        "tenant_id",
        "expires_at",
        postgresql_where=text("remaining > 0 AND expires_at IS NOT NULL"),
    ),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("transaction_id", UUID(as_uuid=True), nullable=False),
    Column("account_id", UUID(as_uuid=True), nullable=False),
    Column("asset_id", UUID(as_uuid=True), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("lot_id", UUID(as_uuid=True)),
    created_at_column(),
    CheckConstraint("amount <> 0", name="nonzero"),
    ForeignKeyConstraint(
        ["tenant_id", "transaction_id"],
        ["ledger_transactions.tenant_id", "ledger_transactions.id"],
    ),
    ForeignKeyConstraint(
        ["tenant_id", "account_id"], ["ledger_accounts.tenant_id", "ledger_accounts.id"]
    ),
    ForeignKeyConstraint(["tenant_id", "lot_id"], ["ledger_lots.tenant_id", "ledger_lots.id"]),
    Index("ix_ledger_entries_account", "tenant_id", "account_id", "id"),
    Index("ix_ledger_entries_transaction", "tenant_id", "transaction_id"),
)

ledger_holds = Table(
    "ledger_holds",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("account_id", UUID(as_uuid=True), nullable=False),
    Column("asset_id", UUID(as_uuid=True), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("status", String(16), nullable=False, server_default="held"),
    Column("idempotency_key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("cause_kind", String(32), nullable=False),
    Column("cause_id", String(200)),
    Column("actor", String(200), nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("transaction_id", UUID(as_uuid=True)),
    Column("closed_at", DateTime(timezone=True)),
    created_at_column(),
    CheckConstraint("amount > 0", name="amount"),
    CheckConstraint("status IN ('held', 'captured', 'released')", name="status"),
    CheckConstraint("(status = 'held') = (closed_at IS NULL)", name="closed"),
    ForeignKeyConstraint(
        ["tenant_id", "account_id"], ["ledger_accounts.tenant_id", "ledger_accounts.id"]
    ),
    ForeignKeyConstraint(
        ["tenant_id", "transaction_id"],
        ["ledger_transactions.tenant_id", "ledger_transactions.id"],
    ),
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_ledger_holds_idempotency"),
    Index(
        "ix_ledger_holds_open",
        "tenant_id",
        "account_id",
        postgresql_where=text("status = 'held'"),
    ),
)
"""Pending debits: value set aside on an account (``ledger_accounts.held``) for a payment
that is authorised but not yet captured. Nothing is posted until the capture."""

__all__ = [
    "assets",
    "ledger_accounts",
    "ledger_entries",
    "ledger_holds",
    "ledger_lots",
    "ledger_transactions",
]
