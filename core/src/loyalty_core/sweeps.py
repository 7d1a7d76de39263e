"""Sweeping due work in a job: expiries, releases, lapsed authorisations.

Every such job does the same: read a batch of due ids, then handle each in a short
transaction of its own (one thing's locks held for one thing's time, and a replica running
the same job at once only finds less to do), until a batch comes back short or made no
progress: what is still due then waits for a later run (a lot or card whose value is held
for a payment, say), rather than being read again forever.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.db.engine import Database

T = TypeVar("T")

BATCH = 500


async def sweep(
    database: Database,
    tenant_id: uuid.UUID,
    due: Callable[[AsyncConnection, int], Awaitable[Sequence[T]]],
    handle: Callable[[AsyncConnection, T], Awaitable[bool]],
    *,
    batch: int = BATCH,
) -> int:
    """Handle what ``due`` returns (at most ``batch`` at a time), each in a transaction of
    its own; ``handle`` says whether it did something. How many were handled."""
    done = 0
    while True:
        async with database.tenant_transaction(tenant_id) as conn:
            found = await due(conn, batch)
        handled = 0
        for item in found:
            async with database.tenant_transaction(tenant_id) as conn:
                handled += bool(await handle(conn, item))
        done += handled
        if len(found) < batch or handled == 0:
            return done


__all__ = ["BATCH", "sweep"]
