"""Offers as members see them: which they may see, activating (the terms freeze), hiding,
and each offer's state for the member.

A CLIP offer earns only once the member activated it; the activation copies the offer's
terms and window, and they hold until the window ends, whatever the catalogue does after
(a lower reward, a retirement). An AUTO offer needs no activation. Hiding takes an offer
out of the member's list and stops it earning for the member.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from loyalty_core.sdk import ErrorCode, LoyaltyError, MemberFact, NotFound, conditions, members
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_partner_offers import repository as repo
from loyalty_partner_offers.attribution import index_of
from loyalty_partner_offers.models import (
    Activation,
    MemberActivation,
    MemberOffer,
    Offer,
    OfferState,
)


async def live_offer(
    conn: AsyncConnection, tenant_id: uuid.UUID, offer_id: uuid.UUID, at: datetime
) -> Offer:
    offer = await repo.get_offer(conn, tenant_id, offer_id)
    if offer is None:
        raise NotFound("offer not found", field="offerId")
    if not offer.live_at(at):
        raise LoyaltyError("the offer is not live", code=ErrorCode.INVALID_INPUT, field="offerId")
    return offer


async def activate(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    offer_id: uuid.UUID,
    member_id: uuid.UUID,
    at: datetime,
    facts: Sequence[MemberFact] = (),
) -> MemberActivation:
    """Activate a live CLIP offer for the member, freezing its terms; activating again
    answers the first activation. An offer whose segment does not hold for the member is
    not for it (``NOT_FOUND``, as it does not see it)."""
    await members.require_active(conn, tenant_id, member_id)
    offer = await live_offer(conn, tenant_id, offer_id, at)
    if not await _targeted(conn, tenant_id, member_id, [offer], at, facts):
        raise NotFound("offer not found", field="offerId")
    if offer.activation is Activation.AUTO:
        raise LoyaltyError("an automatic offer needs no activation", field="offerId")
    activation, _ = await repo.activate(conn, tenant_id, offer, member_id, at, "activated")
    if activation.state == "hidden":
        raise LoyaltyError("the member hid this offer", field="offerId")
    return activation


async def hide(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    offer_id: uuid.UUID,
    member_id: uuid.UUID,
    at: datetime,
) -> None:
    await members.require_active(conn, tenant_id, member_id)
    offer = await repo.get_offer(conn, tenant_id, offer_id)
    if offer is None:
        raise NotFound("offer not found", field="offerId")
    await repo.hide(conn, tenant_id, offer, member_id, at)


async def offers_of(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    at: datetime,
    facts: Sequence[MemberFact] = (),
) -> list[MemberOffer]:
    """The member's offers: what it activated or used (with the terms it holds), then the
    live offers it may still activate or earns automatically, hidden ones and those whose
    segment does not hold for it left out."""
    index = await index_of(conn, tenant_id, await repo.revision(conn, tenant_id), at)
    found: list[MemberOffer] = []
    seen: set[uuid.UUID] = set()
    for activation in await repo.member_activations(conn, tenant_id, member_id):
        seen.add(activation.offer_id)
        if activation.state == "hidden":
            continue
        offer = index.by_id.get(activation.offer_id) or await repo.get_offer(
            conn, tenant_id, activation.offer_id
        )
        assert offer is not None, "an activation's offer exists"
        found.append(MemberOffer(offer, state_of(activation, at), activation))
    open_offers = [
        offer
        for offer in sorted(index.by_id.values(), key=lambda o: o.id)
        if offer.id not in seen and offer.live_at(at)
    ]
    shown = await _targeted(conn, tenant_id, member_id, open_offers, at, facts)
    found.extend(MemberOffer(offer, OfferState.AVAILABLE, None) for offer in shown)
    return found


async def _targeted(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    offers: list[Offer],
    at: datetime,
    facts: Sequence[MemberFact],
) -> list[Offer]:
    """The offers whose segment holds for the member now (the member read once for all of
    them; none read when no offer has a segment). A segment that names the purchase holds
    for no member here (there is none yet: it is checked at the purchase); one that fails
    hides its offer, never the list."""
    segments = {offer.segment for offer in offers if offer.segment.strip()}
    if not segments:
        return offers
    variables = await conditions.member_variables(
        conn, tenant_id, member_id, segments, now=at, facts=facts
    )
    shown = []
    for offer in offers:
        try:
            if conditions.evaluate(offer.segment, variables):
                shown.append(offer)
        except conditions.ConditionFailed:
            continue
    return shown


def state_of(activation: MemberActivation, at: datetime) -> OfferState:
    if activation.redeemed >= activation.terms.per_member_limit:
        return OfferState.REDEEMED
    if activation.ends_at <= at:
        return OfferState.EXPIRED
    if activation.state == "auto":
        return OfferState.AVAILABLE
    return OfferState.ACTIVATED


__all__ = ["activate", "hide", "live_offer", "offers_of", "state_of"]
