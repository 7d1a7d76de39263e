"""Partner-attributed movements of points, priced and posted in the writer's transaction.

Three in-transaction handlers: ``event.ingested`` (a partner's purchase earns points, base
and campaign awards alike: the issuer pays for them; a refund reverses them at the rate they
were issued at and gives prepaid points back to the blocks they were drawn from),
``points.redeemed`` (points spent at an acceptor, whichever module spent them: a till's
``pointsRedeem``, a payment's points tender, a reward; the operator reimburses it) and
``points.refunded`` (spent points given back: the reimbursement is reversed). A reversal
also reverses, pro rata, the percentage fee charged on what it reverses. A refusal (a
suspended partner, no rate card, blocks exhausted) raises, and the event or redemption is
refused with it: nothing a partner does goes unpriced.

When an issuance takes the points left in a prepaid partner's blocks below its reorder
threshold, the module announces ``clearing.reorder_alert`` (``events.announce``: the
outbox, for subscriptions) and stamps the partner (``Partner.reorderAlertedAt``). The
partner's blocks are locked while drawn, so draws follow one another and exactly one sees
the crossing: once per crossing, however many awards run at once.

Hot path, per partner event: the key's partner from the process cache, then one statement
that reads the points the event moved onto members' accounts (an indexed read of its
entries), the partner and the rate card in effect (an index range scan, one row), then the
ledger posting (its idempotency claim and its entries) and the movement row: four
statements, none of which scans more than the event's own rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from loyalty_core.sdk import (
    DomainEvent,
    ErrorCode,
    HandlerContext,
    LoyaltyError,
    NotFound,
    events,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_clearing import repository as repo
from loyalty_clearing.attribution import partner_of_actor
from loyalty_clearing.funding import ChargeRecorder, Funded, FundingSource, sources
from loyalty_clearing.models import (
    Billing,
    Movement,
    MovementKind,
    Partner,
    PartnerRole,
    RateCard,
)
from loyalty_clearing.positions import Line, post_line, require_within_credit
from loyalty_clearing.pricing import exact_money, percent_of, rounded
from loyalty_clearing.service import require_acting, require_active


async def on_event_ingested(event: DomainEvent, context: HandlerContext) -> None:
    ingested = events.EventIngested.of(event)
    conn = context.conn
    assert conn is not None, "an in-transaction handler has the writer's connection"
    funding = sources(context)
    if funding:
        await _charge_funded(conn, context, ingested, funding)
    if not ingested.transactions:
        return
    if ingested.is_refund and ingested.purchase_event_id is not None:
        funders = [source.name for source in funding]
        await _reverse(conn, context.tenant_id, ingested, ingested.purchase_event_id, funders)
        return
    partner_id = await partner_of_actor(conn, context.tenant_id, ingested.actor)
    if partner_id is None:
        return
    found = await repo.partner_issue(
        conn, context.tenant_id, partner_id, ingested.transactions, ingested.occurred_at
    )
    issued = found.points
    if not issued:
        return
    assets = list(issued)
    partner, card = _acting_with(
        found.partner, found.card, PartnerRole.ISSUER, assets[0], ingested.occurred_at
    )
    for asset_code in assets:
        what = Issue(
            asset_code, issued[asset_code], ingested.occurred_at, ingested.event_id, ingested.actor
        )
        await issue(
            conn, context.tenant_id, partner, what, card=card if asset_code == assets[0] else None
        )


async def on_points_redeemed(event: DomainEvent, context: HandlerContext) -> None:
    redeemed = events.PointsRedeemed.of(event)
    conn = context.conn
    assert conn is not None, "an in-transaction handler has the writer's connection"
    partner_id = await partner_of_actor(conn, context.tenant_id, redeemed.actor)
    if partner_id is None:
        return
    tenant_id = context.tenant_id
    partner, card = await _acting(
        conn, tenant_id, partner_id, PartnerRole.ACCEPTOR, redeemed.asset_code, redeemed.occurred_at
    )
    exact = exact_money(redeemed.points, card.redeem_reimbursement, partner.currency)
    line = Line(
        kind=MovementKind.REDEEMED,
        amount=rounded(exact),
        exact=exact,
        occurred_at=redeemed.occurred_at,
        reason=f"{redeemed.points} {redeemed.asset_code} redeemed",
        cause=f"redemption:{redeemed.transaction_id}",
        actor=redeemed.actor,
        points=redeemed.points,
        asset_code=redeemed.asset_code,
        rate=card.redeem_reimbursement,
        rate_card_id=card.id,
    )
    key = f"redeemed:{redeemed.transaction_id}"
    movement_id = await post_line(conn, tenant_id, partner, line, key=key, now=_now())
    await _fee(conn, tenant_id, partner, card, line, movement_id, key)


async def on_points_refunded(event: DomainEvent, context: HandlerContext) -> None:
    """Spent points given back (a refunded purchase paid with points): the acceptor gives
    back the reimbursement of what was refunded, at the rate it was reimbursed at, and the
    fee on it pro rata, whoever sends the refund."""
    refunded = events.PointsRefunded.of(event)
    conn = context.conn
    assert conn is not None, "an in-transaction handler has the writer's connection"
    tenant_id = context.tenant_id
    original = await repo.redeemed_line(conn, tenant_id, f"redemption:{refunded.redemption_id}")
    if original is None:
        return
    partner = await repo.get_partner(conn, tenant_id, original.partner_id)
    assert partner is not None, "a movement's partner exists"
    what = Undo(
        f"refund:{refunded.transaction_id}",
        None,
        refunded.occurred_at,
        refunded.actor,
        f"redemption-refund:{refunded.transaction_id}",
        "redeemed points given back by a refund",
    )
    await _undo(conn, tenant_id, partner, original, refunded.points, what)


@dataclass(frozen=True)
class Issue:
    """Points issued for a partner: how many of which asset, when, for which event, by whom."""

    asset_code: str
    points: int
    occurred_at: datetime
    event_id: uuid.UUID | None
    actor: str


async def issue(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    partner: Partner,
    what: Issue,
    *,
    kind: MovementKind = MovementKind.ISSUED,
    key: str | None = None,
    card: RateCard | None = None,
) -> int:
    """Charge ``partner`` for points issued: a prepaid partner's blocks first (first-expiring
    first, locked so concurrent issuances never overdraw one), the rest at the rate card in
    effect when they were issued, within the credit limit if there is one. The money posted,
    the fee included (minor units, from the partner's side: negative or zero)."""
    card = card or await _card(conn, tenant_id, partner, what.asset_code, what.occurred_at)
    key = key or f"{kind.value}:{what.event_id}:{what.asset_code}"
    left = what.points
    if partner.billing is Billing.PREPAID:
        left = await _draw_blocks(conn, tenant_id, partner, what, kind, key)
        if left and partner.credit_limit is None:
            raise LoyaltyError(
                f"the partner's point blocks lack {left} {what.asset_code}",
                code=ErrorCode.POINT_BLOCKS_EXHAUSTED,
            )
    if not left:
        return 0
    exact = -exact_money(left, card.issue_price, partner.currency)
    line = Line(
        kind=kind,
        amount=rounded(exact),
        exact=exact,
        occurred_at=what.occurred_at,
        reason=f"{left} {what.asset_code} issued",
        cause=f"event:{what.event_id}" if what.event_id else key,
        actor=what.actor,
        points=left,
        asset_code=what.asset_code,
        rate=card.issue_price,
        rate_card_id=card.id,
        event_id=what.event_id,
    )
    movement_id = await post_line(conn, tenant_id, partner, line, key=key, now=_now())
    fee = await _fee(conn, tenant_id, partner, card, line, movement_id, key)
    code = (
        ErrorCode.POINT_BLOCKS_EXHAUSTED
        if partner.billing is Billing.PREPAID
        else ErrorCode.CREDIT_LIMIT_EXCEEDED
    )
    await require_within_credit(conn, tenant_id, partner, code)
    return line.amount + fee


async def _draw_blocks(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    partner: Partner,
    what: Issue,
    kind: MovementKind,
    key: str,
) -> int:
    """Take what the blocks hold, first-expiring first; the points still to charge. Every
    block with points left is locked, so ``left_before`` is exact: the draw that takes it
    below the reorder threshold is the one that alerts."""
    blocks = await repo.blocks_for_drawing(conn, tenant_id, partner.id, what.asset_code, _now())
    left_before = sum(block.remaining for block in blocks)
    left = what.points
    for block in blocks:
        if not left:
            break
        take = min(block.remaining, left)
        await repo.move_block(conn, tenant_id, block.id, -take)
        line = Line(
            kind=kind,
            amount=0,
            exact=_ZERO,
            occurred_at=what.occurred_at,
            reason=f"{take} {what.asset_code} issued from a prepaid block",
            cause=f"event:{what.event_id}" if what.event_id else key,
            actor=what.actor,
            points=take,
            asset_code=what.asset_code,
            block_id=block.id,
            event_id=what.event_id,
        )
        await post_line(conn, tenant_id, partner, line, key=f"{key}:{block.id}", now=_now())
        left -= take
    threshold = partner.reorder_threshold
    left_after = left_before - (what.points - left)
    if threshold is not None and left_before >= threshold > left_after:
        await _reorder_alert(conn, tenant_id, partner, what, left_after)
    return left


async def _reorder_alert(
    conn: AsyncConnection, tenant_id: uuid.UUID, partner: Partner, what: Issue, left: int
) -> None:
    """Announce that the partner's blocks fell below its reorder threshold, and stamp it."""
    now = _now()
    await repo.mark_reorder_alert(conn, tenant_id, partner.id, now)
    payload = {
        "partnerId": str(partner.id),
        "partnerName": partner.name,
        "assetCode": what.asset_code,
        "pointsLeft": left,
        "reorderThreshold": partner.reorder_threshold,
        "eventId": None if what.event_id is None else str(what.event_id),
        "occurredAt": now.isoformat(),
    }
    await events.announce(conn, tenant_id, REORDER_ALERT, [payload])


async def _reverse(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    refund: events.EventIngested,
    purchase_id: uuid.UUID,
    funders: Sequence[str],
) -> None:
    """A refund takes points back: the partner that paid for them is credited at the rate
    it paid, and each block they were drawn from gets back what was drawn from it, whoever
    sends the refund. What was charged at the rate is undone first, then the blocks, the
    last drawn first (as the ledger gives points back, latest-expiring first). The core's
    refund also reverses what funding sources (``funders``) awarded for the purchase:
    those points go back through the source (``_reverse_funded``), not here."""
    taken = await repo.member_points(conn, tenant_id, refund.transactions, funders)
    for asset_code, points in sorted(taken.items()):
        if points >= 0:
            continue
        lines = await repo.issued_for_event(conn, tenant_id, purchase_id, asset_code)
        if not lines:
            continue
        partner = await repo.get_partner(conn, tenant_id, lines[0].partner_id)
        assert partner is not None, "a movement's partner exists"
        left = -points
        for original in sorted(lines, key=lambda m: (m.block_id is None, m.id), reverse=True):
            if not left:
                break
            what = Undo(
                f"event:{refund.event_id}",
                refund.event_id,
                refund.occurred_at,
                refund.actor,
                f"reversal:{refund.event_id}:{asset_code}",
                "taken back by a refund",
            )
            left -= (await _undo(conn, tenant_id, partner, original, left, what)).points


@dataclass(frozen=True)
class Undo:
    """What reverses lines: its cause, event, time and actor, the key its lines derive
    theirs from, and the words of their reason."""

    cause: str
    event_id: uuid.UUID | None
    occurred_at: datetime
    actor: str
    key: str
    reason: str


@dataclass(frozen=True)
class Undone:
    """What a reversal undid: ``points``, and ``amount``, the money it posted with the fee's
    share (minor units, from the partner's side)."""

    points: int
    amount: int


async def _undo(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    partner: Partner,
    original: Movement,
    points: int,
    what: Undo,
) -> Undone:
    """Reverse up to ``points`` of ``original`` (an issuance or a redemption), what earlier
    reversals left of it. A block drawn from gets them back. Money is
    rounded cumulatively (what all reversals of the line posted is the rounded share of its
    amount), so a line reversed in parts is reversed to the unit; the fee charged on it is
    reversed in the same share."""
    earlier = await repo.lines_from(conn, tenant_id, [original.id])
    done = -sum(m.points for m in earlier if m.kind is MovementKind.REVERSAL)
    back = min(points, original.points - done)
    if back <= 0:
        return Undone(0, 0)
    if original.block_id is not None:
        await repo.move_block(conn, tenant_id, original.block_id, back)
    share = Share(done, done + back, original.points)
    line = Line(
        kind=MovementKind.REVERSAL,
        amount=share.of_amount(original.exact_amount),
        exact=-original.exact_amount * back / original.points,
        occurred_at=what.occurred_at,
        reason=f"{back} {original.asset_code} {what.reason}",
        cause=what.cause,
        actor=what.actor,
        points=-back,
        asset_code=original.asset_code,
        rate=original.rate,
        rate_card_id=original.rate_card_id,
        block_id=original.block_id,
        event_id=what.event_id,
        origin_id=original.id,
    )
    key = f"{what.key}:{original.id}"
    await post_line(conn, tenant_id, partner, line, key=key, now=_now())
    amount = line.amount
    for fee in (m for m in earlier if m.kind is MovementKind.FEE):
        fee_line = Line(
            kind=MovementKind.FEE,
            amount=share.of_amount(fee.exact_amount),
            exact=-fee.exact_amount * back / original.points,
            occurred_at=what.occurred_at,
            reason=f"{fee.reason} reversed for {back} of {original.points} points",
            cause=what.cause,
            actor=what.actor,
            rate=fee.rate,
            rate_card_id=fee.rate_card_id,
            event_id=what.event_id,
            origin_id=fee.id,
        )
        await post_line(conn, tenant_id, partner, fee_line, key=f"fee:{key}", now=_now())
        amount += fee_line.amount
    return Undone(back, amount)


@dataclass(frozen=True)
class Share:
    """The part ``[done, upto)`` of ``total`` points a reversal undoes."""

    done: int
    upto: int
    total: int

    def of_amount(self, exact: Decimal) -> int:
        """The money this reversal posts against a line of ``exact`` value: the rounded
        cumulative share less what earlier reversals posted (both half to even), so all
        the parts together undo the line's posted amount exactly."""
        return rounded(-exact * self.upto / self.total) - rounded(-exact * self.done / self.total)


async def _charge_funded(
    conn: AsyncConnection,
    context: HandlerContext,
    event: events.EventIngested,
    funding: Sequence[FundingSource],
) -> None:
    """Charge every partner-funded part of ``event`` (``funding``) to its partner, and credit
    back what a refund takes of it; a source that records money (``ChargeRecorder``) is
    told what each cost the partner."""
    tenant_id = context.tenant_id
    for source in funding:
        for funded in await source.funded(context, event):
            if funded.points <= 0:
                raise ValueError(f"{source.name} funds {funded.points} points: not positive")
            key = f"funded:{source.name}:{funded.key}"
            if funded.reverses is not None:
                found = await _reverse_funded(conn, tenant_id, event, funded, key)
                if found is None:
                    continue
                partner, credited = found
                owed = -credited
            else:
                partner = await require_acting(
                    conn, tenant_id, funded.partner_id, PartnerRole.ISSUER
                )
                what = Issue(
                    funded.asset_code,
                    funded.points,
                    event.occurred_at,
                    event.event_id,
                    f"module:{source.name}",
                )
                charged = await issue(
                    conn, tenant_id, partner, what, kind=MovementKind.FUNDED, key=key
                )
                owed = -charged
            if isinstance(source, ChargeRecorder):
                await source.charged(context, funded, owed, partner.currency)


async def _reverse_funded(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    refund: events.EventIngested,
    funded: Funded,
    key: str,
) -> tuple[Partner, int] | None:
    """Credit the partner for funded points a refund takes back, at the rate it paid for
    them on the purchase ``funded.reverses`` (blocks get back what was drawn from them),
    as issued points are undone: the partner and the money credited (with the fee's share),
    or None when nothing was charged for the purchase."""
    assert funded.reverses is not None
    lines = await repo.issued_for_event(
        conn,
        tenant_id,
        funded.reverses,
        funded.asset_code,
        kind=MovementKind.FUNDED,
        partner_id=funded.partner_id,
    )
    if not lines:
        return None  # nothing was charged for the purchase: nothing to credit back
    partner = await repo.get_partner(conn, tenant_id, funded.partner_id)
    assert partner is not None, "a movement's partner exists"
    left, credited = funded.points, 0
    for original in sorted(lines, key=lambda m: (m.block_id is None, m.id), reverse=True):
        if not left:
            break
        what = Undo(
            f"event:{refund.event_id}",
            refund.event_id,
            refund.occurred_at,
            refund.actor,
            key,
            "funded, taken back by a refund",
        )
        undone = await _undo(conn, tenant_id, partner, original, left, what)
        left -= undone.points
        credited += undone.amount
    return partner, credited


async def _acting(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    partner_id: uuid.UUID,
    role: PartnerRole,
    asset_code: str,
    at: datetime,
) -> tuple[Partner, RateCard]:
    """The partner, active and in ``role``, and its card in effect at ``at``: one read."""
    partner, card = await repo.partner_with_card(conn, tenant_id, partner_id, asset_code, at)
    return _acting_with(partner, card, role, asset_code, at)


def _acting_with(
    partner: Partner | None,
    card: RateCard | None,
    role: PartnerRole,
    asset_code: str,
    at: datetime,
) -> tuple[Partner, RateCard]:
    """``partner`` as read, active and in ``role``, with ``card``, the one in effect."""
    if partner is None:
        raise NotFound("partner not found", field="partnerId")
    require_active(partner, role)
    if card is None:
        raise _missing(partner, asset_code, at)
    return partner, card


async def _card(
    conn: AsyncConnection, tenant_id: uuid.UUID, partner: Partner, asset_code: str, at: datetime
) -> RateCard:
    card = await repo.rate_card_at(conn, tenant_id, partner.id, asset_code, partner.currency, at)
    if card is None:
        raise _missing(partner, asset_code, at)
    return card


def _missing(partner: Partner, asset_code: str, at: datetime) -> LoyaltyError:
    return LoyaltyError(
        f"partner {partner.name!r} has no rate card for {asset_code} in {partner.currency} "
        f"at {at.isoformat()}",
        code=ErrorCode.RATE_CARD_MISSING,
    )


async def _fee(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    partner: Partner,
    card: RateCard,
    line: Line,
    movement_id: uuid.UUID,
    key: str,
) -> int:
    """The percentage fee on a movement's money, a line of its own the partner pays, that
    names the movement (``origin_id``) so a reversal reverses it pro rata; its amount."""
    if not card.fee_percent or not line.amount:
        return 0
    exact = -percent_of(line.amount, card.fee_percent)
    fee = Line(
        kind=MovementKind.FEE,
        amount=rounded(exact),
        exact=exact,
        occurred_at=line.occurred_at,
        reason=f"{card.fee_percent}% fee on {abs(line.amount)}",
        cause=line.cause,
        actor=line.actor,
        rate=card.fee_percent,
        rate_card_id=card.id,
        event_id=line.event_id,
        origin_id=movement_id,
    )
    await post_line(conn, tenant_id, partner, fee, key=f"fee:{key}", now=_now())
    return fee.amount


def _now() -> datetime:
    return datetime.now(UTC)


_ZERO = Decimal(0)
REORDER_ALERT = "clearing.reorder_alert"
"""The topic announced when a partner's blocks fall below its reorder threshold."""

__all__ = [
    "REORDER_ALERT",
    "Issue",
    "Share",
    "Undo",
    "issue",
    "on_event_ingested",
    "on_points_redeemed",
    "on_points_refunded",
]
