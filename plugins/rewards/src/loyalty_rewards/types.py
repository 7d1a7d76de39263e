"""The GraphQL types of rewards: what the catalogue, redemptions, vouchers and entitlements
look like on the wire (strawberry types made from the read models)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from loyalty_core.sdk import RequestContext, Role
from strawberry.scalars import JSON
from strawberry.types import Info

from loyalty_rewards import models, vouchers
from loyalty_rewards.keys import tenant_keys


@strawberry.enum(description="Where a redemption stands.")
class RedemptionStatus(Enum):
    ISSUED = "issued"
    CANCELLED = "cancelled"


@strawberry.enum(description="Where a PHYSICAL reward's parcel is.")
class FulfilmentStatus(Enum):
    PENDING = "pending"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


@strawberry.enum(description="A voucher's state; AVAILABLE is a pool code not handed out yet.")
class VoucherStatus(Enum):
    AVAILABLE = "available"
    ACTIVE = "active"
    REDEEMED = "redeemed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


@strawberry.enum(description="What a voucher takes off: an amount, a percentage, or one item.")
class DiscountKind(Enum):
    AMOUNT = "amount"
    PERCENT = "percent"
    ITEM = "item"


@strawberry.enum(description="Why a voucher may not be used for a basket.")
class VoucherRefusal(Enum):
    NOT_FOUND = "NOT_FOUND"
    LOCKED = "LOCKED"
    NOT_ACTIVE = "NOT_ACTIVE"
    EXPIRED = "EXPIRED"
    USED_UP = "USED_UP"
    RESERVED = "RESERVED"
    CURRENCY = "CURRENCY"
    BASKET_TOO_SMALL = "BASKET_TOO_SMALL"
    ITEM_MISSING = "ITEM_MISSING"


@strawberry.type(description="A reward's title, description and image in one locale.")
class RewardText:
    locale: str
    title: str
    description: str | None
    image_url: str | None

    @classmethod
    def of(cls, text: models.RewardText) -> RewardText:
        return cls(
            locale=text.locale,
            title=text.title,
            description=text.description,
            image_url=text.image_url,
        )


@strawberry.type(description="A reward of the catalogue.")
class Reward:
    id: strawberry.ID
    name: str
    kind: str = strawberry.field(
        description="VOUCHER, ENTITLEMENT, PHYSICAL, or a kind a module registers (GIFT_CARD)."
    )
    active: bool
    redeemable: bool = strawberry.field(description="False: given by campaigns only.")
    asset: str = strawberry.field(description="The code of the points asset it costs.")
    points: int
    money_amount: int | None = strawberry.field(description="Money due beside the points.")
    money_currency: str | None
    stock: int | None = strawberry.field(description="What is left; null: unlimited.")
    member_limit: int | None
    member_limit_days: int | None
    valid_from: datetime | None
    valid_until: datetime | None
    cancel_window_minutes: int
    segment: str | None = strawberry.field(
        description="Who sees the reward: a condition over the member (tenant admins only)."
    )
    segment_failures: int | None = strawberry.field(
        description="How often the segment's condition failed for a member, hiding the "
        "reward (tenant admins only)."
    )
    segment_error: str | None = strawberry.field(
        description="The condition's last failure (tenant admins only)."
    )
    texts: list[RewardText]
    params: dict[str, Any] = strawberry.field(
        graphql_type=JSON,
        description="What the kind issues: the voucher's discount, the entitlement's name...",
    )
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="The text for ``locale``, else the first one (or null).")
    def text(self, locale: str) -> RewardText | None:
        language = locale.split("-")[0]
        for candidate in (
            *(t for t in self.texts if t.locale == locale),
            *(t for t in self.texts if t.locale.split("-")[0] == language),
        ):
            return candidate
        return self.texts[0] if self.texts else None

    @classmethod
    def of(cls, reward: models.Reward, *, admin: bool = True) -> Reward:
        """The reward for a tenant admin (``admin``), or without its audience for others."""
        return cls(
            id=strawberry.ID(str(reward.id)),
            name=reward.name,
            kind=reward.kind,
            active=reward.active,
            redeemable=reward.redeemable,
            asset=reward.asset_code,
            points=reward.points,
            money_amount=reward.money_amount,
            money_currency=reward.money_currency,
            stock=reward.stock,
            member_limit=reward.member_limit,
            member_limit_days=reward.member_limit_days,
            valid_from=reward.valid_from,
            valid_until=reward.valid_until,
            cancel_window_minutes=reward.cancel_window_minutes,
            segment=reward.segment if admin else None,
            segment_failures=reward.segment_failures if admin else None,
            segment_error=reward.segment_error if admin else None,
            texts=[RewardText.of(text) for text in reward.texts],
            params=reward.params,
            created_at=reward.created_at,
            updated_at=reward.updated_at,
        )


@strawberry.type(description="A voucher: a code worth a discount, single or multi use.")
class Voucher:
    id: strawberry.ID
    last_four: str
    member_id: strawberry.ID | None
    reward_id: strawberry.ID | None
    pool_id: strawberry.ID | None
    discount: DiscountKind
    amount: int | None
    percent: int | None
    item_sku: str | None
    currency: str | None
    min_basket: int | None
    max_uses: int | None
    uses: int
    status: VoucherStatus
    expires_at: datetime | None
    reserved_until: datetime | None
    created_at: datetime

    @strawberry.field(
        description="The full code, for the member who owns the voucher (null for anyone else)."
    )
    async def code(self, info: Info[RequestContext, None]) -> str | None:
        principal = info.context.principal
        if principal is None or principal.role is not Role.MEMBER or self.member_id is None:
            return None
        if str(principal.member_id) != str(self.member_id):
            return None
        tenant_id, voucher_id = info.context.tenant_id, _uuid(self.id)
        async with info.context.read() as conn:
            sealed = await vouchers.sealed_code(conn, tenant_id, voucher_id)
            if sealed is None:
                return None
            return vouchers.reveal(
                await tenant_keys(conn, tenant_id),
                tenant_id,
                voucher_id,
                sealed,
                pooled=self.pool_id is not None,
            )

    @classmethod
    def of(cls, voucher: models.Voucher) -> Voucher:
        return cls(
            id=strawberry.ID(str(voucher.id)),
            last_four=voucher.last_four,
            member_id=_id(voucher.member_id),
            reward_id=_id(voucher.reward_id),
            pool_id=_id(voucher.pool_id),
            discount=DiscountKind(voucher.discount_kind),
            amount=voucher.amount,
            percent=voucher.percent,
            item_sku=voucher.item_sku,
            currency=voucher.currency,
            min_basket=voucher.min_basket,
            max_uses=voucher.max_uses,
            uses=voucher.uses,
            status=VoucherStatus(voucher.status),
            expires_at=voucher.expires_at,
            reserved_until=voucher.reserved_until,
            created_at=voucher.created_at,
        )


@strawberry.type(description="An unlocked service a member holds: ask for it by name.")
class Entitlement:
    id: strawberry.ID
    name: str
    starts_at: datetime
    expires_at: datetime | None = strawberry.field(description="Null: for good.")
    source: str

    @classmethod
    def of(cls, entitlement: models.Entitlement) -> Entitlement:
        return cls(
            id=strawberry.ID(str(entitlement.id)),
            name=entitlement.name,
            starts_at=entitlement.starts_at,
            expires_at=entitlement.expires_at,
            source=entitlement.source,
        )


@strawberry.type(description="A reward redeemed by a member, or given by a campaign.")
class RewardRedemption:
    id: strawberry.ID
    reward_id: strawberry.ID
    member_id: strawberry.ID
    status: RedemptionStatus
    fulfilment: FulfilmentStatus | None = strawberry.field(description="PHYSICAL rewards only.")
    tracking: str | None
    points: int
    asset: str
    money_amount: int | None
    money_currency: str | None
    payment_reference: str | None = strawberry.field(
        description="The till's payment that collected the money of a points-plus-money reward."
    )
    spend_transaction_id: strawberry.ID | None
    give_back_transaction_id: strawberry.ID | None
    issued: str | None = strawberry.field(description="What was issued (voucher:<id>...).")
    cause: str
    created_at: datetime
    cancelled_at: datetime | None

    @classmethod
    def of(cls, redemption: models.Redemption) -> RewardRedemption:
        return cls(
            id=strawberry.ID(str(redemption.id)),
            reward_id=strawberry.ID(str(redemption.reward_id)),
            member_id=strawberry.ID(str(redemption.member_id)),
            status=RedemptionStatus(redemption.status),
            fulfilment=None
            if redemption.fulfilment is None
            else FulfilmentStatus(redemption.fulfilment),
            tracking=redemption.tracking,
            points=redemption.points,
            asset=redemption.asset_code,
            money_amount=redemption.money_amount,
            money_currency=redemption.money_currency,
            payment_reference=redemption.payment_reference,
            spend_transaction_id=_id(redemption.spend_transaction_id),
            give_back_transaction_id=_id(redemption.give_back_transaction_id),
            issued=redemption.issued_reference,
            cause=redemption.cause,
            created_at=redemption.created_at,
            cancelled_at=redemption.cancelled_at,
        )


@strawberry.type(description="What a voucher would do for a basket, or why it may not.")
class VoucherValidation:
    valid: bool
    discount: int = strawberry.field(description="Minor units off the basket (0 if invalid).")
    refusal: VoucherRefusal | None
    reason: str | None
    voucher: Voucher | None = strawberry.field(description="Null when no voucher matched.")


@strawberry.type(description="A line of an import that was wrong.")
class PoolLineError:
    line: int
    message: str


def _id(value: Any) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


def _uuid(value: strawberry.ID) -> uuid.UUID:
    return uuid.UUID(str(value))


__all__ = [
    "DiscountKind",
    "Entitlement",
    "FulfilmentStatus",
    "PoolLineError",
    "RedemptionStatus",
    "Reward",
    "RewardRedemption",
    "RewardText",
    "Voucher",
    "VoucherRefusal",
    "VoucherStatus",
    "VoucherValidation",
]
