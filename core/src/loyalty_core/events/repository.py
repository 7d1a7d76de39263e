"""SQL of events and event types, always filtered by tenant."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.db.prepared import Prepared
from loyalty_core.db.rows import InsertRows
from loyalty_core.events.models import StoredEvent
from loyalty_core.events.tables import event_types, events
from loyalty_core.ledger.tables import ledger_accounts, ledger_entries, ledger_transactions

_STORE_EVENT = Prepared(
    pg_insert(events)
    .on_conflict_do_nothing(index_elements=["tenant_id", "source", "external_id"])
    .returning(events)
)
"""Built once (the parameters name the columns) and run by asyncpg: every ingestion runs it."""
_STORE_EVENTS = InsertRows(
    events,
    [c.name for c in events.c if c.name not in ("refunded_amount", "created_at")],
    "ON CONFLICT (tenant_id, source, external_id) DO NOTHING RETURNING id, created_at",
)


async def insert_event(conn: AsyncConnection, row: Mapping[str, Any]) -> StoredEvent | None:
    """Store an event (an ``events`` row), or None when (source, external id) is taken: the
    same mechanism as ledger idempotency keys, so concurrent replays store one event."""
    found = await _STORE_EVENT.first(conn, row)
    return None if found is None else event_from_row(found)


async def insert_events(
    conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]
) -> list[StoredEvent]:
    """Store many events in one statement, as :func:`insert_event` does each, in the order
    given: those whose (source, external id) is taken, or given twice, are left out (the
    first stays)."""
    stored = await _STORE_EVENTS.all(conn, rows)
    if not stored:
        return []
    written = {row.id for row in stored}
    # Every row of a transaction is created at now(), the transaction's start: one will do.
    created_at = stored[0].created_at
    return [
        StoredEvent(
            id=row["id"],
            type=row["type"],
            source=row["source"],
            external_id=row["external_id"],
            member_id=row["member_id"],
            occurred_at=row["occurred_at"],
            payload=row["payload"],
            amount=row["amount"],
            currency=row["currency"],
            refunded_amount=0,
            purchase_id=row["purchase_id"],
            created_at=created_at,
        )
        for row in rows
        if row["id"] in written
    ]


async def get_by_external_id(
    conn: AsyncConnection, tenant_id: uuid.UUID, source: str, external_id: str
) -> tuple[StoredEvent, str] | None:
    row = (
        await conn.execute(
            select(events).where(
                events.c.tenant_id == tenant_id,
                events.c.source == source,
                events.c.external_id == external_id,
            )
        )
    ).first()
    return None if row is None else (event_from_row(row), row.payload_hash)


async def get(
    conn: AsyncConnection, tenant_id: uuid.UUID, event_id: uuid.UUID
) -> StoredEvent | None:
    row = (
        await conn.execute(
            select(events).where(events.c.tenant_id == tenant_id, events.c.id == event_id)
        )
    ).first()
    return None if row is None else event_from_row(row)


async def add_refunded_amount(
    conn: AsyncConnection, tenant_id: uuid.UUID, purchase_id: uuid.UUID, amount: int
) -> int | None:
    """Add to a purchase's refunded total unless it would exceed the purchase; the total
    before this refund, or None. A conditional UPDATE, so concurrent refunds of one
    purchase can never refund more than was bought."""
    after = (
        await conn.execute(
            update(events)
            .where(
                events.c.tenant_id == tenant_id,
                events.c.id == purchase_id,
                events.c.refunded_amount + amount <= events.c.amount,
            )
            .values(refunded_amount=events.c.refunded_amount + amount)
            .returning(events.c.refunded_amount)
        )
    ).scalar()
    return None if after is None else int(after) - amount


async def credits_of_event(
    conn: AsyncConnection, tenant_id: uuid.UUID, event_id: uuid.UUID
) -> list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, int]]:
    """``(transaction, member, asset, amount)`` credited to members by the event's earns."""
    rows = await conn.execute(
        select(
            ledger_transactions.c.id,
            ledger_accounts.c.member_id,
            ledger_entries.c.asset_id,
            ledger_entries.c.amount,
        )
        .join(
            ledger_entries,
            (ledger_entries.c.tenant_id == ledger_transactions.c.tenant_id)
            & (ledger_entries.c.transaction_id == ledger_transactions.c.id),
        )
        .join(
            ledger_accounts,
            (ledger_accounts.c.tenant_id == ledger_entries.c.tenant_id)
            & (ledger_accounts.c.id == ledger_entries.c.account_id),
        )
        .where(
            ledger_transactions.c.tenant_id == tenant_id,
            ledger_transactions.c.event_id == event_id,
            ledger_transactions.c.kind == "earn",
            ledger_accounts.c.member_id.is_not(None),
            ledger_entries.c.amount > 0,
        )
        .order_by(ledger_transactions.c.id)
    )
    return [(r[0], r[1], r[2], int(r[3])) for r in rows]


async def transactions_of_event(
    conn: AsyncConnection, tenant_id: uuid.UUID, event_id: uuid.UUID
) -> list[Row[Any]]:
    rows = await conn.execute(
        select(ledger_transactions)
        .where(
            ledger_transactions.c.tenant_id == tenant_id, ledger_transactions.c.event_id == event_id
        )
        .order_by(ledger_transactions.c.id)
    )
    return list(rows)


async def get_custom_type(
    conn: AsyncConnection, tenant_id: uuid.UUID, name: str
) -> Row[Any] | None:
    return (
        await conn.execute(
            select(event_types).where(
                event_types.c.tenant_id == tenant_id, event_types.c.name == name
            )
        )
    ).first()


async def list_custom_types(conn: AsyncConnection, tenant_id: uuid.UUID) -> list[Row[Any]]:
    rows = await conn.execute(
        select(event_types).where(event_types.c.tenant_id == tenant_id).order_by(event_types.c.name)
    )
    return list(rows)


def event_from_row(row: Row[Any]) -> StoredEvent:
    return StoredEvent(
        id=row.id,
        type=row.type,
        source=row.source,
        external_id=row.external_id,
        member_id=row.member_id,
        occurred_at=row.occurred_at,
        payload=dict(row.payload),
        amount=row.amount,
        currency=row.currency,
        refunded_amount=row.refunded_amount,
        purchase_id=row.purchase_id,
        created_at=row.created_at,
    )


__all__ = [
    "add_refunded_amount",
    "credits_of_event",
    "event_from_row",
    "get",
    "get_by_external_id",
    "get_custom_type",
    "insert_event",
    "insert_events",
    "list_custom_types",
    "transactions_of_event",
]
