"""A module that funds awards through clearing: every purchase of at least its minimum amount
earns the member ``points`` more, paid for by the partner its settings name, and a refund
takes its share back. It implements the clearing module's hook without importing clearing
(the partner offers module, ``plugins/partner_offers``, is the real one)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

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

NAME = "funded_bonus"


class OfferSettings(BaseModel):
    partner_id: uuid.UUID
    points: int = 50
    minimum_amount: int = 1000


def _offered(event: events.EventIngested, settings: OfferSettings) -> bool:
    return event.is_purchase and (event.amount or 0) >= settings.minimum_amount


async def award(event: DomainEvent, context: HandlerContext) -> None:
    ingested = events.EventIngested.of(event)
    settings = context.settings
    assert isinstance(settings, OfferSettings)
    assert context.conn is not None
    if not _offered(ingested, settings):
        return
    asset = await ledger.get_asset(context.conn, event.tenant_id, ledger.DEFAULT_ASSET_CODE)
    assert asset is not None
    await ledger.earn(
        context.conn,
        ledger.Posting(
            tenant_id=event.tenant_id,
            idempotency_key=f"{NAME}:{ingested.event_id}",
            reason="partner offer",
            cause=ledger.Cause(kind=NAME, id=str(settings.partner_id)),
            actor=f"module:{NAME}",
            now=ingested.occurred_at,
        ),
        member_id=ingested.member_id,
        asset=asset,
        amount=settings.points,
    )


@dataclass(frozen=True)
class Funded:
    """What clearing's funding contract reads (``loyalty_clearing.funding.Funded``)."""

    partner_id: uuid.UUID
    asset_code: str
    points: int
    key: str
    reason: str
    reverses: uuid.UUID | None = None


class OfferFunding:
    """Answers from the event and the tenant's offer, not from what ``award`` posted."""

    name = NAME

    async def funded(
        self, context: HandlerContext, event: events.EventIngested
    ) -> Sequence[Funded]:
        settings = SETTINGS.get(context.tenant_id)
        if settings is None:
            return []
        if event.is_refund and event.purchase_event_id is not None:
            share = event.refund_share or Decimal(1)
            return [
                Funded(
                    partner_id=settings.partner_id,
                    asset_code=ledger.DEFAULT_ASSET_CODE,
                    points=int(settings.points * share),
                    key=f"refund:{event.event_id}",
                    reason="partner offer taken back",
                    reverses=event.purchase_event_id,
                )
            ]
        if not _offered(event, settings):
            return []
        return [
            Funded(
                partner_id=settings.partner_id,
                asset_code=ledger.DEFAULT_ASSET_CODE,
                points=settings.points,
                key=str(event.event_id),
                reason="partner offer",
            )
        ]


SETTINGS: dict[uuid.UUID, OfferSettings] = {}
"""Each tenant's offer, as the module's own tables would keep it."""


@hookimpl
def loyalty_module() -> ModuleInfo:
    return ModuleInfo(name=NAME, version="0.1.0", description="test", settings_model=OfferSettings)


@hookimpl
def loyalty_event_handlers() -> list[EventHandler]:
    return [EventHandler("event.ingested", award)]


@hookimpl(optionalhook=True)
def loyalty_clearing_funding_sources() -> list[object]:
    return [OfferFunding()]
