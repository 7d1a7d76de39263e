"""The expiry job: authorisations whose time is up release what they hold.

Safe on every replica at once: each payment expires in a short transaction of its own that
locks the payment row and re-checks that it is still authorised and due
(:func:`loyalty_payment.service.expire`); a second run finds nothing to do. A capture that
comes after the time is up fails with PAYMENT_EXPIRED whether or not this job ran yet.
"""

from __future__ import annotations

from datetime import timedelta

from loyalty_core.sdk import Job, JobContext

from loyalty_payment import offers, service
from loyalty_payment import repository as repo
from loyalty_payment.settings import PaymentSettings

BATCH = 500


async def expire_payments(context: JobContext) -> int:
    """Expire every due authorisation of the tenant; how many this run expired."""
    database, tenant, now = context.database, context.tenant, context.now
    assert isinstance(context.settings, PaymentSettings)
    till = offers.till(
        database=database,
        registry=context.registry,
        enabled_modules=context.enabled_modules,
        tenant_id=tenant.id,
        settings=context.settings,
        actor="system",
        now=now,
    )
    done = 0
    while True:
        async with database.tenant_transaction(tenant.id) as conn:
            due = await repo.due_for_expiry(conn, tenant.id, now, BATCH)
        expired = 0
        for payment_id in due:
            async with database.tenant_transaction(tenant.id) as conn:
                if await service.expire(conn, till, payment_id) is not None:
                    expired += 1
        done += expired
        if len(due) < BATCH or expired == 0:
            return done


EXPIRY_JOB = Job(name="payment.expiry", run=expire_payments, interval=timedelta(minutes=1))

__all__ = ["EXPIRY_JOB", "expire_payments"]
