"""Attribution: on every purchase, in the writer's transaction, the member's activated and
the tenant's automatic offers whose requirements the basket meets are redeemed; a refund's
share of each is recorded (the core reverses it with the purchase's other credits).

How it avoids scanning the catalogue per purchase: each gateway keeps, per tenant, an index
of the live offers (``Index``) built once per catalogue revision: AUTO offers by SKU, by
category, and those with no item requirement. A purchase costs one statement to learn the
revision and read the member's open rows: the activations the basket may earn (with their
frozen terms; one whose item requirement names nothing in the basket stays in the
database), and without terms the rows of the AUTO offers it used and hid; the index answers
the AUTO candidates from the basket's SKUs and categories by dictionary look-ups. Only a
candidate whose requirements the basket meets costs more: its claims (a conditional update
each for the member's limit, the day's cap and the budget, only those it has), the ledger
posting and the redemption's row.

Attribution runs once per event whichever module asks first: this module's handler, or
clearing asking the funding source what partners fund (the order in which modules handle an
event is not a contract). A second call finds the event's redemptions and reads them.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from zoneinfo import ZoneInfo

from loyalty_core.sdk import (
    DomainEvent,
    HandlerContext,
    conditions,
    events,
    ledger,
    minor_units,
    tenants,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_partner_offers import repository as repo
from loyalty_partner_offers.effects import Runner
from loyalty_partner_offers.models import (
    Activation,
    MemberActivation,
    Offer,
    Redeemed,
    Reversed,
    RewardKind,
    Terms,
)
from loyalty_partner_offers.partners import Directory, directories, may_fund, partner_of

NAME = "partner_offers"


@dataclass(frozen=True)
class Index:
    """A tenant's live offers at one catalogue revision, with the AUTO ones by requirement."""

    revision: int
    by_id: dict[uuid.UUID, Offer]
    by_sku: dict[str, list[Offer]] = field(default_factory=dict)
    by_category: dict[str, list[Offer]] = field(default_factory=dict)
    unconditional: list[Offer] = field(default_factory=list)

    @classmethod
    def of(cls, revision: int, live: Iterable[Offer]) -> Index:
        index = cls(revision, {}, defaultdict(list), defaultdict(list), [])
        for offer in live:
            index.by_id[offer.id] = offer
            if offer.activation is not Activation.AUTO:
                continue
            req = offer.terms.requirements
            for sku in req.skus:
                index.by_sku[sku].append(offer)
            for category in req.categories:
                index.by_category[category].append(offer)
            if not req.by_items:
                index.unconditional.append(offer)
        return index

    def auto_candidates(self, event: events.EventIngested) -> list[Offer]:
        found = {offer.id: offer for offer in self.unconditional}
        for item in event.items:
            for offer in self.by_sku.get(item.sku, ()):
                found[offer.id] = offer
            if item.category is not None:
                for offer in self.by_category.get(item.category, ()):
                    found[offer.id] = offer
        return list(found.values())


_MAX_TENANTS = 10_000
_indexes: dict[uuid.UUID, Index] = {}


async def index_of(
    conn: AsyncConnection, tenant_id: uuid.UUID, revision: int, at: datetime
) -> Index:
    """The tenant's index at ``revision``: the cached one, or read again (one statement)."""
    cached = _indexes.get(tenant_id)
    if cached is not None and cached.revision == revision:
        return cached
    index = Index.of(revision, await repo.live_offers(conn, tenant_id, at))
    if len(_indexes) >= _MAX_TENANTS:
        _indexes.clear()
    _indexes[tenant_id] = index
    return index


@dataclass(frozen=True)
class Candidate:
    """An offer that may reward this purchase, with the terms it holds for the member."""

    offer_id: uuid.UUID
    title: str
    partner_id: uuid.UUID | None
    terms: Terms
    activation: MemberActivation | None
    offer: Offer | None
    segment: str
    auto_id: uuid.UUID | None = None
    """An AUTO offer's row of the member's uses, when it has one (claimed by its id)."""


async def on_event_ingested(event: DomainEvent, context: HandlerContext) -> None:
    await handle(context, events.EventIngested.of(event))


async def handle(
    context: HandlerContext, event: events.EventIngested
) -> list[Redeemed] | list[Reversed]:
    """Attribute a purchase or take back a refund's share, in ``context``'s transaction
    (this module's handler's, or clearing's when it asks the funding source first)."""
    conn = context.conn
    assert conn is not None, "an in-transaction handler has the writer's connection"
    if event.is_purchase:
        found = directories(context.registry, context.enabled_modules)
        tenant = context.tenant or await tenants.get_tenant(conn, context.tenant_id)
        runner = Runner(tenant, context.registry, context.enabled_modules)
        return await attribute(conn, context.tenant_id, event, found, runner)
    if event.is_refund and event.purchase_event_id is not None:
        tenant = context.tenant or await tenants.get_tenant(conn, context.tenant_id)
        return await take_back(conn, context.tenant_id, event, tenants.zone_of(tenant))
    return []


async def attribute(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    event: events.EventIngested,
    found: list[Directory],
    runner: Runner,
) -> list[Redeemed]:
    """Redeem every offer the purchase earns (once per event): the rewards given.

    Only a tenant with partners (``found``: clearing is on) has a second caller, clearing's
    funding question, so only there are the event's rewards looked for first."""
    if found:
        done = await repo.redemptions_of_event(conn, tenant_id, event.event_id)
        if done:
            return [
                Redeemed(r.id, r.offer_id, r.partner_id, r.points, r.transaction_id) for r in done
            ]
    at = event.occurred_at
    opened = await repo.revision_and_activations(
        conn,
        tenant_id,
        event.member_id,
        at,
        skus=[item.sku for item in event.items],
        categories=[item.category for item in event.items if item.category is not None],
    )
    index = await index_of(conn, tenant_id, opened.revision, at)
    candidates = _candidates(index, opened, event)
    if not candidates:
        return []
    partner_funded = bool(found)
    reads = _Reads(conn, tenant_id, event)
    zone = tenants.zone_of(runner.tenant)
    given: list[Redeemed] = []
    funded: dict[uuid.UUID, int] = {}  # points each partner funds for this purchase so far
    variables: dict[str, object] | None = None
    for candidate in candidates:
        if candidate.partner_id is not None and not partner_funded:
            continue  # clearing was switched off: nobody would pay for it
        if not _meets(candidate.terms, event, zone):
            continue
        if candidate.segment.strip():
            if variables is None:
                variables = await conditions.variables(conn, tenant_id, event, [candidate.segment])
            try:
                if not conditions.evaluate(candidate.segment, variables):
                    continue
            except conditions.ConditionFailed:
                await repo.count_condition_failure(conn, tenant_id, candidate.offer_id)
                continue
        if candidate.terms.requirements.first_purchase and not await _first(
            conn, tenant_id, candidate, event, found
        ):
            continue
        if candidate.terms.reward is RewardKind.EFFECT:
            if candidate.partner_id is None:  # a partner funds points, never an effect
                effected = await _redeem_effect(conn, tenant_id, candidate, event, zone, runner)
                given.extend(effected)
            continue
        points = await _points(reads, candidate.terms, event)
        if points <= 0:
            continue
        partner = candidate.partner_id
        funding = funded.get(partner, 0) + points if partner is not None else 0
        if partner is not None and not await may_fund(
            conn, tenant_id, found, partner, event.occurred_at, funding
        ):
            continue  # suspended, not an issuer, unpriced or out of funds: skipped, not fatal
        redeemed = await _redeem(reads, candidate, event, points, zone)
        if redeemed is not None:
            given.append(redeemed)
            if partner is not None:
                funded[partner] = funding
    return given


def _candidates(index: Index, opened: repo.Opened, event: events.EventIngested) -> list[Candidate]:
    at = event.occurred_at
    found: list[Candidate] = []
    for activation in opened.activated:
        if activation.activated_at > at:
            continue
        offer = index.by_id.get(activation.offer_id)
        found.append(
            Candidate(
                activation.offer_id,
                offer.title if offer is not None else "offer",
                activation.partner_id,
                activation.terms,
                activation,
                offer,
                "" if offer is None else offer.segment,
            )
        )
    mine = {activation.offer_id for activation in opened.activated}
    for offer in index.auto_candidates(event):
        if offer.id in opened.hidden or offer.id in mine or not offer.live_at(at):
            continue  # hidden, or activated when it was a CLIP offer: its own terms hold
        found.append(
            Candidate(
                offer.id,
                offer.title,
                offer.partner_id,
                offer.terms,
                None,
                offer,
                offer.segment,
                opened.auto.get(offer.id),
            )
        )
    return found


def qualifying_spend(terms: Terms, event: events.EventIngested) -> int:
    """The spend that counts: the matching items' with an item requirement, else the
    purchase's amount."""
    req = terms.requirements
    if not req.by_items:
        return event.amount or 0
    skus, categories = set(req.skus), set(req.categories)
    return sum(
        item.quantity * item.unit_price
        for item in event.items
        if item.sku in skus or (item.category is not None and item.category in categories)
    )


def _meets(terms: Terms, event: events.EventIngested, zone: ZoneInfo) -> bool:
    req = terms.requirements
    if req.weekdays and event.occurred_at.astimezone(zone).isoweekday() not in req.weekdays:
        return False
    if req.stores and event.store not in req.stores:
        return False
    if req.channels and event.payload.get("channel") not in req.channels:
        return False
    spend = qualifying_spend(terms, event)
    if req.by_items and spend <= 0:
        return False
    return spend >= req.minimum_spend


async def _first(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    candidate: Candidate,
    event: events.EventIngested,
    found: list[Directory],
) -> bool:
    """Whether the purchase is the member's first with the offer's funder: sent with the
    partner's credential (the retailer's own offer: with none of a partner)."""
    partner_id = await partner_of(conn, tenant_id, found, event.actor)
    if partner_id != candidate.partner_id:
        return False
    return await repo.first_with_partner(
        conn, tenant_id, partner_id or tenant_id, event.member_id, event.event_id
    )


class _Reads:
    """What the purchase's rewards read, once however many offers it earns: the tenant's
    points asset (read when a reward moves: its expiry policy may change) and the base earn
    a multiplier multiplies."""

    def __init__(self, conn: AsyncConnection, tenant_id: uuid.UUID, event: events.EventIngested):
        self.conn, self.tenant_id, self.event = conn, tenant_id, event
        self._asset: ledger.Asset | None = None
        self._base: int | None = None

    async def asset(self) -> ledger.Asset:
        if self._asset is None:
            found = await ledger.get_asset(self.conn, self.tenant_id, ledger.DEFAULT_ASSET_CODE)
            assert found is not None, "every tenant has its points asset"
            self._asset = found
        return self._asset

    async def base(self) -> int:
        if self._base is None:
            asset = await self.asset()
            event = self.event
            self._base = await ledger.member_movement(
                self.conn, self.tenant_id, event.member_id, asset.id, event.transactions
            )
        return self._base


async def _points(reads: _Reads, terms: Terms, event: events.EventIngested) -> int:
    if terms.reward is RewardKind.FIXED:
        return int(terms.value)
    if terms.reward is RewardKind.PER_UNIT:
        spend = Decimal(qualifying_spend(terms, event)).scaleb(
            -minor_units(event.currency or "EUR")
        )
        return int((spend * terms.value).to_integral_value(ROUND_DOWN))
    base = await reads.base()
    return int((Decimal(base) * (terms.value - 1)).to_integral_value(ROUND_DOWN))


async def _redeem(
    reads: _Reads,
    candidate: Candidate,
    event: events.EventIngested,
    points: int,
    zone: ZoneInfo,
) -> Redeemed | None:
    """Claim the member's limit, the day's cap and the budget (each a conditional update;
    a later refusal gives back the earlier claims), then post the reward."""
    conn, tenant_id = reads.conn, reads.tenant_id
    if not await _claim(conn, tenant_id, candidate, event, zone):
        return None
    asset = await reads.asset()
    posted = await ledger.earn(
        conn,
        ledger.Posting(
            tenant_id=tenant_id,
            idempotency_key=_key(candidate, event),
            reason=f"offer: {candidate.title}"[:200],
            cause=ledger.Cause(kind=NAME, id=str(candidate.offer_id), event_id=event.event_id),
            actor=f"module:{NAME}",
            now=event.occurred_at,
        ),
        member_id=event.member_id,
        asset=asset,
        amount=points,
    )
    return await _record(conn, tenant_id, candidate, event, zone, points, posted.transaction.id)


async def _redeem_effect(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    candidate: Candidate,
    event: events.EventIngested,
    zone: ZoneInfo,
    runner: Runner,
) -> list[Redeemed]:
    """Claim as for points, then apply the offer's rule effect, all in one savepoint: an
    effect that fails is undone with its claims and counted on the offer, and the purchase
    goes on without it."""
    effect = candidate.terms.effect
    assert effect is not None, "an EFFECT offer names its effect (checked when saved)"
    try:
        async with conn.begin_nested():
            if not await _claim(conn, tenant_id, candidate, event, zone):
                return []
            result = await runner.apply(
                conn,
                effect,
                offer_id=candidate.offer_id,
                key=_key(candidate, event),
                event=event,
            )
            transaction_id = result.transaction_ids[0] if result.transaction_ids else None
            redeemed = await _record(conn, tenant_id, candidate, event, zone, 0, transaction_id)
    except Exception:  # any module's effect: its failure must not fail the purchase
        await repo.count_effect_failure(conn, tenant_id, candidate.offer_id)
        return []
    return [redeemed]


def _key(candidate: Candidate, event: events.EventIngested) -> str:
    """The reward's idempotency key: the offer and the purchase."""
    return f"{NAME}:{candidate.offer_id}:{event.event_id}"


async def _claim(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    candidate: Candidate,
    event: events.EventIngested,
    zone: ZoneInfo,
) -> bool:
    """One more use of the member's limit, the day's cap and the budget (only those the
    offer has), each a conditional update; a later refusal gives the earlier claims back."""
    offer = candidate.offer
    day = event.occurred_at.astimezone(zone).date()
    claimed = await repo.claim_member(
        conn,
        tenant_id,
        activation_id=None if candidate.activation is None else candidate.activation.id,
        auto_id=candidate.auto_id,
        offer=offer,
        member_id=event.member_id,
        limit=candidate.terms.per_member_limit,
        at=event.occurred_at,
    )
    if claimed is None:
        return False
    cap = None if offer is None else offer.daily_cap
    if cap is not None and not await repo.claim_day(conn, tenant_id, candidate.offer_id, day, cap):
        await repo.unclaim_member(conn, tenant_id, claimed)
        return False
    budgeted = offer is None or offer.budget is not None
    if budgeted and not await repo.claim_budget(conn, tenant_id, candidate.offer_id):
        if cap is not None:
            await repo.unclaim_day(conn, tenant_id, candidate.offer_id, day)
        await repo.unclaim_member(conn, tenant_id, claimed)
        return False
    return True


async def _record(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    candidate: Candidate,
    event: events.EventIngested,
    zone: ZoneInfo,
    points: int,
    transaction_id: uuid.UUID | None,
) -> Redeemed:
    """The reward's row: what reports and refunds read."""
    redemption_id = await repo.insert_redemption(
        conn,
        {
            "tenant_id": tenant_id,
            "offer_id": candidate.offer_id,
            "member_id": event.member_id,
            "event_id": event.event_id,
            "partner_id": candidate.partner_id,
            "points": points,
            "transaction_id": transaction_id,
            "day": event.occurred_at.astimezone(zone).date(),
            "occurred_at": event.occurred_at,
        },
    )
    return Redeemed(redemption_id, candidate.offer_id, candidate.partner_id, points, transaction_id)


async def take_back(
    conn: AsyncConnection, tenant_id: uuid.UUID, refund: events.EventIngested, zone: ZoneInfo
) -> list[Reversed]:
    """Record the refund's share of each reward its purchase earned (once per refund).

    The core's refund already reverses, pro rata, every credit caused by the purchase, the
    rewards posted here included (their cause names the purchase): this module reverses
    nothing itself. It records the share the core took back, by the core's own rule
    (``points x refunded so far // amount``, less what earlier refunds took, so shares add
    up to the whole reward and rounding never drifts), with the core's reversal
    transaction, so reports and the partner's clearing credit match the ledger. The refund
    that takes back the last of a reward (the purchase refunded in full) gives its claims
    back: the budget, the day's cap and the member's limit may reward another purchase. A
    partial refund keeps them. An effect (no points) is never taken back, nor its claims."""
    done = await repo.reversals_of_refund(conn, tenant_id, refund.event_id)
    if done:
        return [Reversed(r.redemption_id, r.partner_id, r.points, r.event_id) for r in done]
    assert refund.purchase_event_id is not None
    found = await repo.lock_redemptions_of_event(conn, tenant_id, refund.purchase_event_id)
    if not found:
        return []
    purchase = await events.get_event(conn, tenant_id, refund.purchase_event_id)
    assert purchase is not None, "a refunded purchase exists"
    assert purchase.amount, "a refunded purchase has its amount"
    after = purchase.refunded_amount
    before = after - (refund.amount or 0)
    reversal_of: dict[uuid.UUID, uuid.UUID] = {}
    for transaction_id in refund.transactions:
        transaction = await ledger.get_transaction(conn, tenant_id, transaction_id)
        if transaction is not None and transaction.reverses_id is not None:
            reversal_of[transaction.reverses_id] = transaction.id
    day = refund.occurred_at.astimezone(zone).date()
    taken: list[Reversed] = []
    for redemption in found:
        due = (
            redemption.points * after // purchase.amount
            - redemption.points * before // purchase.amount
        )
        emptied = await repo.record_reversal(
            conn,
            tenant_id,
            redemption.id,
            refund.event_id,
            points=due,
            transaction_id=reversal_of.get(redemption.transaction_id),
            day=day,
        )
        if emptied:  # the purchase is refunded in full: the reward's claims are given back
            await repo.release(
                conn,
                tenant_id,
                offer_id=redemption.offer_id,
                member_id=redemption.member_id,
                day=redemption.day,
            )
        if due > 0:
            taken.append(
                Reversed(redemption.id, redemption.partner_id, due, refund.purchase_event_id)
            )
    return taken


__all__ = [
    "Index",
    "attribute",
    "handle",
    "index_of",
    "on_event_ingested",
    "qualifying_spend",
    "take_back",
]
