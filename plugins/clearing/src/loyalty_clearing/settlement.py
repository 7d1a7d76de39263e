"""Closing settlement periods into statements, and adjusting an open period.

Closing a period, in one transaction under a lock that serialises closes per tenant:

1. if the period is closed already, the close is a replay: its statements are returned;
2. a period closes only once it has ended, and periods close in order;
3. the period row is written, then one statement id per partner is chosen and a single
   ``UPDATE`` claims every unclaimed movement that happened before the period's end for its
   partner's statement. Ingestion takes no lock: a movement whose transaction commits after
   the claim's snapshot stays unclaimed, and the next close takes it as a carried-forward
   line (its date lies before that statement's period). So every movement lands in exactly
   one statement, and closing never waits for ingestion;
4. fixed fees of the period and the rounding of its lines are posted as lines of the
   statement itself; then each statement is written, immutable: opening (the previous
   closing), the totals by kind, closing = opening + every line.

Adjustments take the same lock shared, so an adjustment never lands in a period that a
concurrent close has just closed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from loyalty_core.sdk import ErrorCode, LoyaltyError, NotFound, ValidationFailed, new_id
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_clearing import repository as repo
from loyalty_clearing.accounts import accounts_of, rounding_account
from loyalty_clearing.models import Movement, MovementKind, Partner, Period, RateCard, Statement
from loyalty_clearing.periods import period_containing, period_of, period_starting
from loyalty_clearing.positions import Line, post_line
from loyalty_clearing.pricing import whole_units
from loyalty_clearing.settings import NAME, ClearingSettings

_LAST_MOMENT = timedelta(microseconds=1)


@dataclass(frozen=True)
class Closed:
    period: Period
    statements: list[Statement]
    replayed: bool


async def close(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: ClearingSettings,
    zone: ZoneInfo,
    day: date,
    *,
    actor: str,
    now: datetime,
) -> Closed:
    """Close the period ``day`` falls in (see the module's docstring)."""
    await _lock(conn, tenant_id, shared=False)
    period = period_containing(day, zone, settings.period)
    if await repo.closed_period(conn, tenant_id, period.starts_on) is not None:
        return Closed(period, await _statements_of(conn, tenant_id, period), replayed=True)
    if period.ends_at > now:
        raise LoyaltyError(
            f"the period {period.starts_on} to {period.ends_on} has not ended",
            code=ErrorCode.PERIOD_NOT_ENDED,
            field="period",
        )
    last = await repo.last_closed_period(conn, tenant_id)
    if last is not None and last.starts_on > period.starts_on:
        raise LoyaltyError(
            f"periods close in order: {last.starts_on} is closed, so this earlier period's "
            "movements are in its statements",
            code=ErrorCode.PERIOD_CLOSED,
            field="period",
        )
    await repo.insert_period(
        conn,
        {
            "tenant_id": tenant_id,
            "starts_on": period.starts_on,
            "ends_on": period.ends_on,
            "starts_at": period.starts_at,
            "ends_at": period.ends_at,
            "closed_by": actor,
        },
    )
    everyone = await repo.all_partners(conn, tenant_id)
    statement_of = {partner.id: new_id() for partner in everyone}
    totals: dict[uuid.UUID, Totals] = {}
    for claimed in await repo.claim_movements(conn, tenant_id, period.ends_at, statement_of):
        totals.setdefault(claimed.partner_id, Totals()).add(claimed)
    partners = [p for p in everyone if p.created_at < period.ends_at or p.id in totals]
    previous = await repo.latest_closings(conn, tenant_id)
    rows = []
    for partner in partners:
        tally = totals.setdefault(partner.id, Totals())
        for line in await _period_lines(conn, tenant_id, partner, period, statement_of, now=now):
            tally.add_line(line)
        opening, carried = previous.get(partner.id, (0, Decimal(0)))
        tally.residue += carried
        rounding = await _rounding(
            conn, tenant_id, partner, period, statement_of[partner.id], tally.residue, now=now
        )
        if rounding is not None:
            tally.add_line(rounding)
            tally.residue -= rounding.amount  # settled: the fraction left is carried
        rows.append(_statement_row(tenant_id, partner, period, statement_of, opening, tally))
    await repo.insert_statements(conn, rows)
    return Closed(period, await _statements_of(conn, tenant_id, period), replayed=False)


async def adjust(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: ClearingSettings,
    zone: ZoneInfo,
    partner_id: uuid.UUID,
    *,
    amount: int,
    reason: str,
    idempotency_key: str,
    day: date | None,
    actor: str,
    now: datetime,
) -> Movement:
    """A correction line in an open period (the current one unless ``day`` names an
    earlier open one): positive credits the partner, negative charges it. Closed periods
    never change: correcting one is an adjustment in an open period naming it in
    ``reason``."""
    if amount == 0 or abs(amount) > 2**53:
        raise ValidationFailed("amount: a non-zero amount in minor units", field="amount")
    if not reason.strip() or len(reason) > 500:
        raise ValidationFailed("reason: 1-500 characters", field="reason")
    if not idempotency_key.strip() or len(idempotency_key) > 150:
        raise ValidationFailed("idempotencyKey: 1-150 characters", field="idempotencyKey")
    partner = await repo.get_partner(conn, tenant_id, partner_id)
    if partner is None:
        raise NotFound("partner not found", field="partnerId")
    await _lock(conn, tenant_id, shared=True)
    if day is None:
        period = period_of(now, zone, settings.period)
    else:
        period = period_containing(day, zone, settings.period)
    if period.starts_at > now:
        raise ValidationFailed("that period has not started", field="period")
    last = await repo.last_closed_period(conn, tenant_id)
    if last is not None and last.starts_on >= period.starts_on:
        raise LoyaltyError(
            f"the period from {period.starts_on} is closed: adjust in an open period",
            code=ErrorCode.PERIOD_CLOSED,
            field="period",
        )
    line = Line(
        kind=MovementKind.ADJUSTMENT,
        amount=amount,
        exact=Decimal(amount),
        occurred_at=min(now, period.ends_at - _LAST_MOMENT),
        reason=reason.strip(),
        cause=f"adjustment:{idempotency_key}",
        actor=actor,
    )
    movement_id = await post_line(
        conn, tenant_id, partner, line, key=f"adjustment:{idempotency_key}", now=now
    )
    return await repo.get_movement(conn, tenant_id, movement_id)


async def _lock(conn: AsyncConnection, tenant_id: uuid.UUID, *, shared: bool) -> None:
    """The tenant's settlement lock, held to the end of the transaction."""
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    await conn.execute(
        text(f"SELECT {function}(hashtextextended(:key, 0))"),
        {"key": f"{NAME}.settlement:{tenant_id}"},
    )


async def _period_lines(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    partner: Partner,
    period: Period,
    statement_of: dict[uuid.UUID, uuid.UUID],
    *,
    now: datetime,
) -> list[Movement]:
    """The fixed fees of the period: each rate card in effect at its last moment charges
    its ``fee_fixed`` once, as a line of this statement."""
    lines = []
    last_moment = period.ends_at - _LAST_MOMENT
    for card in await _cards_in_effect(conn, tenant_id, partner, last_moment):
        if not card.fee_fixed:
            continue
        line = Line(
            kind=MovementKind.FEE,
            amount=-card.fee_fixed,
            exact=Decimal(-card.fee_fixed),
            occurred_at=last_moment,
            reason=f"fixed fee for {period.starts_on} to {period.ends_on} ({card.asset_code})",
            cause=f"period:{period.starts_on}",
            actor=f"module:{NAME}",
            rate_card_id=card.id,
            asset_code=card.asset_code,
            statement_id=statement_of[partner.id],
        )
        key = f"fixed-fee:{partner.id}:{period.starts_on}:{card.asset_code}"
        movement_id = await post_line(conn, tenant_id, partner, line, key=key, now=now)
        lines.append(await repo.get_movement(conn, tenant_id, movement_id))
    return lines


async def _cards_in_effect(
    conn: AsyncConnection, tenant_id: uuid.UUID, partner: Partner, at: datetime
) -> list[RateCard]:
    """Per asset, the partner's card in its billing currency in effect at ``at``."""
    latest: dict[str, RateCard] = {}
    for card in await repo.rate_cards_of(conn, tenant_id, partner.id):  # oldest first
        if card.currency == partner.currency and card.effective_from <= at:
            latest[card.asset_code] = card
    return list(latest.values())


async def _rounding(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    partner: Partner,
    period: Period,
    statement_id: uuid.UUID,
    residue: Decimal,
    *,
    now: datetime,
) -> Movement | None:
    """Settle the rounding of a statement's lines: the residue (what the lines are worth
    exactly, less what was posted, plus the fraction carried from the last statement) goes,
    in whole minor units, between the partner and the rounding account as a line of its own
    (whose exact value is what it posts, so the fraction left is carried to the next
    statement). Nothing is lost, and no line is posted twice."""
    whole = whole_units(residue)
    if not whole:
        return None
    asset = (await accounts_of(conn, tenant_id, partner.id, partner.currency)).asset
    line = Line(
        kind=MovementKind.ROUNDING,
        amount=whole,
        exact=Decimal(whole),
        occurred_at=period.ends_at - _LAST_MOMENT,
        reason=f"rounding residue of {period.starts_on} to {period.ends_on}",
        cause=f"period:{period.starts_on}",
        actor=f"module:{NAME}",
        statement_id=statement_id,
    )
    movement_id = await post_line(
        conn,
        tenant_id,
        partner,
        line,
        key=f"rounding:{partner.id}:{period.starts_on}",
        now=now,
        counter=await rounding_account(conn, tenant_id, asset),
    )
    return await repo.get_movement(conn, tenant_id, movement_id)


_TOTALS = {
    MovementKind.ISSUED: "issued_amount",
    MovementKind.FUNDED: "issued_amount",
    MovementKind.REDEEMED: "redeemed_amount",
    MovementKind.REVERSAL: "reversals_amount",
    MovementKind.FEE: "fees_amount",
    MovementKind.ADJUSTMENT: "adjustments_amount",
    MovementKind.BLOCK: "blocks_amount",
    MovementKind.ROUNDING: "rounding_amount",
}
_POINTS = {
    MovementKind.ISSUED: "points_issued",
    MovementKind.FUNDED: "points_issued",
    MovementKind.REDEEMED: "points_redeemed",
    MovementKind.REVERSAL: "points_reversed",
}


@dataclass
class Totals:
    """A statement's lines added up: money and points by column, how many, the residue."""

    columns: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys({*_TOTALS.values(), *_POINTS.values()}, 0)
    )
    lines: int = 0
    amount: int = 0
    residue: Decimal = field(default_factory=Decimal)

    def add(self, claimed: repo.Claimed) -> None:
        kind = MovementKind(claimed.kind)
        self.columns[_TOTALS[kind]] += claimed.amount
        if kind in _POINTS:
            self.columns[_POINTS[kind]] += claimed.points
        self.lines += claimed.lines
        self.amount += claimed.amount
        self.residue += claimed.residue

    def add_line(self, line: Movement) -> None:
        self.add(
            repo.Claimed(
                line.partner_id,
                line.kind.value,
                1,
                line.points,
                line.amount,
                line.exact_amount - line.amount,
            )
        )


def _statement_row(
    tenant_id: uuid.UUID,
    partner: Partner,
    period: Period,
    statement_of: dict[uuid.UUID, uuid.UUID],
    opening: int,
    tally: Totals,
) -> dict[str, object]:
    """A statement's row: the totals by kind, and closing = opening + every line."""
    return {
        "tenant_id": tenant_id,
        "id": statement_of[partner.id],
        "partner_id": partner.id,
        "period_starts_on": period.starts_on,
        "currency": partner.currency,
        "opening": opening,
        **tally.columns,
        "closing": opening + tally.amount,
        "residue": tally.residue,
        "lines": tally.lines,
    }


async def _statements_of(
    conn: AsyncConnection, tenant_id: uuid.UUID, period: Period
) -> list[Statement]:
    return await repo.list_statements(
        conn,
        tenant_id,
        partner_id=None,
        period_starts_on=period.starts_on,
        after=None,
        limit=10_000,
    )


def period_of_statement(statement: Statement, zone: ZoneInfo, settings: ClearingSettings) -> Period:
    """The period a statement covers."""
    return period_starting(statement.period_starts_on, zone, settings.period)


__all__ = ["Closed", "adjust", "close", "period_of_statement"]
