"""The stamp card's rules: a stamp per qualifying purchase, points when the card is full.

A stamp is counted in the transaction that ingests the purchase (an in-transaction handler
of ``event.ingested``): if it fails, the event is not stored either, so a purchase is
stamped exactly once. A replayed event publishes nothing, so it stamps nothing again; the
reward's idempotency key (the purchase's event id) is a second guard.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from loyalty_core.sdk import DomainEvent, HandlerContext, events, ledger
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_stamp_card.settings import StampCardSettings
from loyalty_stamp_card.tables import cards

POINTS = "points"  # the asset every tenant has from its creation on


@dataclass(frozen=True)
class Card:
    stamps: int
    completed: int


EMPTY = Card(stamps=0, completed=0)


async def stamp_purchase(event: DomainEvent, context: HandlerContext) -> None:
    ingested = events.EventIngested.of(event)
    settings = context.settings
    assert isinstance(settings, StampCardSettings)
    assert context.conn is not None  # in-transaction handlers get the writer's connection
    if qualifies(ingested, settings):
        await add_stamp(context.conn, context.tenant_id, ingested, settings)


def qualifies(ingested: events.EventIngested, settings: StampCardSettings) -> bool:
    """A purchase of at least the minimum, in the tenant's currency when it set one."""
    if not ingested.is_purchase or ingested.amount is None:
        return False
    if settings.currency is not None and ingested.currency != settings.currency:
        return False
    return ingested.amount >= settings.minimum_amount


async def add_stamp(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    ingested: events.EventIngested,
    settings: StampCardSettings,
) -> Card:
    """Stamp the member's card; a stamp that fills it starts a new card and earns points."""
    statement = insert(cards).values(
        tenant_id=tenant_id, member_id=ingested.member_id, stamps=1, completed=0
    )
    row = (
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=[cards.c.tenant_id, cards.c.member_id],
                set_={"stamps": cards.c.stamps + 1, "updated_at": statement.excluded.updated_at},
            ).returning(cards.c.stamps, cards.c.completed)
        )
    ).one()
    if row.stamps < settings.stamps_per_card:
        return Card(row.stamps, row.completed)
    full = await conn.execute(
        cards.update()
        .where(cards.c.tenant_id == tenant_id, cards.c.member_id == ingested.member_id)
        .values(stamps=0, completed=cards.c.completed + 1)
        .returning(cards.c.stamps, cards.c.completed)
    )
    card = Card(*full.one())
    await _reward(conn, tenant_id, ingested, settings.reward_points)
    return card


async def _reward(
    conn: AsyncConnection, tenant_id: uuid.UUID, ingested: events.EventIngested, points: int
) -> None:
    asset = await ledger.get_asset(conn, tenant_id, POINTS)
    if asset is None:  # a tenant that deleted its points asset gets stamps, not points
        return
    posting = ledger.Posting(
        tenant_id=tenant_id,
        idempotency_key=f"stamp_card:{ingested.event_id}",
        reason="stamp card full",
        cause=ledger.Cause(kind="module", id="stamp_card", event_id=ingested.event_id),
        actor="module:stamp_card",
        now=datetime.now(UTC),
    )
    await ledger.earn(conn, posting, member_id=ingested.member_id, asset=asset, amount=points)


async def cards_of(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_ids: list[uuid.UUID]
) -> list[Card]:
    """The cards of a batch of members (an empty card for a member without stamps)."""
    rows = await conn.execute(
        select(cards.c.member_id, cards.c.stamps, cards.c.completed).where(
            cards.c.tenant_id == tenant_id, cards.c.member_id.in_(member_ids)
        )
    )
    found = {row.member_id: Card(row.stamps, row.completed) for row in rows}
    return [found.get(member_id, EMPTY) for member_id in member_ids]


async def reset(conn: AsyncConnection, tenant_id: uuid.UUID, member_id: uuid.UUID) -> bool:
    """Throw the member's card away (stamps and count of full cards); whether it had one."""
    result = await conn.execute(
        delete(cards).where(cards.c.tenant_id == tenant_id, cards.c.member_id == member_id)
    )
    return bool(result.rowcount)
