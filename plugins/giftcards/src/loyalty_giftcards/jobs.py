"""The expiry job: cards whose time has come give their remainder to breakage.

Safe on every replica at once: each card is expired in a short transaction of its own that
locks the card row and re-checks that it is still active and due (see
:func:`loyalty_giftcards.service.expire`), and the ledger key ``giftcards:expired:<card>``
backs that up. A second run finds nothing left to do. A due card on which a payment holds
value is skipped, not failed: the payment may still capture what it was authorised, and a
later run expires the card once the hold is captured or released.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from loyalty_core.sdk import Job, JobContext, sweep
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_giftcards import repository as repo
from loyalty_giftcards import service


async def expire_cards(context: JobContext) -> int:
    """Expire every due card of the tenant; how many this run expired."""
    tenant_id, now = context.tenant.id, context.now

    async def due(conn: AsyncConnection, limit: int) -> list[uuid.UUID]:
        return await repo.due_for_expiry(conn, tenant_id, now, limit)

    async def expire(conn: AsyncConnection, card_id: uuid.UUID) -> bool:
        return await service.expire(conn, tenant_id, card_id, now=now) is not None

    return await sweep(context.database, tenant_id, due, expire)


EXPIRY_JOB = Job(name="giftcards.expiry", run=expire_cards, interval=timedelta(hours=1))

__all__ = ["EXPIRY_JOB", "expire_cards"]
