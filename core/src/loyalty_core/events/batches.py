"""Ingesting a batch: each event in a transaction of its own, like ``eventIngest``.

One transaction for a whole batch of 1000 looked simple and was slow and fragile: every
event's savepoint is a subtransaction, and past 64 of them in one transaction PostgreSQL's
snapshots in every other session must look each one up (the subtransaction cache
overflows), so two concurrent batches crawled at a tenth of their speed; and a batch held the
row locks of every member it touched until its end, so two batches over the same members in
different orders deadlocked and failed whole. A transaction per event holds one member's
locks for one event's time: no savepoints, no lock cycles between batches. One that
PostgreSQL still aborts to break a deadlock (an event touching two members, such as a
referral) runs again: it rolled back whole, and events are idempotent anyway.

A batch is therefore not atomic, and never was meant to be (each event succeeds or fails
alone): if the request breaks off midway, the events before the break are written, and
sending the batch again replays them by their external ids and writes the rest.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

from loyalty_core.context import RequestContext
from loyalty_core.errors import LoyaltyError
from loyalty_core.events import service
from loyalty_core.events.models import EventInput, IngestResult
from loyalty_core.ledger.models import Asset
from loyalty_core.modules.dispatch import DomainEvents

ATTEMPTS = 5
RETRYABLE = frozenset({"40P01", "40001"})
"""SQLSTATEs of a transaction PostgreSQL aborted to let another go (deadlock, serialization)."""

T = TypeVar("T")
Outcome = IngestResult | LoyaltyError


async def ingest_batch(
    context: RequestContext,
    items: Sequence[T],
    convert: Callable[[T], EventInput],
    ingestion_of: Callable[[DomainEvents], service.Ingestion],
) -> list[Outcome]:
    """Ingest ``items`` in order; per item its result or the error that refused it alone."""
    assets: dict[str, Asset] = {}  # read once for the whole batch
    return [await _one(context, item, convert, ingestion_of, assets) for item in items]


async def _one(
    context: RequestContext,
    item: T,
    convert: Callable[[T], EventInput],
    ingestion_of: Callable[[DomainEvents], service.Ingestion],
    assets: dict[str, Asset],
) -> Outcome:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with context.write() as (conn, domain_events):
                ingestion = ingestion_of(domain_events)
                ingestion.assets = assets
                return await service.ingest(conn, ingestion, convert(item))
        except LoyaltyError as error:
            return error
        except DBAPIError as error:
            if attempt == ATTEMPTS or getattr(error.orig, "sqlstate", None) not in RETRYABLE:
                raise
            await asyncio.sleep(random.uniform(0, 0.01 * attempt))  # let the other one finish
    raise AssertionError("unreachable")  # pragma: no cover


__all__ = ["ingest_batch"]
