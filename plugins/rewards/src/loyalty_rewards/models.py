"""Frozen read models the services return and the schema shows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class RewardText:
    """A reward as a member reads it in one locale (``de-DE``, ``en``)."""

    locale: str
    title: str
    description: str | None = None
    image_url: str | None = None


@dataclass(frozen=True)
class Reward:
    id: uuid.UUID
    name: str
    kind: str
    active: bool
    redeemable: bool
    asset_code: str
    points: int
    money_amount: int | None
    money_currency: str | None
    stock: int | None
    member_limit: int | None
    member_limit_days: int | None
    segment: str | None
    valid_from: datetime | None
    valid_until: datetime | None
    cancel_window_minutes: int
    texts: tuple[RewardText, ...]
    params: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    segment_failures: int = 0
    segment_error: str | None = None
    segment_failed_at: datetime | None = None

    def available_at(self, now: datetime) -> bool:
        """Whether the reward may be given now: active and inside its validity window."""
        return (
            self.active
            and (self.valid_from is None or self.valid_from <= now)
            and (self.valid_until is None or now < self.valid_until)
        )


@dataclass(frozen=True)
class Redemption:
    id: uuid.UUID
    reward_id: uuid.UUID
    member_id: uuid.UUID
    status: str
    fulfilment: str | None
    points: int
    asset_code: str
    money_amount: int | None
    money_currency: str | None
    payment_reference: str | None
    spend_transaction_id: uuid.UUID | None
    give_back_transaction_id: uuid.UUID | None
    issued_reference: str | None
    delivery_address: str | None
    tracking: str | None
    request_hash: str
    actor: str
    cause: str
    created_at: datetime
    cancelled_at: datetime | None


@dataclass(frozen=True)
class Voucher:
    id: uuid.UUID
    last_four: str
    member_id: uuid.UUID | None
    reward_id: uuid.UUID | None
    redemption_id: uuid.UUID | None
    pool_id: uuid.UUID | None
    discount_kind: str
    amount: int | None
    percent: int | None
    item_sku: str | None
    currency: str | None
    min_basket: int | None
    max_uses: int | None
    uses: int
    status: str
    expires_at: datetime | None
    reserved_by: str | None
    reserved_until: datetime | None
    created_at: datetime

    def reserved_for_other(self, checkout: str | None, now: datetime) -> bool:
        """Whether another checkout holds the code now (a lapsed hold holds nothing)."""
        return (
            self.reserved_until is not None
            and self.reserved_until > now
            and self.reserved_by != checkout
        )


@dataclass(frozen=True)
class Entitlement:
    id: uuid.UUID
    member_id: uuid.UUID
    name: str
    starts_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    redemption_id: uuid.UUID | None
    source: str


@dataclass(frozen=True)
class Redeemed:
    """A redemption with what it issued: the voucher and its code (shown to whoever redeemed
    it, and again to the member), or the entitlement. ``replayed`` when the key was known."""

    redemption: Redemption
    voucher: Voucher | None = None
    code: str | None = None
    entitlement: Entitlement | None = None
    replayed: bool = False


@dataclass(frozen=True)
class BasketItem:
    sku: str
    quantity: int
    unit_price: int


@dataclass(frozen=True)
class Basket:
    """What a till is about to sell: total ``amount`` in minor units of ``currency``."""

    amount: int
    currency: str
    items: tuple[BasketItem, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Check:
    """What a voucher would do for a basket: its ``discount``, or why it may not be used
    (``refusal``, one of :data:`loyalty_rewards.vouchers.REFUSALS`, and a ``reason``)."""

    voucher: Voucher | None
    discount: int = 0
    refusal: str | None = None
    reason: str | None = None

    @property
    def valid(self) -> bool:
        return self.refusal is None


@dataclass(frozen=True)
class VoucherUse:
    id: uuid.UUID
    voucher_id: uuid.UUID
    discount: int
    basket_amount: int
    currency: str
    checkout: str | None
    created_at: datetime


@dataclass(frozen=True)
class Used:
    voucher: Voucher
    use: VoucherUse
    replayed: bool


@dataclass(frozen=True)
class LineError:
    line: int
    message: str


@dataclass(frozen=True)
class PoolImport:
    """The result of a pool import: counts, and per line what was wrong. Nothing is imported
    unless every line was right (``pool_id`` is then set); ``replayed`` when the import's
    idempotency key had already imported this file."""

    pool_id: uuid.UUID | None
    name: str
    lines: int
    imported: int
    duplicates: int
    rejected: int
    errors: tuple[LineError, ...]
    replayed: bool = False


__all__ = [
    "Basket",
    "BasketItem",
    "Check",
    "Entitlement",
    "LineError",
    "PoolImport",
    "Redeemed",
    "Redemption",
    "Reward",
    "RewardText",
    "Used",
    "Voucher",
    "VoucherUse",
]
