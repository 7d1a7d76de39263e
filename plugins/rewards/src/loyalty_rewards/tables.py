"""The module's tables, all named ``rewards_*``, on the shared metadata of the SDK.

Every table starts with ``tenant_id`` (primary and foreign keys), and the migration secures
each with row-level security. Points are not here: a redemption's spend and its give-back are
ledger transactions the redemption row names. A reward's ``stock`` is a counter the
redemption decrements with a conditional UPDATE, so it is exact under concurrency.
"""

from __future__ import annotations

from loyalty_core.sdk import codes, created_at_column, id_column, metadata, tenant_id_column
from sqlalchemy import (
    BigInteger,
    Boolean,
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
from sqlalchemy.dialects.postgresql import JSONB, UUID

keys = Table(
    "rewards_keys",
    metadata,
    tenant_id_column(),
    Column("secret", LargeBinary, nullable=False),
    created_at_column(),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
)
"""One random secret per tenant; the keys vouchers are hashed and sealed with derive from it."""

rewards = Table(
    "rewards_rewards",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("name", String(200), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("redeemable", Boolean, nullable=False, server_default=text("true")),
    Column("asset_code", String(64), nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("money_amount", BigInteger),
    Column("money_currency", String(3)),
    Column("stock", Integer),
    Column("member_limit", Integer),
    Column("member_limit_days", Integer),
    Column("segment", Text),
    Column("segment_failures", BigInteger, nullable=False, server_default="0"),
    Column("segment_error", Text),
    Column("segment_failed_at", DateTime(timezone=True)),
    Column("valid_from", DateTime(timezone=True)),
    Column("valid_until", DateTime(timezone=True)),
    Column("cancel_window_minutes", Integer, nullable=False, server_default="0"),
    Column("texts", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("params", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    created_at_column(),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("points >= 0", name="points"),
    CheckConstraint("stock IS NULL OR stock >= 0", name="stock"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
)
"""The catalogue. ``kind`` is VOUCHER, ENTITLEMENT, PHYSICAL or one a module registers;
``params`` what the kind issues (the voucher's discount, the entitlement's name and days).
``segment`` a condition over the member saying who sees it; ``segment_failures`` how often it
failed at run time (hiding the reward), with the last error.
``stock`` NULL is unlimited; ``redeemable`` false keeps a reward for campaigns only."""

redemptions = Table(
    "rewards_redemptions",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("reward_id", UUID(as_uuid=True), nullable=False),
    Column("member_id", UUID(as_uuid=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("fulfilment", String(16)),
    Column("points", BigInteger, nullable=False),
    Column("asset_code", String(64), nullable=False),
    Column("money_amount", BigInteger),
    Column("money_currency", String(3)),
    Column("payment_reference", String(200)),
    Column("spend_transaction_id", UUID(as_uuid=True)),
    Column("give_back_transaction_id", UUID(as_uuid=True)),
    Column("issued_reference", String(200)),
    Column("delivery_address", Text),
    Column("tracking", String(200)),
    Column("idempotency_key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("cause", String(200), nullable=False),
    created_at_column(),
    Column("cancelled_at", DateTime(timezone=True)),
    CheckConstraint("status IN ('issued', 'cancelled')", name="status"),
    CheckConstraint(
        "fulfilment IS NULL OR fulfilment IN ('pending', 'shipped', 'delivered', 'cancelled')",
        name="fulfilment",
    ),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
    ForeignKeyConstraint(
        ["tenant_id", "reward_id"], ["rewards_rewards.tenant_id", "rewards_rewards.id"]
    ),
    ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_rewards_redemptions_key"),
    Index("ix_rewards_redemptions_member", "tenant_id", "member_id", "reward_id", "id"),
)
"""One redemption (by points, or given by a campaign): what it cost (with the till's payment
that collected the money of a points-plus-money reward), the spend that paid for it, what it
issued, and for PHYSICAL rewards the fulfilment state. ``idempotency_key`` makes a retried
request (or a replayed campaign trigger) find its first answer."""

pools = Table(
    "rewards_pools",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("name", String(200), nullable=False),
    Column("size", Integer, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("idempotency_key", String(200)),
    Column("request_hash", String(64)),
    created_at_column(),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_rewards_pools_idempotency_key"),
)
"""An imported batch of codes (a partner's or a printer's), handed out by a VOUCHER reward.
``idempotency_key`` (when the import gave one) makes a retried import answer this pool."""

vouchers = Table(
    "rewards_vouchers",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("code_hash", String(64), nullable=False),
    Column("last_four", String(4), nullable=False),
    Column("code_sealed", LargeBinary),
    Column("member_id", UUID(as_uuid=True)),
    Column("reward_id", UUID(as_uuid=True)),
    Column("redemption_id", UUID(as_uuid=True)),
    Column("pool_id", UUID(as_uuid=True)),
    Column("discount_kind", String(16), nullable=False),
    Column("amount", BigInteger),
    Column("percent", Integer),
    Column("item_sku", String(100)),
    Column("currency", String(3)),
    Column("min_basket", BigInteger),
    Column("max_uses", Integer),
    Column("uses", Integer, nullable=False, server_default="0"),
    Column("status", String(16), nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("reserved_by", String(200)),
    Column("reserved_until", DateTime(timezone=True)),
    created_at_column(),
    CheckConstraint(
        "status IN ('available', 'active', 'redeemed', 'cancelled', 'expired')", name="status"
    ),
    CheckConstraint("discount_kind IN ('amount', 'percent', 'item')", name="discount_kind"),
    CheckConstraint("max_uses IS NULL OR uses <= max_uses", name="uses"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
    ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
    ForeignKeyConstraint(["tenant_id", "pool_id"], ["rewards_pools.tenant_id", "rewards_pools.id"]),
    UniqueConstraint("tenant_id", "code_hash", name="uq_rewards_vouchers_code_hash"),
    Index("ix_rewards_vouchers_member", "tenant_id", "member_id", "id"),
    Index(
        "ix_rewards_vouchers_pool_available",
        "tenant_id",
        "pool_id",
        "id",
        postgresql_where=text("status = 'available'"),
    ),
    Index(
        "ix_rewards_vouchers_reserved",
        "tenant_id",
        "reserved_until",
        postgresql_where=text("reserved_until IS NOT NULL"),
    ),
    Index(
        "ix_rewards_vouchers_expiring",
        "tenant_id",
        "expires_at",
        postgresql_where=text("status = 'active' AND expires_at IS NOT NULL"),
    ),
)
"""A voucher: its code as a keyed hash and its last four symbols (sealed too while a member
owns it, so the member can show it), its discount, its uses and the checkout holding it.
``available`` is a pool code not handed out yet; ``active`` is usable."""

voucher_uses = Table(
    "rewards_voucher_uses",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("voucher_id", UUID(as_uuid=True), nullable=False),
    Column("discount", BigInteger, nullable=False),
    Column("basket_amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("checkout", String(200)),
    Column("idempotency_key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("actor", String(200), nullable=False),
    created_at_column(),
    ForeignKeyConstraint(
        ["tenant_id", "voucher_id"], ["rewards_vouchers.tenant_id", "rewards_vouchers.id"]
    ),
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_rewards_voucher_uses_key"),
    Index("ix_rewards_voucher_uses_voucher", "tenant_id", "voucher_id"),
)
"""Each use of a voucher at a till, with the discount it gave. The row is claimed by its
idempotency key before the voucher is taken, then given its discount."""

entitlements = Table(
    "rewards_entitlements",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("member_id", UUID(as_uuid=True), nullable=False),
    Column("name", String(100), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Column("redemption_id", UUID(as_uuid=True)),
    Column("source", String(200), nullable=False),
    created_at_column(),
    ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
    Index("ix_rewards_entitlements_member", "tenant_id", "member_id", "name"),
)
"""An unlocked service (free delivery, early access) a member holds from ``starts_at`` until
``expires_at`` (NULL: for good) unless revoked (a cancelled redemption)."""

budgets = Table(
    "rewards_budgets",
    metadata,
    tenant_id_column(),
    Column("name", String(250), primary_key=True, nullable=False),
    Column("budget", Integer, nullable=False),
    Column("awarded", Integer, nullable=False, server_default="0"),
    CheckConstraint("awarded <= budget", name="awarded"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
)
"""How many surprise rewards a campaign may still give (``surprise:<campaign>:<reward>``);
the draw takes one with a conditional UPDATE, so the budget is never exceeded."""

lockouts = codes.lockout_table("rewards_lockouts")
"""Failed voucher look-ups per credential (``credential:<actor>``): a wrong voucher code
names no voucher, so the caller is what a guesser wears down."""

ALL = (keys, rewards, redemptions, pools, vouchers, voucher_uses, entitlements, budgets, lockouts)

__all__ = [
    "ALL",
    "budgets",
    "entitlements",
    "keys",
    "lockouts",
    "pools",
    "redemptions",
    "rewards",
    "voucher_uses",
    "vouchers",
]
