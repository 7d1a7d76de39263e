"""Redemptions announced: every spend of a member's points announces ``points.redeemed``,
every give-back of spent points ``points.refunded``, whoever spends them.

A till's ``pointsRedeem``, a payment's points tender and a reward's redemption all spend
through :func:`spend` (the SDK's ``ledger.spend``), and their refunds give back through
:func:`give_back`: so a module that settles redemptions (clearing reimburses an acceptor)
hears of each once, in the spend's transaction, without knowing which module spent, and the
actor (``touchpoint:<API key id>``) attributes it. A replay announces nothing.

The announcement goes to the publisher of the unit of work (:func:`publishing`, set by a
request's write and the demo seed), so in-transaction handlers post atomically with the
spend. Without one (a module's own transaction in a job, a test) the event is still written
to the transactional outbox, for subscriptions, but no handler runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.db.rows import InsertRows
from loyalty_core.ids import new_id
from loyalty_core.ledger import repository as _repo
from loyalty_core.ledger import service as _service
from loyalty_core.ledger.models import Asset, LedgerTransaction, Posted, Purpose
from loyalty_core.modules.contributions import DomainEvent
from loyalty_core.modules.topics import PointsRedeemed, PointsRefunded
from loyalty_core.outbox.tables import outbox


class Publisher(Protocol):
    """What publishes a unit of work's domain events (``DomainEvents``)."""

    async def publish(self, conn: AsyncConnection, event: DomainEvent) -> list[Any]: ...


_publisher: ContextVar[Publisher | None] = ContextVar("loyalty_publisher", default=None)
_OUTBOX = InsertRows(outbox, ["tenant_id", "id", "topic", "payload"])


@contextmanager
def publishing(publisher: Publisher) -> Iterator[None]:
    """Spends and give-backs inside the block announce through ``publisher``."""
    token = _publisher.set(publisher)
    try:
        yield
    finally:
        _publisher.reset(token)


async def spend(
    conn: AsyncConnection,
    posting: _service.Posting,
    *,
    member_id: uuid.UUID,
    asset: Asset,
    amount: int,
    details: dict[str, object] | None = None,
) -> Posted:
    """Spend a member's points (``ledger.spend``) and announce the redemption."""
    spent = await _service.spend(
        conn, posting, member_id=member_id, asset=asset, amount=amount, details=details
    )
    if not spent.replayed:
        redeemed = PointsRedeemed(
            transaction_id=spent.transaction.id,
            member_id=member_id,
            asset_code=asset.code,
            points=amount,
            occurred_at=posting.now,
            actor=posting.actor,
        )
        await _announce(conn, DomainEvent.of(posting.tenant_id, redeemed))
    return spent


async def give_back(
    conn: AsyncConnection,
    posting: _service.Posting,
    *,
    original: LedgerTransaction,
    member_id: uuid.UUID,
    asset: Asset,
    amount: int,
    counter: Purpose = Purpose.REDEEMED,
    details: dict[str, object] | None = None,
) -> Posted:
    """Give spent points back (``ledger.give_back``) and announce it, with the points the
    entries returned (fewer than asked once the spend is all given back)."""
    given = await _service.give_back(
        conn,
        posting,
        original=original,
        member_id=member_id,
        asset=asset,
        amount=amount,
        counter=counter,
        details=details,
    )
    if given.replayed:
        return given
    returned = await _repo.credited_by(conn, posting.tenant_id, given.transaction.id)
    if returned > 0:
        refunded = PointsRefunded(
            transaction_id=given.transaction.id,
            redemption_id=original.id,
            member_id=member_id,
            asset_code=asset.code,
            points=returned,
            occurred_at=posting.now,
            actor=posting.actor,
        )
        await _announce(conn, DomainEvent.of(posting.tenant_id, refunded))
    return given


async def _announce(conn: AsyncConnection, event: DomainEvent) -> None:
    publisher = _publisher.get()
    if publisher is not None:
        await publisher.publish(conn, event)
        return
    row = {"tenant_id": event.tenant_id, "id": new_id(), "topic": event.topic}
    await _OUTBOX.execute(conn, [{**row, "payload": event.payload}])


__all__ = ["Publisher", "give_back", "publishing", "spend"]
