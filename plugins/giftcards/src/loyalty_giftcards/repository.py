"""SQL of the module. Every statement filters by ``tenant_id``; row-level security is the
second wall, not the only one."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from loyalty_core.sdk import new_id
from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_giftcards.models import Batch, Card, CardEvent, CardStatus, EventKind
from loyalty_giftcards.tables import batches, cards, events


def card_from_row(row: Row[Any]) -> Card:
    return Card(
        id=_uuid(row.id),
        last_four=row.last_four,
        currency=row.currency,
        status=CardStatus(row.status),
        member_id=_optional(row.member_id),
        batch_id=_optional(row.batch_id),
        account_id=_optional(row.account_id),
        has_pin=row.pin_hash is not None,
        code_held=row.code_sealed is not None,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        created_at=row.created_at,
    )


def event_from_row(row: Row[Any]) -> CardEvent:
    return CardEvent(
        id=_uuid(row.id),
        card_id=_uuid(row.card_id),
        kind=EventKind(row.kind),
        amount=int(row.amount),
        balance_after=int(row.balance_after),
        transaction_id=_optional(row.transaction_id),
        actor=row.actor,
        cause_kind=row.cause_kind,
        cause_id=row.cause_id,
        counterpart_id=_optional(row.counterpart_id),
        created_at=row.created_at,
    )


async def find_by_hash(
    conn: AsyncConnection, tenant_id: uuid.UUID, code_hash: str
) -> Row[Any] | None:
    query = select(cards).where(cards.c.tenant_id == tenant_id, cards.c.code_hash == code_hash)
    return (await conn.execute(query)).first()


async def get_card(conn: AsyncConnection, tenant_id: uuid.UUID, card_id: uuid.UUID) -> Card | None:
    query = select(cards).where(cards.c.tenant_id == tenant_id, cards.c.id == card_id)
    row = (await conn.execute(query)).first()
    return None if row is None else card_from_row(row)


async def lock_card(conn: AsyncConnection, tenant_id: uuid.UUID, card_id: uuid.UUID) -> Card:
    """The card row, locked for the rest of the transaction (``FOR NO KEY UPDATE``).

    Every movement of a card's value takes this lock first, as Saleor's gateway does at
    authorize: checks of status, expiry and maximum balance then read a state no concurrent
    movement can change before commit, and replays of one key queue behind each other.
    """
    row = (
        await conn.execute(
            select(cards)
            .where(cards.c.tenant_id == tenant_id, cards.c.id == card_id)
            .with_for_update(key_share=True)
        )
    ).one()
    return card_from_row(row)


async def sealed_code(
    conn: AsyncConnection, tenant_id: uuid.UUID, card_id: uuid.UUID
) -> bytes | None:
    query = select(cards.c.code_sealed).where(cards.c.tenant_id == tenant_id, cards.c.id == card_id)
    sealed = (await conn.execute(query)).scalar()
    return None if sealed is None else bytes(sealed)


async def lock_cards_of_member(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_id: uuid.UUID
) -> list[Card]:
    """The member's cards, locked in id order (as every movement locks them)."""
    rows = await conn.execute(
        select(cards)
        .where(cards.c.tenant_id == tenant_id, cards.c.member_id == member_id)
        .order_by(cards.c.id)
        .with_for_update(key_share=True)
    )
    return [card_from_row(row) for row in rows]


async def insert_cards(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(cards), list(rows))


async def update_card(
    conn: AsyncConnection, tenant_id: uuid.UUID, card_id: uuid.UUID, **values: Any
) -> Card:
    row = (
        await conn.execute(
            update(cards)
            .where(cards.c.tenant_id == tenant_id, cards.c.id == card_id)
            .values(**values)
            .returning(cards)
        )
    ).one()
    return card_from_row(row)


async def insert_event(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    card_id: uuid.UUID,
    kind: EventKind,
    actor: str,
    cause: tuple[str, str | None],
    amount: int = 0,
    balance_after: int = 0,
    transaction_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
    counterpart_id: uuid.UUID | None = None,
) -> CardEvent:
    row = (
        await conn.execute(
            insert(events)
            .values(
                tenant_id=tenant_id,
                id=new_id(),
                card_id=card_id,
                kind=kind.value,
                amount=amount,
                balance_after=balance_after,
                transaction_id=transaction_id,
                idempotency_key=idempotency_key,
                request_hash=request_hash,
                actor=actor[:200],
                cause_kind=cause[0],
                cause_id=cause[1],
                counterpart_id=counterpart_id,
            )
            .returning(events)
        )
    ).one()
    return event_from_row(row)


async def insert_events(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(events), list(rows))


async def event_by_key(
    conn: AsyncConnection, tenant_id: uuid.UUID, idempotency_key: str
) -> tuple[CardEvent, str | None] | None:
    row = (
        await conn.execute(
            select(events).where(
                events.c.tenant_id == tenant_id, events.c.idempotency_key == idempotency_key
            )
        )
    ).first()
    return None if row is None else (event_from_row(row), row.request_hash)


async def amount_of(
    conn: AsyncConnection, tenant_id: uuid.UUID, card_id: uuid.UUID, kind: EventKind
) -> int:
    """What the card's events of ``kind`` moved in total (refunds are capped by redemptions)."""
    total = (
        await conn.execute(
            select(func.coalesce(func.sum(events.c.amount), 0)).where(
                events.c.tenant_id == tenant_id,
                events.c.card_id == card_id,
                events.c.kind == kind.value,
            )
        )
    ).scalar_one()
    return int(total)


async def events_of(
    conn: AsyncConnection, tenant_id: uuid.UUID, card_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[CardEvent]]:
    """The event logs of several cards, oldest first (one query for a whole list of cards)."""
    found: dict[uuid.UUID, list[CardEvent]] = {card_id: [] for card_id in card_ids}
    rows = await conn.execute(
        select(events)
        .where(events.c.tenant_id == tenant_id, events.c.card_id.in_(list(card_ids)))
        .order_by(events.c.card_id, events.c.id)
    )
    for row in rows:
        event = event_from_row(row)
        found[event.card_id].append(event)
    return found


async def cards_of_members(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Card]]:
    found: dict[uuid.UUID, list[Card]] = {member_id: [] for member_id in member_ids}
    rows = await conn.execute(
        select(cards)
        .where(cards.c.tenant_id == tenant_id, cards.c.member_id.in_(list(member_ids)))
        .order_by(cards.c.member_id, cards.c.id.desc())
    )
    for row in rows:
        card = card_from_row(row)
        if card.member_id is not None:
            found[card.member_id].append(card)
    return found


async def list_cards(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    limit: int,
    after: uuid.UUID | None = None,
    status: CardStatus | None = None,
    currency: str | None = None,
    member_id: uuid.UUID | None = None,
    batch_id: uuid.UUID | None = None,
    last_four: str | None = None,
) -> list[Card]:
    """Cards newest first (ids are UUIDv7), narrowed by the filters given."""
    query = select(cards).where(cards.c.tenant_id == tenant_id)
    if after is not None:
        query = query.where(cards.c.id < after)
    if status is not None:
        query = query.where(cards.c.status == status.value)
    if currency is not None:
        query = query.where(cards.c.currency == currency.upper())
    if member_id is not None:
        query = query.where(cards.c.member_id == member_id)
    if batch_id is not None:
        query = query.where(cards.c.batch_id == batch_id)
    if last_four is not None:
        query = query.where(cards.c.last_four == last_four.upper())
    rows = await conn.execute(query.order_by(cards.c.id.desc()).limit(limit))
    return [card_from_row(row) for row in rows]


async def due_for_expiry(
    conn: AsyncConnection, tenant_id: uuid.UUID, now: datetime, limit: int
) -> list[uuid.UUID]:
    rows = await conn.execute(
        select(cards.c.id)
        .where(
            cards.c.tenant_id == tenant_id,
            cards.c.status == CardStatus.ACTIVE.value,
            cards.c.expires_at <= now,
        )
        .order_by(cards.c.expires_at)
        .limit(limit)
    )
    return [_uuid(v) for v in rows.scalars()]


async def insert_batch(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    batch_id: uuid.UUID,
    currency: str,
    size: int,
    actor: str,
    export: str,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
) -> Batch:
    row = (
        await conn.execute(
            insert(batches)
            .values(
                tenant_id=tenant_id,
                id=batch_id,
                currency=currency,
                size=size,
                actor=actor[:200],
                export=export,
                idempotency_key=idempotency_key,
                request_hash=request_hash,
            )
            .returning(batches)
        )
    ).one()
    return batch_from_row(row)


async def take_export(
    conn: AsyncConnection, tenant_id: uuid.UUID, batch_id: uuid.UUID, now: datetime
) -> str | None:
    """The batch's CSV, cleared in the same transaction: the first caller gets it; a second
    one, even a concurrent one (it waits on the row lock, then reads the cleared row), gets
    None."""
    row = (
        await conn.execute(
            select(batches.c.export, batches.c.exported_at)
            .where(batches.c.tenant_id == tenant_id, batches.c.id == batch_id)
            .with_for_update()
        )
    ).first()
    if row is None or row.exported_at is not None or row.export is None:
        return None
    await conn.execute(
        update(batches)
        .where(batches.c.tenant_id == tenant_id, batches.c.id == batch_id)
        .values(export=None, exported_at=now)
    )
    return str(row.export)


async def get_batch(
    conn: AsyncConnection, tenant_id: uuid.UUID, batch_id: uuid.UUID
) -> Batch | None:
    query = select(batches).where(batches.c.tenant_id == tenant_id, batches.c.id == batch_id)
    row = (await conn.execute(query)).first()
    return None if row is None else batch_from_row(row)


async def batch_by_key(
    conn: AsyncConnection, tenant_id: uuid.UUID, idempotency_key: str
) -> tuple[Batch, str | None] | None:
    query = select(batches).where(
        batches.c.tenant_id == tenant_id, batches.c.idempotency_key == idempotency_key
    )
    row = (await conn.execute(query)).first()
    return None if row is None else (batch_from_row(row), row.request_hash)


def batch_from_row(row: Row[Any]) -> Batch:
    return Batch(
        id=_uuid(row.id),
        currency=row.currency,
        size=row.size,
        created_at=row.created_at,
        exported_at=row.exported_at,
    )


def _uuid(value: object) -> uuid.UUID:
    """A driver value as a ``uuid.UUID`` (asyncpg's own class, a subclass, as it is)."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _optional(value: object) -> uuid.UUID | None:
    return None if value is None else _uuid(value)


__all__ = [
    "amount_of",
    "batch_by_key",
    "card_from_row",
    "cards_of_members",
    "due_for_expiry",
    "event_by_key",
    "event_from_row",
    "events_of",
    "find_by_hash",
    "get_batch",
    "get_card",
    "insert_batch",
    "insert_cards",
    "insert_event",
    "insert_events",
    "list_cards",
    "lock_card",
    "lock_cards_of_member",
    "sealed_code",
    "take_export",
    "update_card",
]
