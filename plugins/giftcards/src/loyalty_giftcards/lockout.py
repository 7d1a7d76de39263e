"""Enumeration protection: failed look-ups counted per card and per credential.

Every look-up first *reserves* an attempt with one atomic upsert, then settles it: a
success gives the reservation back, a failure keeps it and locks the subject once it holds
``max_failed_attempts``. Reserving before looking means concurrent guesses (many requests,
or many aliases) can never run more than the allowed number past the counter, which a
read-check-increment would let them do. A lock lasts ``lockout_minutes``; failures older
than that are forgotten. A success never clears earlier failures, so an attacker holding one
good card cannot interleave it to reset the count on the guesses around it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, case, func, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_giftcards.settings import GiftCardSettings
from loyalty_giftcards.tables import lockouts


def card_subject(card_id: uuid.UUID) -> str:
    return f"card:{card_id}"


def credential_subject(actor: str) -> str:
    return f"credential:{actor}"[:250]


async def reserve(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    subject: str,
    settings: GiftCardSettings,
    now: datetime,
) -> bool:
    """Count an attempt in advance; False when ``subject`` is locked (nothing counted then)."""
    row = lockouts.c
    stale = or_(row.locked_until <= now, row.last_failure_at <= now - settings.lockout)
    statement = (
        pg_insert(lockouts)
        .values(tenant_id=tenant_id, subject=subject, failures=1, last_failure_at=now)
        .on_conflict_do_update(
            index_elements=["tenant_id", "subject"],
            set_={
                "failures": case((stale, 1), else_=lockouts.c.failures + 1),
                "last_failure_at": now,
                "locked_until": case((row.locked_until <= now, None), else_=row.locked_until),
            },
            where=or_(row.locked_until.is_(None), row.locked_until <= now),
        )
        .returning(lockouts.c.failures)
    )
    failures = (await conn.execute(statement)).scalar()
    if failures is None:
        return False
    if failures > settings.max_failed_attempts:  # concurrent guesses past the limit
        await _lock(conn, tenant_id, subject, settings, now)
        return False
    return True


async def succeeded(conn: AsyncConnection, tenant_id: uuid.UUID, subject: str) -> None:
    """Give a reservation back: the look-up was right."""
    await conn.execute(
        update(lockouts)
        .where(lockouts.c.tenant_id == tenant_id, lockouts.c.subject == subject)
        .values(failures=func.greatest(lockouts.c.failures - 1, 0))
    )


async def failed(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    subject: str,
    settings: GiftCardSettings,
    now: datetime,
) -> None:
    """Keep the reservation; lock the subject once it holds the allowed number of failures."""
    await conn.execute(
        update(lockouts)
        .where(
            lockouts.c.tenant_id == tenant_id,
            lockouts.c.subject == subject,
            lockouts.c.failures >= settings.max_failed_attempts,
            lockouts.c.locked_until.is_(None),
        )
        .values(locked_until=now + settings.lockout)
    )


async def _lock(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    subject: str,
    settings: GiftCardSettings,
    now: datetime,
) -> None:
    await conn.execute(
        update(lockouts)
        .where(
            and_(lockouts.c.tenant_id == tenant_id, lockouts.c.subject == subject),
            or_(lockouts.c.locked_until.is_(None), lockouts.c.locked_until <= now),
        )
        .values(locked_until=now + settings.lockout)
    )


__all__ = ["card_subject", "credential_subject", "failed", "reserve", "succeeded"]
