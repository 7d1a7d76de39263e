"""The module's tables, all named ``partner_offers_*`` and all holding tenant data under
row-level security.

- ``catalogues``: one row per tenant, its ``revision``, bumped by every write to an offer, so
  every gateway knows when its cached index of live offers is stale (one primary-key read,
  joined into the statement that reads the member's activations).
- ``offers``: the catalogue. A partner's offers are keyed by its own ``external_id`` with the
  ``version`` its system last synced (an older version never overwrites a newer one); the
  retailer's own have no partner. ``used`` counts rewards given against ``budget``;
  ``condition_failures`` and ``effect_failures`` count purchases its segment or its rule
  effect failed on (skipped, never fatal).
- ``daily``: rewards given per offer and day, against the offer's ``daily_cap``.
- ``activations``: a member's offer, with the ``terms`` frozen at activation and its window;
  an AUTO offer's row is made at its first redemption (it carries the per-member count).
- ``redemptions``: a reward given for a purchase, with its ledger transaction (an effect's
  first, or none), what refunds took back, and the ``money`` a partner was charged for it
  (minor units of its billing ``currency``, fees included, as clearing told; null for the
  retailer's own); ``reversals``: one row per refund that took a share back, with the money
  credited back to the partner.
"""

from __future__ import annotations

from loyalty_core.sdk import created_at_column, id_column, metadata, tenant_id_column
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

catalogues = Table(
    "partner_offers_catalogues",
    metadata,
    tenant_id_column(),
    Column("revision", BigInteger, nullable=False, server_default="0"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
)

offers = Table(
    "partner_offers_offers",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("partner_id", UUID(as_uuid=True)),
    Column("external_id", String(200)),
    Column("version", BigInteger, nullable=False, server_default="0"),
    Column("status", String(16), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("image_url", String(2000)),
    Column("terms_text", Text, nullable=False, server_default=""),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("activation", String(8), nullable=False),
    Column("terms", JSONB, nullable=False),
    Column("segment", Text, nullable=False, server_default=""),
    Column("condition_failures", Integer, nullable=False, server_default="0"),
    Column("effect_failures", Integer, nullable=False, server_default="0"),
    Column("budget", Integer),
    Column("daily_cap", Integer),
    Column("used", Integer, nullable=False, server_default="0"),
    Column("actor", String(200), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    created_at_column(),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
    CheckConstraint("status IN ('live', 'retired')", name="status"),
    CheckConstraint("activation IN ('clip', 'auto')", name="activation"),
    CheckConstraint("budget IS NULL OR used <= budget", name="within_budget"),
    Index(
        "ix_partner_offers_offers_external",
        "tenant_id",
        "partner_id",
        "external_id",
        unique=True,
        postgresql_nulls_not_distinct=True,
        postgresql_where=text("external_id IS NOT NULL"),
    ),
    Index("ix_partner_offers_offers_live", "tenant_id", postgresql_where=text("status = 'live'")),
)

daily = Table(
    "partner_offers_daily",
    metadata,
    tenant_id_column(),
    Column("offer_id", UUID(as_uuid=True), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("used", Integer, nullable=False),
    ForeignKeyConstraint(
        ["tenant_id", "offer_id"], ["partner_offers_offers.tenant_id", "partner_offers_offers.id"]
    ),
)

activations = Table(
    "partner_offers_activations",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("offer_id", UUID(as_uuid=True), nullable=False),
    Column("member_id", UUID(as_uuid=True), nullable=False),
    Column("state", String(16), nullable=False),
    Column("terms", JSONB, nullable=False),
    Column("partner_id", UUID(as_uuid=True)),
    Column("activated_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("redeemed", Integer, nullable=False, server_default="0"),
    CheckConstraint("state IN ('activated', 'auto', 'hidden')", name="state"),
    ForeignKeyConstraint(
        ["tenant_id", "offer_id"], ["partner_offers_offers.tenant_id", "partner_offers_offers.id"]
    ),
    ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
    UniqueConstraint(
        "tenant_id", "member_id", "offer_id", name="uq_partner_offers_activations_member_offer"
    ),
)

redemptions = Table(
    "partner_offers_redemptions",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("offer_id", UUID(as_uuid=True), nullable=False),
    Column("member_id", UUID(as_uuid=True), nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("partner_id", UUID(as_uuid=True)),
    Column("points", BigInteger, nullable=False),
    Column("reversed", BigInteger, nullable=False, server_default="0"),
    Column("transaction_id", UUID(as_uuid=True)),
    Column("money", BigInteger),
    Column("currency", String(3)),
    Column("day", Date, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    created_at_column(),
    ForeignKeyConstraint(
        ["tenant_id", "offer_id"], ["partner_offers_offers.tenant_id", "partner_offers_offers.id"]
    ),
    UniqueConstraint(
        "tenant_id", "event_id", "offer_id", name="uq_partner_offers_redemptions_event_offer"
    ),
    Index("ix_partner_offers_redemptions_offer", "tenant_id", "offer_id", "day"),
    Index("ix_partner_offers_redemptions_member", "tenant_id", "member_id"),
)

reversals = Table(
    "partner_offers_reversals",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("redemption_id", UUID(as_uuid=True), nullable=False),
    Column("refund_event_id", UUID(as_uuid=True), nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("transaction_id", UUID(as_uuid=True)),
    Column("money", BigInteger),
    Column("day", Date, nullable=False),
    created_at_column(),
    ForeignKeyConstraint(
        ["tenant_id", "redemption_id"],
        ["partner_offers_redemptions.tenant_id", "partner_offers_redemptions.id"],
    ),
    UniqueConstraint(
        "tenant_id",
        "refund_event_id",
        "redemption_id",
        name="uq_partner_offers_reversals_refund",
    ),
)

customers = Table(
    "partner_offers_customers",
    metadata,
    tenant_id_column(),
    Column("partner_id", UUID(as_uuid=True), primary_key=True),
    Column("member_id", UUID(as_uuid=True), primary_key=True),
    Column("first_event_id", UUID(as_uuid=True), nullable=False),
    ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
)
"""Members who bought with a partner (sent with its credential): what "first purchase with
this partner" is checked against."""

TABLES = (
    "partner_offers_catalogues",
    "partner_offers_offers",
    "partner_offers_daily",
    "partner_offers_activations",
    "partner_offers_redemptions",
    "partner_offers_reversals",
    "partner_offers_customers",
)

__all__ = [
    "TABLES",
    "activations",
    "catalogues",
    "customers",
    "daily",
    "offers",
    "redemptions",
    "reversals",
]
