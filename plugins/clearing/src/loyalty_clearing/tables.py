"""The module's tables, all named ``clearing_*``, on the shared metadata of the SDK.

Money is not here: every position lives in the core ledger (a partner's clearing account
``clearing:partner:<id>``, the operator's clearing counter-account, the rounding account).
``clearing_movements`` is the module's explanation of each ledger transaction it posted:
which partner, how many points at which rate, and the statement it landed in.
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
    Numeric,
    String,
    Table,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

partners = Table(
    "clearing_partners",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("name", String(200), nullable=False),
    Column("roles", ARRAY(String(16)), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("billing", String(16), nullable=False, server_default="postpaid"),
    Column("credit_limit", BigInteger),
    Column("reorder_threshold", BigInteger),
    Column("reorder_alerted_at", DateTime(timezone=True)),
    Column("contacts", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("created_by", String(200), nullable=False),
    created_at_column(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    CheckConstraint("status IN ('active', 'suspended', 'ended')", name="status"),
    CheckConstraint("billing IN ('postpaid', 'prepaid')", name="billing"),
    CheckConstraint("credit_limit IS NULL OR credit_limit >= 0", name="credit_limit"),
    CheckConstraint("reorder_threshold IS NULL OR reorder_threshold >= 0", name="reorder"),
    CheckConstraint("cardinality(roles) BETWEEN 1 AND 2", name="roles"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
    UniqueConstraint("tenant_id", "name", name="uq_clearing_partners_name"),
)
"""A coalition partner: its roles (issuer, acceptor), billing currency and type, contacts
(the partner's accounting people, not members) and status. ``reorder_alerted_at``: when the
points left in its blocks last crossed below ``reorder_threshold``."""

partner_keys = Table(
    "clearing_partner_keys",
    metadata,
    tenant_id_column(),
    Column("api_key_id", UUID(as_uuid=True), nullable=False, primary_key=True),
    Column("partner_id", UUID(as_uuid=True), nullable=False),
    created_at_column(),
    ForeignKeyConstraint(
        ["tenant_id", "partner_id"], ["clearing_partners.tenant_id", "clearing_partners.id"]
    ),
    ForeignKeyConstraint(["tenant_id", "api_key_id"], ["api_keys.tenant_id", "api_keys.id"]),
)
"""Which partner an API key belongs to: what its events and redemptions are attributed to.
Written once, with the key, so a key is never seen before its binding."""

rate_cards = Table(
    "clearing_rate_cards",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("partner_id", UUID(as_uuid=True), nullable=False),
    Column("asset_code", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("effective_from", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    Column("issue_price", Numeric(18, 8), nullable=False),
    Column("redeem_reimbursement", Numeric(18, 8), nullable=False),
    Column("fee_percent", Numeric(7, 4), nullable=False, server_default="0"),
    Column("fee_fixed", BigInteger, nullable=False, server_default="0"),
    Column("actor", String(200), nullable=False),
    created_at_column(),
    CheckConstraint("issue_price >= 0 AND redeem_reimbursement >= 0", name="rates"),
    CheckConstraint("fee_percent >= 0 AND fee_percent <= 100 AND fee_fixed >= 0", name="fees"),
    ForeignKeyConstraint(
        ["tenant_id", "partner_id"], ["clearing_partners.tenant_id", "clearing_partners.id"]
    ),
    UniqueConstraint(
        "tenant_id",
        "partner_id",
        "asset_code",
        "currency",
        "version",
        name="uq_clearing_rate_cards_version",
    ),
    Index(
        "ix_clearing_rate_cards_in_effect",
        "tenant_id",
        "partner_id",
        "asset_code",
        "currency",
        "effective_from",
    ),
)
"""Versioned rate cards, never edited: a new version with its own ``effective_from``. The
card in effect at a moment is the latest ``effective_from`` at or before it (the highest
version among equals). Prices are per point, in the currency's major unit."""

point_blocks = Table(
    "clearing_point_blocks",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("partner_id", UUID(as_uuid=True), nullable=False),
    Column("asset_code", String(32), nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    Column("price", BigInteger, nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("idempotency_key", String(200), nullable=False),
    Column("actor", String(200), nullable=False),
    created_at_column(),
    CheckConstraint("points > 0 AND remaining >= 0 AND remaining <= points", name="remaining"),
    CheckConstraint("price >= 0", name="price"),
    ForeignKeyConstraint(
        ["tenant_id", "partner_id"], ["clearing_partners.tenant_id", "clearing_partners.id"]
    ),
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_clearing_point_blocks_key"),
    Index(
        "ix_clearing_point_blocks_draw",
        "tenant_id",
        "partner_id",
        "asset_code",
        text("expires_at ASC NULLS LAST"),
        "id",
        postgresql_where=text("remaining > 0"),
    ),
)
"""Points a prepaid partner bought in advance; issuance draws the first-expiring first and
a reversal gives back to the block it drew from."""

movements = Table(
    "clearing_movements",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("partner_id", UUID(as_uuid=True), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("asset_code", String(32)),
    Column("points", BigInteger, nullable=False, server_default="0"),
    Column("currency", String(3), nullable=False),
    Column("rate", Numeric(18, 8)),
    Column("exact_amount", Numeric(30, 10), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("transaction_id", UUID(as_uuid=True)),
    Column("event_id", UUID(as_uuid=True)),
    Column("rate_card_id", UUID(as_uuid=True)),
    Column("block_id", UUID(as_uuid=True)),
    Column("cause", String(200), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("statement_id", UUID(as_uuid=True)),
    Column("origin_id", UUID(as_uuid=True)),
    created_at_column(),
    CheckConstraint(
        "kind IN ('issued', 'redeemed', 'reversal', 'fee', 'adjustment', 'block', 'rounding',"
        " 'funded')",
        name="kind",
    ),
    ForeignKeyConstraint(
        ["tenant_id", "partner_id"], ["clearing_partners.tenant_id", "clearing_partners.id"]
    ),
    Index("ix_clearing_movements_partner", "tenant_id", "partner_id", "id"),
    Index("ix_clearing_movements_event", "tenant_id", "event_id"),
    Index(
        "ix_clearing_movements_origin",
        "tenant_id",
        "origin_id",
        postgresql_where=text("origin_id IS NOT NULL"),
    ),
    Index(
        "ix_clearing_movements_redemption",
        "tenant_id",
        "cause",
        postgresql_where=text("kind = 'redeemed'"),
    ),
    Index(
        "ix_clearing_movements_open",
        "tenant_id",
        "partner_id",
        "occurred_at",
        postgresql_where=text("statement_id IS NULL"),
    ),
    Index(
        "ix_clearing_movements_statement",
        "tenant_id",
        "statement_id",
        postgresql_where=text("statement_id IS NOT NULL"),
    ),
)
"""One line per ledger transaction the module posted for a partner. ``amount`` is the
money in minor units as posted, signed from the partner's side (positive: the operator owes
the partner); ``exact_amount`` is points x rate before rounding. ``statement_id`` is set
once, by the close that claims the line. ``origin_id`` is the line a reversal gives back
(an issuance from one block, a redemption) or a fee was charged on."""

periods = Table(
    "clearing_periods",
    metadata,
    tenant_id_column(),
    Column("starts_on", Date, nullable=False, primary_key=True),
    Column("ends_on", Date, nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("closed_by", String(200), nullable=False),
    created_at_column(),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
)
"""Closed settlement periods (an open period has no row). Insert-only."""

statements = Table(
    "clearing_statements",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("partner_id", UUID(as_uuid=True), nullable=False),
    Column("period_starts_on", Date, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("opening", BigInteger, nullable=False),
    Column("points_issued", BigInteger, nullable=False),
    Column("issued_amount", BigInteger, nullable=False),
    Column("points_redeemed", BigInteger, nullable=False),
    Column("redeemed_amount", BigInteger, nullable=False),
    Column("points_reversed", BigInteger, nullable=False),
    Column("reversals_amount", BigInteger, nullable=False),
    Column("fees_amount", BigInteger, nullable=False),
    Column("adjustments_amount", BigInteger, nullable=False),
    Column("blocks_amount", BigInteger, nullable=False),
    Column("rounding_amount", BigInteger, nullable=False),
    Column("closing", BigInteger, nullable=False),
    Column("residue", Numeric(30, 10), nullable=False),
    Column("lines", Integer, nullable=False),
    created_at_column(),
    ForeignKeyConstraint(
        ["tenant_id", "partner_id"], ["clearing_partners.tenant_id", "clearing_partners.id"]
    ),
    ForeignKeyConstraint(
        ["tenant_id", "period_starts_on"],
        ["clearing_periods.tenant_id", "clearing_periods.starts_on"],
    ),
    UniqueConstraint(
        "tenant_id", "partner_id", "period_starts_on", name="uq_clearing_statements_period"
    ),
)
"""One immutable statement per partner and closed period. ``closing`` = ``opening`` + the
sum of its lines; ``residue`` is the sub-unit rounding carried to the next statement."""

TABLES = (partners, partner_keys, rate_cards, point_blocks, movements, periods, statements)

__all__ = [
    "TABLES",
    "movements",
    "partner_keys",
    "partners",
    "periods",
    "point_blocks",
    "rate_cards",
    "statements",
]
