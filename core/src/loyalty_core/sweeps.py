"""Sweeping due work in a job: expiries, releases, lapsed authorisations.

Every such job does the same: read a batch of due ids, then handle each in a short
transaction of its own (one thing's locks held for one thing's time, and a replica running
the same job at once only finds less to do), until a batch comes back short or made no
progress: what is still due then waits for a later run (a lot or card whose value is held
for a payment, say), rather than being read again forever.

One thing that fails (a row no code foresaw) fails alone: it is logged with its stack and
left for a later run, the others are handled, and the sweep then raises :class:`SweepFailed`
so the job's run counts as failed (``loyalty_job_runs_total{outcome="failed"}``). Without
that, the first due thing failing would stop every run of the job for the tenant, forever.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.db.engine import Database

T = TypeVar("T")

BATCH = 500

_log = logging.getLogger(__name__)


async def sweep(
    database: Database,
    tenant_id: uuid.UUID,
    due: Callable[[AsyncConnection, int], Awaitable[Sequence[T]]],
    handle: Callable[[AsyncConnection, T], Awaitable[bool]],
    *,
    batch: int = BATCH,
) -> int:
    """Handle what ``due`` returns (at most ``batch`` at a time), each in a transaction of
    its own; ``handle`` says whether it did something. How many were handled; raises
    :class:`SweepFailed` after the others when some failed."""
    done = 0
    failed: list[T] = []
    while True:
        async with database.tenant_transaction(tenant_id) as conn:
            found = await due(conn, batch)
        handled = 0
        for item in found:
            if item in failed:  # still due, since it failed: not again in this run
                continue
            try:
                async with database.tenant_transaction(tenant_id) as conn:
                    handled += bool(await handle(conn, item))
            except Exception:
                _log.exception("sweeping %s of tenant %s failed", item, tenant_id)
                failed.append(item)
        done += handled
        if len(found) < batch or handled == 0:
            break
    if failed:
        raise SweepFailed(done, len(failed))
    return done


class SweepFailed(Exception):
    """Some things of a sweep failed (each logged); the others were handled."""

    def __init__(self, done: int, failed: int) -> None:
        super().__init__(f"{failed} failed, {done} handled")
        self.done = done
        self.failed = failed


__all__ = ["BATCH", "SweepFailed", "sweep"]
