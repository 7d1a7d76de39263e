"""Ingesting a batch: several members' events at a time, a chunk of them per transaction,
each event succeeding or failing alone.

One transaction for a whole batch of 1000 looked simple and was slow and fragile: every
event's savepoint is a subtransaction, and past 64 of them in one transaction PostgreSQL's
snapshots in every other session must look each one up (the subtransaction cache
overflows), so two concurrent batches crawled at a tenth of their speed; and a batch held the
row locks of every member it touched until its end, so two batches over the same members in
different orders deadlocked and failed whole. A transaction per event then cost a commit
and half a dozen statements per event.

So a batch runs in :data:`LANES` lanes at once, each on a connection of its own: every
member's events go to one lane (members named by identifier are looked up first, all in one
statement), in the order given, so a member's events are ingested in that order. A lane
ingests up to :data:`CHUNK` events in one transaction, set-based and without savepoints
(:mod:`events.chunks`, which takes its locks in one order), and hands back the events that
need one transaction each (replays, refusable campaigns, members not active...), which run
after it, in order, like ``eventIngest``; one that PostgreSQL aborts to break a deadlock runs
again. A refund waits for every event before it and holds back every event after it, since
the purchase it refunds may be anyone's earlier in the batch.

A batch is therefore not atomic, and never was meant to be (each event succeeds or fails
alone): if the request breaks off midway, some events are written, and sending the batch
again replays them by their external ids and writes the rest.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

from loyalty_core.context import RequestContext
from loyalty_core.errors import LoyaltyError
from loyalty_core.events import chunks, requests, service
from loyalty_core.events.builtin import REFUND
from loyalty_core.events.models import EventInput
from loyalty_core.ledger.models import Asset
from loyalty_core.members import repository as members
from loyalty_core.members.service import stored_forms

MAX_BATCH = 1000
"""Events in one batch."""
ATTEMPTS = 5
LANES = 4
"""Events of different members ingested at once, each lane on a connection of its own."""
CHUNK = 250
"""Events of a lane ingested together (``events.chunks``), in one transaction."""

T = TypeVar("T")
Outcome = chunks.Outcome


async def ingest_batch(
    context: RequestContext, items: Sequence[T], convert: Callable[[T], EventInput]
) -> list[Outcome]:
    """Ingest ``items``, each member's in order; per item its result or the error that
    refused it alone."""
    campaigns = requests.campaigns(context)
    ingestion_of = requests.ingestions(context, campaigns)
    events: list[EventInput | LoyaltyError] = []
    for item in items:
        try:
            events.append(convert(item))
        except LoyaltyError as error:
            events.append(error)
    outcomes: list[Outcome | None] = [None] * len(events)
    assets: dict[str, Asset] = {}  # read once for the whole batch
    member_ids = await _member_ids(context, events)
    lanes = [hash(member) % LANES for member in _lane_keys(events, member_ids)]

    async def run(indices: list[int]) -> None:
        for start in range(0, len(indices), CHUNK):
            ready: list[tuple[int, EventInput]] = []
            for index in indices[start : start + CHUNK]:
                event = events[index]
                if isinstance(event, LoyaltyError):
                    outcomes[index] = event
                else:
                    ready.append((index, event))
            chunk = chunks.Chunk(left=[index for index, _ in ready])
            if len(ready) > 1:
                chunk = await chunks.ingest_chunk(
                    context, ready, member_ids, ingestion_of, campaigns
                )
            for index, outcome in chunk.outcomes.items():
                outcomes[index] = outcome
            for index in chunk.left:
                event = events[index]
                assert isinstance(event, EventInput)
                outcomes[index] = await _one(context, event, ingestion_of, assets)

    for segment in _segments(events, lanes):
        async with asyncio.TaskGroup() as group:  # an unexpected error stops the other lanes
            for indices in segment:
                group.create_task(run(indices))
    return [outcome for outcome in outcomes if outcome is not None]


async def _member_ids(
    context: RequestContext, events: Sequence[EventInput | LoyaltyError]
) -> list[uuid.UUID | None]:
    """Each event's member id: as given, or found by its identifier as stored (one
    statement for the batch; a member named by e-mail in two spellings is one member);
    None when unknown."""
    named = stored_forms(
        e.identifier for e in events if isinstance(e, EventInput) and e.identifier is not None
    )
    wanted = [key for key in set(named.values()) if key is not None]
    found: dict[tuple[str, str], uuid.UUID] = {}
    if wanted:
        async with context.database.tenant_read(context.tenant_id) as conn:
            found = await members.ids_by_identifier(conn, context.tenant_id, wanted)
    ids: list[uuid.UUID | None] = []
    for event in events:
        stored = None
        if isinstance(event, EventInput) and event.identifier is not None:
            stored = named[event.identifier]
        if isinstance(event, EventInput) and event.member_id is not None:
            ids.append(event.member_id)
        else:
            ids.append(found.get(stored) if stored is not None else None)
    return ids


def _lane_keys(
    events: Sequence[EventInput | LoyaltyError], member_ids: Sequence[uuid.UUID | None]
) -> list[object]:
    """What puts an event in its lane: its member, or the identifier no member holds."""
    return [
        member_id or (event.identifier if isinstance(event, EventInput) else None)
        for event, member_id in zip(events, member_ids, strict=True)
    ]


def _segments(
    events: Sequence[EventInput | LoyaltyError], lanes: Sequence[int]
) -> list[list[list[int]]]:
    """The batch as segments run one after the other, each as lanes run at once: a refund
    is a segment of its own."""
    segments: list[list[list[int]]] = []
    current: list[list[int]] = [[] for _ in range(LANES)]
    for index, event in enumerate(events):
        if isinstance(event, EventInput) and event.type == REFUND:
            segments += [current, [[index]]]
            current = [[] for _ in range(LANES)]
        else:
            current[lanes[index]].append(index)
    segments.append(current)
    return [[lane for lane in segment if lane] for segment in segments]


async def _one(
    context: RequestContext,
    event: EventInput,
    ingestion_of: requests.Ingestions,
    assets: dict[str, Asset],
) -> Outcome:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with context.write() as (conn, domain_events):
                ingestion = ingestion_of(domain_events)
                ingestion.assets = assets
                return await service.ingest(conn, ingestion, event)
        except LoyaltyError as error:
            return error
        except DBAPIError as error:
            if attempt == ATTEMPTS or getattr(error.orig, "sqlstate", None) not in chunks.RETRYABLE:
                raise
            await asyncio.sleep(random.uniform(0, 0.01 * attempt))  # let the other one finish
    raise AssertionError("unreachable")  # pragma: no cover


__all__ = ["LANES", "MAX_BATCH", "ingest_batch"]
