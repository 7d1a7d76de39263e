"""A module that handles ``event.ingested`` and posts: 10 points on every purchase of at least
its minimum amount, read from the typed payload, with a cause that names no event (the
dispatcher fills it in). It keeps what it saw, for tests to compare with what was sent."""

from __future__ import annotations

from loyalty_core.sdk import (
    DomainEvent,
    EventHandler,
    HandlerContext,
    ModuleInfo,
    events,
    hookimpl,
    ledger,
)
from pydantic import BaseModel

NAME = "cashback"
SEEN: list[events.EventIngested] = []


class CashbackSettings(BaseModel):
    minimum_amount: int = 1000


async def reward(event: DomainEvent, context: HandlerContext) -> None:
    ingested = events.EventIngested.of(event)
    SEEN.append(ingested)
    settings = context.settings
    assert isinstance(settings, CashbackSettings)
    assert context.conn is not None
    if not ingested.is_purchase or (ingested.amount or 0) < settings.minimum_amount:
        return
    asset = await ledger.get_asset(context.conn, event.tenant_id, "points")
    assert asset is not None
    await ledger.earn(
        context.conn,
        ledger.Posting(
            tenant_id=event.tenant_id,
            idempotency_key=f"cashback:{ingested.event_id}",
            reason="cashback",
            cause=ledger.Cause(kind="module", id=NAME),
            actor=f"module:{NAME}",
            now=ingested.occurred_at,
        ),
        member_id=ingested.member_id,
        asset=asset,
        amount=10,
    )


@hookimpl
def loyalty_module() -> ModuleInfo:
    return ModuleInfo(NAME, "1.0", "Cashback points on large purchases.", CashbackSettings)


@hookimpl
def loyalty_event_handlers() -> list[EventHandler]:
    return [EventHandler(events.EventIngested.TOPIC, reward)]
