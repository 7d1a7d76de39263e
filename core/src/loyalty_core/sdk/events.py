"""Events as modules read them: ``from loyalty_core.sdk import events``.

A handler of ``event.ingested`` gets the event's typed payload (``EventIngested.of(event)``:
type, member, amount, currency, store, items, a refund's share of its purchase); a module
that needs the stored event itself later (a job, a resolver) reads it with ``get_event``.
The typed payloads of every topic are listed in the domain events reference.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.db.rows import InsertRows
from loyalty_core.events import repository as _repository
from loyalty_core.events.builtin import PURCHASE, REFUND
from loyalty_core.events.models import EventInput, IngestResult, StoredEvent
from loyalty_core.ids import new_id
from loyalty_core.modules.topics import (
    EventIngested,
    MemberErased,
    MemberUpdated,
    PointsRedeemed,
    PointsRefunded,
    PurchaseItem,
)
from loyalty_core.outbox.tables import outbox


async def get_event(
    conn: AsyncConnection, tenant_id: uuid.UUID, event_id: uuid.UUID
) -> StoredEvent | None:
    """The stored event ``event_id`` of the tenant, or None (absent, or another tenant's).

    ``payload`` is what the touchpoint sent, validated against its type's JSON Schema;
    purchases and refunds also have ``amount`` and ``currency`` as columns, a refund its
    ``purchase_id`` and a purchase the ``refunded_amount`` so far."""
    return await _repository.get(conn, tenant_id, event_id)


_ANNOUNCE = InsertRows(outbox, ["tenant_id", "id", "topic", "payload"])
"""One statement for any number of events, the rows as arrays (a window's end announces
hundreds of thousands)."""


async def announce(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    topic: str,
    payloads: Sequence[Mapping[str, Any]],
) -> None:
    """Write a module's own domain events (``tiers.upgraded``...) to the transactional
    outbox, one row per payload, in one statement of the caller's transaction: they leave
    exactly when the change they announce commits, for a broker or messaging attached
    later. Name the topic after the module; payloads are JSON objects."""
    await _ANNOUNCE.execute(
        conn,
        [{"tenant_id": tenant_id, "id": new_id(), "topic": topic, "payload": p} for p in payloads],
    )


__all__ = [
    "PURCHASE",
    "REFUND",
    "EventIngested",
    "EventInput",
    "IngestResult",
    "MemberErased",
    "MemberUpdated",
    "PointsRedeemed",
    "PointsRefunded",
    "PurchaseItem",
    "StoredEvent",
    "announce",
    "get_event",
]
