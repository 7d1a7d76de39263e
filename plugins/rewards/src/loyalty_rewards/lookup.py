"""Finding a voucher by its code without helping anyone guess, as gift cards do.

The look-up runs in a transaction of its own that always commits, so failed attempts count
even when the request that made them fails. Every wrong code gives the same answer
(NOT_FOUND, same message and field), whether it is malformed, well formed, or a pool code not
handed out yet, and counts against the caller's credential; a right code counts against
nothing. Once the credential holds ``max_failed_attempts`` it is locked for
``lockout_minutes``: VOUCHER_LOCKED. Unlike a gift card (code and PIN), a voucher has no
second secret, so a wrong guess names no voucher to lock: the credential is what a guesser
wears down. The counter is the SDK's (``codes.Lockout``) over ``rewards_lockouts``, in
PostgreSQL, so it holds across every gateway instance, and it reserves an attempt before
looking, so concurrent guesses cannot run past it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from loyalty_core.sdk import Database, ErrorCode, LoyaltyError, NotFound, codes
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_rewards.keys import tenant_keys
from loyalty_rewards.models import Voucher
from loyalty_rewards.repository import voucher_from_row
from loyalty_rewards.settings import RewardSettings
from loyalty_rewards.tables import lockouts, vouchers
from loyalty_rewards.vouchers import normalised

NO_MATCH = "no voucher matches this code"


class VoucherLocked(LoyaltyError):
    """Too many failed look-ups by this credential, for now."""

    code = ErrorCode.VOUCHER_LOCKED


async def find(
    database: Database,
    tenant_id: uuid.UUID,
    *,
    actor: str,
    code: str,
    settings: RewardSettings,
    now: datetime,
) -> Voucher:
    """The voucher ``code`` names, as the look-up read it (a till checking it needs nothing
    more, so no second read), or raise NotFound / VoucherLocked."""
    async with database.tenant_transaction(tenant_id) as conn:
        outcome = await _attempt(conn, tenant_id, actor, code, settings, now)
    if isinstance(outcome, LoyaltyError):
        raise outcome
    return outcome


async def _attempt(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    actor: str,
    code: str,
    settings: RewardSettings,
    now: datetime,
) -> Voucher | LoyaltyError:
    """Count, look, settle; the error is returned, not raised, so the counts commit."""
    counter = codes.Lockout(lockouts, settings.max_failed_attempts, settings.lockout)
    credential = codes.credential_subject(actor)
    if not await counter.reserve(conn, tenant_id, credential, now):
        return VoucherLocked("too many failed voucher look-ups; try again later", field="code")
    key = (await tenant_keys(conn, tenant_id)).hashing
    row = (
        await conn.execute(
            select(vouchers).where(
                vouchers.c.tenant_id == tenant_id,
                vouchers.c.code_hash == codes.digest(key, normalised(code)),
                vouchers.c.status != "available",  # a pool code not handed out is no voucher
            )
        )
    ).first()
    if row is None:
        await counter.failed(conn, tenant_id, credential, now)
        return NotFound(NO_MATCH, field="code")
    await counter.succeeded(conn, tenant_id, credential)
    return voucher_from_row(row)


__all__ = ["NO_MATCH", "VoucherLocked", "find"]
