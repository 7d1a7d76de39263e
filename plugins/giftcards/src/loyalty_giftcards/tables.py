"""The module's tables, all named ``giftcards_*``, on the shared metadata of the SDK.

Every table starts with ``tenant_id`` (primary and foreign keys), and the migration secures
each with row-level security. A card's money is not here: it lives in the core ledger, in an
account owned by ``giftcard:<id>``; the card row is what a movement locks first.
"""

from __future__ import annotations

from loyalty_core.sdk import codes, created_at_column, id_column, metadata, tenant_id_column
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

STATUSES = "('inactive', 'active', 'cancelled', 'expired')"

keys = Table(
    "giftcards_keys",
    metadata,
    tenant_id_column(),
    Column("secret", LargeBinary, nullable=False),
    Column("pepper_fingerprint", String(32)),
    created_at_column(),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
)
"""One secret per tenant, made when the tenant first enables the module; the HMAC and
sealing keys are derived from it (and from the server's pepper it was made under, if any)."""

batches = Table(
    "giftcards_batches",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("currency", String(3), nullable=False),
    Column("size", Integer, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("export", Text),
    Column("exported_at", DateTime(timezone=True)),
    Column("idempotency_key", String(200)),
    Column("request_hash", String(64)),
    created_at_column(),
    CheckConstraint("export IS NULL OR exported_at IS NULL", name="export_once"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_giftcards_batches_idempotency_key"),
)
"""A print run of physical cards. ``export`` holds the codes as CSV until the one download;
``idempotency_key`` makes a retried request find its batch instead of printing another."""

cards = Table(
    "giftcards_cards",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("code_hash", String(64), nullable=False),
    Column("last_four", String(4), nullable=False),
    Column("code_sealed", LargeBinary),
    Column("pin_hash", String(64)),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("member_id", UUID(as_uuid=True)),
    Column("batch_id", UUID(as_uuid=True)),
    Column("account_id", UUID(as_uuid=True)),
    Column("expires_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
    created_at_column(),
    CheckConstraint(f"status IN {STATUSES}", name="status"),
    CheckConstraint("code_sealed IS NULL OR member_id IS NOT NULL", name="sealed_for_member"),
    ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
    ForeignKeyConstraint(
        ["tenant_id", "batch_id"], ["giftcards_batches.tenant_id", "giftcards_batches.id"]
    ),
    UniqueConstraint("tenant_id", "code_hash", name="uq_giftcards_cards_code_hash"),
    Index("ix_giftcards_cards_member", "tenant_id", "member_id", "id"),
    Index("ix_giftcards_cards_batch", "tenant_id", "batch_id"),
    Index(
        "ix_giftcards_cards_expiring",
        "tenant_id",
        "expires_at",
        postgresql_where=text("status = 'active' AND expires_at IS NOT NULL"),
    ),
)
"""A card: its code as a keyed hash and its last four symbols. ``code_sealed`` holds the
code encrypted, only while the card belongs to a member (who may reveal it)."""

events = Table(
    "giftcards_events",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("card_id", UUID(as_uuid=True), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False, server_default="0"),
    Column("balance_after", BigInteger, nullable=False, server_default="0"),
    Column("transaction_id", UUID(as_uuid=True)),
    Column("idempotency_key", String(200)),
    Column("request_hash", String(64)),
    Column("actor", String(200), nullable=False),
    Column("cause_kind", String(32), nullable=False),
    Column("cause_id", String(200)),
    Column("counterpart_id", UUID(as_uuid=True)),
    created_at_column(),
    ForeignKeyConstraint(
        ["tenant_id", "card_id"], ["giftcards_cards.tenant_id", "giftcards_cards.id"]
    ),
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_giftcards_events_idempotency_key"),
    Index("ix_giftcards_events_card", "tenant_id", "card_id", "id"),
)
"""What happened to a card, who did it and why; insert-only. Value-moving events carry the
ledger transaction and the request's idempotency key, so a replay finds its first answer."""

lockouts = codes.lockout_table("giftcards_lockouts")
"""Failed look-ups per card (``card:<id>``) and per credential (``credential:<actor>``)."""

ALL = (keys, batches, cards, events, lockouts)

__all__ = ["ALL", "batches", "cards", "events", "keys", "lockouts"]
