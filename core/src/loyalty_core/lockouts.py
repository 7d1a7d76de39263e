"""Enumeration protection: failed look-ups of secret codes counted per subject, then locked.

A subject is whatever a guesser could wear down: a card or voucher (``card:<id>``), a
credential (``credential:<actor>``). Every look-up first *reserves* an attempt with one
atomic upsert, then settles it: a success gives the reservation back, a failure keeps it and
locks the subject once it holds ``max_failed_attempts``. Reserving before looking means
concurrent guesses (many requests, or many aliases) can never run more than the allowed
number past the counter, which a read-check-increment would let them do. A lock lasts
``duration``; failures older than that are forgotten. A success never clears earlier
failures, so an attacker holding one good code cannot interleave it to reset the count on
the guesses around it.

The counts live in a table of the module's own (:func:`lockout_table`), so each module's
look-ups are counted apart and its rows stay under its own row-level security.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKeyConstraint,
    Integer,
    String,
    Table,
    and_,
    case,
    func,
    or_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.db.metadata import metadata, tenant_id_column


def lockout_table(name: str) -> Table:
    """Declare a module's lock-out table ``name`` (``<module>_lockouts``) on the shared
    metadata: ``tenant_id`` and ``subject`` as its key, the failure count, the last failure
    and the end of the lock. Its migration creates the same columns (see giftcards_0001)."""
    return Table(
        name,
        metadata,
        tenant_id_column(),
        Column("subject", String(250), primary_key=True, nullable=False),
        Column("failures", Integer, nullable=False, server_default="0"),
        Column("last_failure_at", DateTime(timezone=True)),
        Column("locked_until", DateTime(timezone=True)),
        ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
    )


def credential_subject(actor: str) -> str:
    """The subject of the caller's credential (``principal.actor``)."""
    return f"credential:{actor}"[:250]


@dataclass(frozen=True)
class Lockout:
    """The counter over ``table`` (made by :func:`lockout_table`): ``max_failed_attempts``
    failures lock a subject for ``duration``."""

    table: Table
    max_failed_attempts: int
    duration: timedelta

    async def reserve(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, subject: str, now: datetime
    ) -> bool:
        """Count an attempt in advance; False when ``subject`` is locked (nothing counted)."""
        row = self.table.c
        stale = or_(row.locked_until <= now, row.last_failure_at <= now - self.duration)
        statement = (
            pg_insert(self.table)
            .values(tenant_id=tenant_id, subject=subject, failures=1, last_failure_at=now)
            .on_conflict_do_update(
                index_elements=["tenant_id", "subject"],
                set_={
                    "failures": case((stale, 1), else_=row.failures + 1),
                    "last_failure_at": now,
                    "locked_until": case((row.locked_until <= now, None), else_=row.locked_until),
                },
                where=or_(row.locked_until.is_(None), row.locked_until <= now),
            )
            .returning(row.failures)
        )
        failures = (await conn.execute(statement)).scalar()
        if failures is None:
            return False
        if failures > self.max_failed_attempts:  # concurrent guesses past the limit
            await self._lock(conn, tenant_id, subject, now)
            return False
        return True

    async def succeeded(self, conn: AsyncConnection, tenant_id: uuid.UUID, subject: str) -> None:
        """Give a reservation back: the look-up was right."""
        row = self.table.c
        await conn.execute(
            update(self.table)
            .where(row.tenant_id == tenant_id, row.subject == subject)
            .values(failures=func.greatest(row.failures - 1, 0))
        )

    async def failed(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, subject: str, now: datetime
    ) -> None:
        """Keep the reservation; lock the subject once it holds the allowed failures."""
        row = self.table.c
        await conn.execute(
            update(self.table)
            .where(
                row.tenant_id == tenant_id,
                row.subject == subject,
                row.failures >= self.max_failed_attempts,
                row.locked_until.is_(None),
            )
            .values(locked_until=now + self.duration)
        )

    async def _lock(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, subject: str, now: datetime
    ) -> None:
        row = self.table.c
        await conn.execute(
            update(self.table)
            .where(
                and_(row.tenant_id == tenant_id, row.subject == subject),
                or_(row.locked_until.is_(None), row.locked_until <= now),
            )
            .values(locked_until=now + self.duration)
        )


__all__ = ["Lockout", "credential_subject", "lockout_table"]
