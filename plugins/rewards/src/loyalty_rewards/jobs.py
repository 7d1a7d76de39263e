"""Jobs: lapsed reservations released, vouchers past their expiry marked expired.

Both are one set-based UPDATE per tenant and run, idempotent and safe on every replica at
once (a second run finds nothing to change). Neither is needed for correctness: the till
checks a reservation's lapse and a voucher's expiry at use time; the jobs keep listings and
``Member.vouchers`` reading what is true.
"""

from __future__ import annotations

from datetime import timedelta

from loyalty_core.sdk import Job, JobContext

from loyalty_rewards import vouchers


async def release_reservations(context: JobContext) -> int:
    async with context.database.tenant_transaction(context.tenant.id) as conn:
        return await vouchers.release_lapsed(conn, context.tenant.id, context.now)


async def expire_vouchers(context: JobContext) -> int:
    async with context.database.tenant_transaction(context.tenant.id) as conn:
        return await vouchers.expire_due(conn, context.tenant.id, context.now)


RESERVATIONS_JOB = Job(
    name="rewards.reservations", run=release_reservations, interval=timedelta(minutes=1)
)
EXPIRY_JOB = Job(name="rewards.voucher_expiry", run=expire_vouchers, interval=timedelta(hours=1))

__all__ = ["EXPIRY_JOB", "RESERVATIONS_JOB", "expire_vouchers", "release_reservations"]
