"""What partners fund, for the clearing module's funding hook
(``loyalty_clearing_funding_sources``), implemented without importing clearing.

For a purchase, each partner-funded reward is a movement clearing charges to the partner;
for a refund, each share taken back is a movement clearing credits back at the rate the
partner paid (``reverses`` names the purchase whose funded movement it reverses). The source
answers from attribution, which runs once per event whichever asks first.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from loyalty_core.sdk import HandlerContext, events, ledger

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
                    )
                )
        return found


__all__ = ["Funded", "OfferFunding"]
