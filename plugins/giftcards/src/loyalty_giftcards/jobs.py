"""The expiry job: cards whose time has come give their remainder to breakage.

Safe on every replica at once: each card is expired in a short transaction of its own that
locks the card row and re-checks that it is still active and due (see
:func:`loyalty_giftcards.service.expire`), and the ledger key ``giftcards:expired:<card>``
backs that up. A second run finds nothing left to do. A due card on which a payment holds
value is skipped, not failed: the payment may still capture what it was authorised, and a
later run expires the card once the hold is captured or released.
"""

from __future__ import annotations

from datetime import timedelta

from loyalty_core.sdk import Job, JobContext

from loyalty_giftcards import repository as repo
from loyalty_giftcards import service

BATCH = 500


async def expire_cards(context: JobContext) -> int:
    """Expire every due card of the tenant; how many this run expired."""
    database, tenant, now = context.database, context.tenant, context.now
    done = 0
    while True:
        async with database.tenant_transaction(tenant.id) as conn:
            due = await repo.due_for_expiry(conn, tenant.id, now, BATCH)
        expired = 0
        for card_id in due:
            async with database.tenant_transaction(tenant.id) as conn:
                if await service.expire(conn, tenant.id, card_id, now=now) is not None:
                    expired += 1
        done += expired
        if len(due) < BATCH or expired == 0:
            return done


EXPIRY_JOB = Job(name="giftcards.expiry", run=expire_cards, interval=timedelta(hours=1))

__all__ = ["EXPIRY_JOB", "expire_cards"]
