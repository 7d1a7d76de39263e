"""What partners fund, for the clearing module's funding hook
(``loyalty_clearing_funding_sources``), implemented without importing clearing.

For a purchase, each partner-funded reward is a movement clearing charges to the partner;
for a refund, each share taken back is a movement clearing credits back at the rate the
partner paid (``reverses`` names the purchase whose funded movement it reverses). The source
answers from attribution, which runs once per event whichever asks first.

Clearing then tells the source (``charged``: its ``ChargeRecorder`` side) the money each
movement came to, fees included, in the partner's billing currency; the module keeps it on
the reward (or the refund's share), so ``offerPerformance`` reports the money a partner owes
per offer and day, net of refunds, equal to its statement's lines for them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from loyalty_core.sdk import HandlerContext, events, ledger

from loyalty_partner_offers import repository as repo
from loyalty_partner_offers.attribution import NAME, handle
from loyalty_partner_offers.models import Redeemed, Reversed


@dataclass(frozen=True)
class Funded:
    """What clearing's funding contract reads (``loyalty_clearing.funding.Funded``)."""

    partner_id: uuid.UUID
    asset_code: str
    points: int
    key: str
    reason: str
    reverses: uuid.UUID | None = None
    redemption_id: uuid.UUID | None = None
    """The reward it charges or credits back (this module's own, for ``charged``)."""
    refund_event_id: uuid.UUID | None = None
    """For a refund's share: the refund."""


class OfferFunding:
    """The partner-funded rewards (and refunds' shares of them) of an event."""

    name = NAME

    async def funded(
        self, context: HandlerContext, event: events.EventIngested
    ) -> Sequence[Funded]:
        found: list[Funded] = []
        for moved in await handle(context, event):
            if moved.partner_id is None:
                continue
            if isinstance(moved, Redeemed):
                found.append(
                    Funded(
                        moved.partner_id,
                        ledger.DEFAULT_ASSET_CODE,
                        moved.points,
                        key=str(moved.id),
                        reason="partner offer",
                        redemption_id=moved.id,
                    )
                )
            elif isinstance(moved, Reversed):
                found.append(
                    Funded(
                        moved.partner_id,
                        ledger.DEFAULT_ASSET_CODE,
                        moved.points,
                        key=f"{moved.redemption_id}:{event.event_id}",
                        reason="partner offer taken back by a refund",
                        reverses=moved.purchase_event_id,
                        redemption_id=moved.redemption_id,
                        refund_event_id=event.event_id,
                    )
                )
        return found

    async def charged(
        self, context: HandlerContext, funded: object, amount: int, currency: str
    ) -> None:
        """Keep the money clearing charged (``amount`` owed) or credited back (negative) for
        one of this source's movements, on its reward or the refund's share of it."""
        assert isinstance(funded, Funded)
        assert funded.redemption_id is not None
        conn = context.conn
        assert conn is not None, "clearing asks in the event's transaction"
        if funded.refund_event_id is None:
            await repo.record_charge(
                conn, context.tenant_id, funded.redemption_id, amount, currency
            )
        else:
            await repo.record_credit(
                conn, context.tenant_id, funded.redemption_id, funded.refund_event_id, -amount
            )


__all__ = ["Funded", "OfferFunding"]
