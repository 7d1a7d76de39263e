"""What a reward issues: the built-in kinds' parameters, and the contract of a module's kind.

Built in: ``VOUCHER`` (a discount code: :class:`VoucherTemplate`), ``ENTITLEMENT`` (an
unlocked service: :class:`EntitlementTemplate`) and ``PHYSICAL`` (a thing to ship: the
redemption carries the fulfilment state). Any other kind comes from a module through the
``loyalty_rewards_kinds`` hook (:mod:`loyalty_rewards.hookspecs`) as an object satisfying
:class:`RewardKind`; it is offered only to tenants that enabled that module, and runs in the
redemption's transaction, so what it issues commits or rolls back with the points.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field, model_validator
from sqlalchemy.ext.asyncio import AsyncConnection

VOUCHER = "VOUCHER"
ENTITLEMENT = "ENTITLEMENT"
PHYSICAL = "PHYSICAL"
BUILT_IN = (VOUCHER, ENTITLEMENT, PHYSICAL)
HOOK = "loyalty_rewards_kinds"


class DiscountKind(StrEnum):
    AMOUNT = "amount"
    PERCENT = "percent"
    ITEM = "item"


class VoucherTemplate(BaseModel):
    """The voucher a VOUCHER reward (or a campaign) issues: a fixed ``amount`` off (minor
    units of ``currency``), ``percent`` off, or one ``item_sku`` free; at most ``max_uses``
    uses (None: any number), valid ``valid_days`` (None: the tenant's setting). With
    ``pool_id`` the code comes from an imported pool instead of being generated."""

    discount: DiscountKind
    amount: int | None = Field(None, gt=0, le=2**31 - 1)
    percent: int | None = Field(None, ge=1, le=100)
    item_sku: str | None = Field(None, min_length=1, max_length=100)
    currency: str | None = Field(None, pattern="^[A-Z]{3}$")
    min_basket: int | None = Field(None, ge=0, le=2**62)
    max_uses: int | None = Field(1, ge=1, le=1_000_000)
    valid_days: int | None = Field(None, ge=1, le=3_660)
    pool_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _one_discount(self) -> VoucherTemplate:
        needs = {
            DiscountKind.AMOUNT: self.amount is not None and self.currency is not None,
            DiscountKind.PERCENT: self.percent is not None,
            DiscountKind.ITEM: self.item_sku is not None,
        }
        if not needs[self.discount]:
            raise ValueError(
                "an amount discount needs amount and currency, a percent discount percent, "
                "an item discount itemSku"
            )
        return self


class EntitlementTemplate(BaseModel):
    """The service an ENTITLEMENT reward unlocks: the flag ``name`` touchpoints ask for, for
    ``days`` (None: for good)."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9_.-]*$")
    days: int | None = Field(None, ge=1, le=36_600)


@runtime_checkable
class RewardKind(Protocol):
    """A kind of reward a module issues (``name`` in capitals: ``GIFT_CARD``).

    ``check`` validates a reward's ``params`` when the catalogue saves it (raise ValueError
    with a message a retailer can act on). ``issue`` runs in the redemption's transaction and
    returns a reference to what it issued (shown on the redemption); it must be idempotent on
    ``idempotency_key``. ``cancel`` undoes it when the redemption is cancelled (raise
    ValueError when it can no longer be undone, a card already spent from, say).
    """

    name: str
    description: str

    def check(self, params: Mapping[str, Any]) -> None: ...

    async def issue(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        *,
        member_id: uuid.UUID,
        params: Mapping[str, Any],
        module_settings: Mapping[str, BaseModel],
        idempotency_key: str,
        actor: str,
        now: datetime,
    ) -> str: ...

    async def cancel(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        *,
        reference: str,
        module_settings: Mapping[str, BaseModel],
        idempotency_key: str,
        actor: str,
        now: datetime,
    ) -> None: ...


def module_kinds(extensions: Iterable[tuple[str, Any]]) -> dict[str, RewardKind]:
    """The kinds modules declared (``registry.extensions(HOOK, enabled)``: pairs of module
    and declaration), by name; what does not satisfy the contract is left out."""
    found: dict[str, RewardKind] = {}
    for _module, declared in extensions:
        for kind in declared if isinstance(declared, list | tuple) else (declared,):
            if isinstance(kind, RewardKind) and kind.name not in BUILT_IN:
                found[kind.name] = kind
    return found


__all__ = [
    "BUILT_IN",
    "ENTITLEMENT",
    "HOOK",
    "PHYSICAL",
    "VOUCHER",
    "DiscountKind",
    "EntitlementTemplate",
    "RewardKind",
    "VoucherTemplate",
    "module_kinds",
]
