"""Money collectors: how a points-plus-money reward knows its money was paid.

Rewards takes no money itself: a till collects it, and the module that collects money at
tills (the payment module) offers a collector through ``loyalty_rewards_collectors``. The
redemption names the till's payment (``paymentReference``); the collector checks, in the
redemption's transaction, that it is that member's payment, captured, in the reward's
currency and for at least its amount, and locks it, so that two redemptions naming one
payment run one after the other and the second finds it used.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncConnection

HOOK = "loyalty_rewards_collectors"


@runtime_checkable
class MoneyCollector(Protocol):
    """What a module that collects money offers: ``collected`` returns when the payment
    ``reference`` paid ``amount`` minor units of ``currency`` for the member (and holds it
    locked until the transaction ends); it raises the module's ``LoyaltyError`` otherwise
    (NOT_FOUND on ``paymentReference`` for a payment it does not know)."""

    name: str

    async def collected(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        reference: str,
        *,
        amount: int,
        currency: str,
        member_id: uuid.UUID,
    ) -> None: ...


def module_collectors(extensions: Iterable[tuple[str, Any]]) -> list[MoneyCollector]:
    """The collectors the tenant's enabled modules declared (``registry.extensions(HOOK,
    enabled)``), in module order; what does not satisfy the contract is left out."""
    return [
        collector
        for _module, declared in extensions
        for collector in (declared if isinstance(declared, list | tuple) else (declared,))
        if isinstance(collector, MoneyCollector)
    ]


__all__ = ["HOOK", "MoneyCollector", "module_collectors"]
