"""The expiry job: authorisations whose time is up release what they hold.

Safe on every replica at once: each payment expires in a short transaction of its own that
locks the payment row and re-checks that it is still authorised and due
(:func:`loyalty_payment.service.expire`); a second run finds nothing to do. A capture that
comes after the time is up fails with PAYMENT_EXPIRED whether or not this job ran yet.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from loyalty_core.sdk import Job, JobContext, sweep
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_payment import offers, service
from loyalty_payment import repository as repo
from loyalty_payment.settings import PaymentSettings


async def expire_payments(context: JobContext) -> int:
    """Expire every due authorisation of the tenant; how many this run expired."""
    tenant_id, now = context.tenant.id, context.now
    assert isinstance(context.settings, PaymentSettings)
    till = offers.till(
        database=context.database,
        registry=context.registry,
        enabled_modules=context.enabled_modules,
        tenant_id=tenant_id,
        settings=context.settings,
        actor="system",
        now=now,
    )

    async def due(conn: AsyncConnection, limit: int) -> list[uuid.UUID]:
        return await repo.due_for_expiry(conn, tenant_id, now, limit)

    async def expire(conn: AsyncConnection, payment_id: uuid.UUID) -> bool:
        return await service.expire(conn, till, payment_id) is not None

    return await sweep(context.database, tenant_id, due, expire)


EXPIRY_JOB = Job(name="payment.expiry", run=expire_payments, interval=timedelta(minutes=1))

__all__ = ["EXPIRY_JOB", "expire_payments"]
