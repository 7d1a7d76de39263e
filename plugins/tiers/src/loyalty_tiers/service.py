"""Business rules of tiers: the ladder, the metric an event adds, upgrades, overrides, and
what a member sees.

Races this module wins:

- **Two purchases of one member at once** (one gateway or two): each locks the member's
  standing row first (``repository.lock_standing``), so the second decides after the first
  committed and sees its contribution in the window's sum; the level rises once, on the
  event that qualified, with one history row and one ``tiers.upgraded`` event.
- **The window-end job against an upgrade**: the job claims a member by its window end and
  level (``repository.close_windows``); an upgrade committed in between makes the claim
  fail and the member is decided afresh on the next batch.

The ladder is cached per tenant for :data:`CACHE_SECONDS` (with the tenant's time zone,
currency and status asset): an event reads no ladder. A change through this process drops
its cache at once; another gateway sees it when its entry expires.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from loyalty_core.sdk import (
    ErrorCode,
    LoyaltyError,
    NotFound,
    ValidationFailed,
    conditions,
    events,
    ledger,
    members,
    tenants,
)
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_tiers import expression, models, subscriptions
from loyalty_tiers import repository as repo
from loyalty_tiers.expression import Aggregates
from loyalty_tiers.ladder import Ladder, Metric, WindowKind, at_window_end
from loyalty_tiers.settings import TierSettings

CACHE_SECONDS = 30.0
MODULE_ACTOR = "module:tiers"
BATCH = 10_000
MAX_OVERRIDE_DAYS = 3 * 366
UPGRADED = "tiers.upgraded"
DOWNGRADED = "tiers.downgraded"
WARNING = "tiers.downgrade_warning"

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Programme:
    """A tenant's ladder with what applying it needs, as cached."""

    version: int
    ladder: Ladder
    zone: ZoneInfo
    currency: str
    status_asset_id: uuid.UUID | None

    def today(self, now: datetime) -> date:
        return now.astimezone(self.zone).date()

    def metric(self, sums: repo.Sums) -> int:
        return metric_of(self.ladder, sums)


def metric_of(ladder: Ladder, sums: repo.Sums) -> int:
    """The ladder's metric of a window: its sum, or its expression over the window's
    aggregates (``ConditionFailed`` when that cannot be evaluated for this member)."""
    if ladder.metric is Metric.EXPRESSION:
        assert ladder.expression is not None
        return expression.value(ladder.expression, sums.aggregates)
    return sums.value


@dataclass
class Failures:
    """Members the ladder's expression failed for: how many, and the last error (a million
    members may fail; their errors are not kept)."""

    count: int = 0
    last: conditions.ConditionFailed | None = None

    def add(self, error: conditions.ConditionFailed) -> None:
        self.count += 1
        self.last = error


async def count_failures(conn: AsyncConnection, tenant_id: uuid.UUID, failed: Failures) -> None:
    """Count members the ladder's expression failed for (they were skipped), on the ladder's
    health, and log the last error; nothing when none failed."""
    if failed.last is not None:
        error = f"{failed.last.error_class}: {failed.last}"
        _log.warning("tier expression failed for %d members: %s", failed.count, error)
        await repo.count_failures(conn, tenant_id, failed.count, error)


_programmes: dict[uuid.UUID, tuple[float, Programme | None]] = {}


async def programme(
    conn: AsyncConnection, tenant_id: uuid.UUID, settings: TierSettings
) -> Programme | None:
    """The tenant's ladder (None without one), from the cache when fresh."""
    hit = _programmes.get(tenant_id)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    found = await load(conn, tenant_id, settings)
    _programmes[tenant_id] = (time.monotonic() + CACHE_SECONDS, found)
    return found


def forget(tenant_id: uuid.UUID) -> None:
    """Drop the cached ladder of a tenant (after a change)."""
    _programmes.pop(tenant_id, None)


async def load(
    conn: AsyncConnection, tenant_id: uuid.UUID, settings: TierSettings
) -> Programme | None:
    row = await repo.get_ladder(conn, tenant_id)
    if row is None:
        return None
    tenant = await tenants.get_tenant(conn, tenant_id)
    asset = await ledger.get_asset(conn, tenant_id, settings.status_asset)
    return Programme(
        version=int(row.version),
        ladder=Ladder.model_validate(row.definition),
        zone=tenants.zone_of(tenant),
        currency=tenant.default_currency,
        status_asset_id=None if asset is None else asset.id,
    )


# -- the ladder ------------------------------------------------------------------------


def parse_ladder(data: Mapping[str, Any]) -> Ladder:
    """The ladder, or :class:`ValidationFailed` naming the first field that is wrong (an
    expression that does not compile, names an unknown field or gives no number:
    ``INVALID_CONDITION`` on ``expression``)."""
    try:
        ladder = Ladder.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "ladder"
        raise ValidationFailed(first["msg"], field=field) from error
    if ladder.expression is not None:
        expression.check(ladder.expression)
    return ladder


async def set_ladder(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: TierSettings,
    ladder: Ladder,
    *,
    actor: str,
    now: datetime,
) -> Programme:
    """Save the tenant's ladder and apply it: a changed window moves every member's window
    end (one statement), and members whose current window's metric now reaches a higher
    level rise at once (downgrades wait for the window's end, as always), a batch of
    members at a time: one statement reads the batch's standings and window sums, the
    ladder decides in Python (the simulation's very rules), one statement moves the batch
    and writes its history. Memory holds one batch, whatever the number of members."""
    before = await programme(conn, tenant_id, settings)
    await repo.save_ladder(conn, tenant_id, ladder.model_dump(mode="json"), actor)
    forget(tenant_id)
    found = await load(conn, tenant_id, settings)
    assert found is not None
    if before is None or (before.ladder.window, before.ladder.length()) != (
        ladder.window,
        ladder.length(),
    ):
        today = found.today(now)
        ends = {month: ladder.window_end(today, month) for month in range(1, 13)}
        await repo.move_windows(conn, tenant_id, ends)
    failed = Failures()
    async for batch in _batches_of_moves(conn, tenant_id, found, now, failed):
        await repo.apply_ladder_moves(
            conn,
            tenant_id,
            [(m.member_id, m.from_level, m.to_level, m.metric) for m in batch if m.at_once],
            actor=actor,
            now=now,
        )
    await count_failures(conn, tenant_id, failed)
    return found


@dataclass(frozen=True)
class Move:
    """A member the ladder moves: at once (up) or at the window's end (down)."""

    member_id: uuid.UUID
    from_level: str | None
    to_level: str | None
    metric: int
    at_once: bool


@dataclass(frozen=True)
class Simulation:
    up: int
    """Members who would rise when the ladder is set."""
    down: int
    """Members who would drop at their window's end if they earned nothing more."""
    skipped: int
    """Members the ladder's expression could not be evaluated for (they would not move)."""
    moves: list[Move]
    """The first ``limit`` moves, in member order."""


async def moves(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    found: Programme,
    now: datetime,
    *,
    limit: int,
) -> Simulation:
    """Every member ``found``'s ladder would move, with the metric of the member's current
    window: up at once when it reaches a higher level, down at the window's end when it no
    longer holds the member's level (by the ladder's policy, if the member earns nothing
    more), counted, and the first ``limit`` of them. The simulation shows these; applying
    the ladder makes the ``at_once`` ones. A batch of members at a time, in bounded memory."""
    up = down = 0
    first: list[Move] = []
    failed = Failures()
    async for batch in _batches_of_moves(conn, tenant_id, found, now, failed):
        for move in batch:
            up, down = (up + 1, down) if move.at_once else (up, down + 1)
            if len(first) < limit:
                first.append(move)
    return Simulation(up, down, failed.count, first)


async def simulate(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: TierSettings,
    ladder: Ladder,
    now: datetime,
    *,
    limit: int,
) -> Simulation:
    """What setting ``ladder`` would do (:func:`moves` under it), writing nothing."""
    tenant = await tenants.get_tenant(conn, tenant_id)
    asset = await ledger.get_asset(conn, tenant_id, settings.status_asset)
    proposed = Programme(
        version=0,
        ladder=ladder,
        zone=tenants.zone_of(tenant),
        currency=tenant.default_currency,
        status_asset_id=None if asset is None else asset.id,
    )
    return await moves(conn, tenant_id, proposed, now, limit=limit)


async def _batches_of_moves(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    found: Programme,
    now: datetime,
    failed: Failures,
) -> AsyncIterator[list[Move]]:
    """The moves of every member, a batch of :data:`BATCH` members at a time (the members'
    current window, by their anchor month, summed in the statement that reads them);
    members the ladder's expression fails for join ``failed``."""
    ladder, today = found.ladder, found.today(now)
    ends = [ladder.window_end(today, month) for month in range(1, 13)]
    after = uuid.UUID(int=0)
    while True:
        rows = await repo.current_windows(
            conn, tenant_id, after=after, batch=BATCH, ends=ends, length=ladder.length()
        )
        if not rows:
            return
        after = rows[-1][0]
        batch: list[Move] = []
        for member_id, current, sums in rows:
            try:
                metric = found.metric(sums)
            except conditions.ConditionFailed as exc:
                failed.add(exc)
                continue
            qualified = ladder.qualifying(metric)
            level = current if ladder.rank(current) >= 0 else None
            if ladder.rank(qualified) > ladder.rank(level) or level != current:
                batch.append(Move(member_id, current, qualified, metric, at_once=True))
                continue
            decided = at_window_end(ladder, level, metric)
            if decided.level != level or decided.in_grace:
                target = decided.grace_level if decided.in_grace else decided.level
                batch.append(Move(member_id, current, target, metric, at_once=False))
        yield batch


# -- the metric, on every event ---------------------------------------------------------


async def contribution(
    conn: AsyncConnection, tenant_id: uuid.UUID, found: Programme, event: events.EventIngested
) -> tuple[int, Aggregates]:
    """What ``event`` adds to (or takes from) the member's metric under the ladder, or
    under an EXPRESSION ladder to the window's aggregates."""
    if found.ladder.metric is Metric.EXPRESSION:
        return 0, await _aggregates(conn, tenant_id, found, event)
    return await _amount(conn, tenant_id, found, event), Aggregates()


async def _aggregates(
    conn: AsyncConnection, tenant_id: uuid.UUID, found: Programme, event: events.EventIngested
) -> Aggregates:
    ladder = found.ladder
    assert ladder.expression is not None
    spend = purchases = 0
    if event.is_purchase or event.is_refund:
        sign = 1 if event.is_purchase else -1
        if event.currency == found.currency and event.amount is not None:
            spend = sign * event.amount
        full = event.refund_share is not None and event.refund_share >= 1
        purchases = 1 if event.is_purchase else (-1 if full else 0)
    status = 0
    if expression.needs_status_points(ladder.expression):
        status = await _status_points(conn, tenant_id, found, event)
    return Aggregates(spend, purchases, int(event.type in ladder.visit_types), status)


async def _amount(
    conn: AsyncConnection, tenant_id: uuid.UUID, found: Programme, event: events.EventIngested
) -> int:
    ladder = found.ladder
    if ladder.metric is Metric.VISITS:
        return 1 if event.type in ladder.visit_types else 0
    if not (event.is_purchase or event.is_refund):
        if ladder.metric is Metric.STATUS_POINTS:
            return await _status_points(conn, tenant_id, found, event)
        return 0
    sign = 1 if event.is_purchase else -1
    if ladder.metric is Metric.SPEND:
        if event.currency != found.currency or event.amount is None:
            return 0
        return sign * event.amount
    if ladder.metric is Metric.PURCHASES:
        if event.is_purchase:
            return 1
        return -1 if event.refund_share is not None and event.refund_share >= 1 else 0
    return await _status_points(conn, tenant_id, found, event)


async def _status_points(
    conn: AsyncConnection, tenant_id: uuid.UUID, found: Programme, event: events.EventIngested
) -> int:
    if found.status_asset_id is None or not event.transactions:
        return 0
    return await ledger.member_movement(
        conn, tenant_id, event.member_id, found.status_asset_id, event.transactions
    )


async def record(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    found: Programme,
    event: events.EventIngested,
    amount: int,
    aggregates: Aggregates,
) -> None:
    """Count ``amount`` (and ``aggregates``) for the event's member in the month it belongs
    to (a refund's: its purchase's month), then raise the level if the window's metric now
    reaches a higher one, or, for a refund under a ladder that says so, lower it. When the
    ladder's expression fails for the member, the event is counted, the level stays and the
    failure goes to the ladder's health."""
    ladder = found.ladder
    occurred_at = event.occurred_at
    if event.is_refund and event.purchase_event_id is not None:
        purchase = await events.get_event(conn, tenant_id, event.purchase_event_id)
        if purchase is not None:
            occurred_at = purchase.occurred_at
    local = occurred_at.astimezone(found.zone).date()
    standing = await _standing_for_update(
        conn, tenant_id, found, event.member_id, local, since=event.occurred_at
    )
    end = ladder.window_end(local, standing.anchor_month)
    window = (ladder.window_start(end), end)
    sums = await repo.contribute(
        conn,
        tenant_id,
        event.member_id,
        event_id=event.event_id,
        event_type=event.type,
        occurred_at=event.occurred_at,
        month=local.replace(day=1),
        amount=amount,
        aggregates=aggregates if ladder.metric is Metric.EXPRESSION else None,
        window=window,
    )
    try:
        metric = found.metric(sums)
    except conditions.ConditionFailed as exc:
        await count_failures(conn, tenant_id, Failures(1, exc))
        return
    qualified, level = ladder.qualifying(metric), standing.level
    if ladder.metric is Metric.EXPRESSION:
        gained, lost = not event.is_refund, event.is_refund
    else:
        gained, lost = amount > 0, amount < 0
    if gained and ladder.rank(qualified) > ladder.rank(level):
        await _change(conn, tenant_id, event, level, qualified, metric, kind="upgrade")
    elif (
        gained
        and standing.grace_until is not None
        and (ladder.rank(qualified) >= ladder.rank(level))
    ):
        await repo.clear_grace(conn, tenant_id, event.member_id)
        await repo.add_history(
            conn,
            tenant_id,
            [_row(event, "kept", level, level, metric, f"requalified during grace: {metric}")],
        )
    elif lost and ladder.refunds_downgrade and end == standing.window_end:
        target = ladder.higher(qualified, standing.base_level)
        if ladder.rank(target) < ladder.rank(level):
            await _change(conn, tenant_id, event, level, target, metric, kind="downgrade")


async def _standing_for_update(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    found: Programme,
    member_id: uuid.UUID,
    local: date,
    *,
    since: datetime,
) -> Any:
    standing = await repo.lock_standing(conn, tenant_id, member_id)
    if standing is not None:
        return standing
    # The enrolment month, whatever the ladder's window: a later ladder may count
    # anniversary years.
    member = await members.get_member(conn, tenant_id, member_id)
    anchor = member.created_at.astimezone(found.zone).month
    await repo.create_standing(
        conn,
        tenant_id,
        member_id,
        anchor_month=anchor,
        window_end=found.ladder.window_end(local, anchor),
        since=since,
    )
    return await repo.lock_standing(conn, tenant_id, member_id)


async def _change(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    event: events.EventIngested,
    level: str | None,
    to: str | None,
    metric: int,
    *,
    kind: str,
) -> None:
    await repo.set_level(
        conn, tenant_id, event.member_id, level=to, since=event.occurred_at, clear_grace=True
    )
    reason = (
        f"{event.type} {event.external_id}: metric {metric} reaches {to}"
        if kind == "upgrade"
        else f"refund {event.external_id}: metric {metric} no longer holds {level}"
    )
    await repo.add_history(conn, tenant_id, [_row(event, kind, level, to, metric, reason)])
    await events.announce(
        conn,
        tenant_id,
        UPGRADED if kind == "upgrade" else DOWNGRADED,
        [
            {
                "memberId": str(event.member_id),
                "from": level,
                "to": to,
                "reason": reason,
                "eventId": str(event.event_id),
                "metric": metric,
            }
        ],
    )


def _row(
    event: events.EventIngested,
    kind: str,
    level: str | None,
    to: str | None,
    metric: int,
    reason: str,
) -> dict[str, Any]:
    return {
        "member_id": event.member_id,
        "kind": kind,
        "from_level": level,
        "to_level": to,
        "reason": reason[:500],
        "actor": MODULE_ACTOR,
        "event_id": event.event_id,
        "metric": metric,
    }


# -- overrides ---------------------------------------------------------------------------


async def override(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: TierSettings,
    member_id: uuid.UUID,
    *,
    level: str | None,
    reason: str,
    expires_at: datetime | None,
    actor: str,
    now: datetime,
) -> models.Standing | None:
    """Set (or, with no ``level``, lift) an operator's override: a level with a reason, the
    operator and an expiry, shown instead of the earned level until it expires. The earned
    level goes on beneath it and comes back when it ends: an override is never a floor.
    None: lifted from a member who has earned no level (so it has none now)."""
    found = await programme(conn, tenant_id, settings)
    if found is None:
        raise LoyaltyError(
            "the tenant has no tier ladder yet", field="level", code=ErrorCode.NO_TIER_LADDER
        )
    await members.require_active(conn, tenant_id, member_id)
    if not 1 <= len(reason.strip()) <= 500:
        raise ValidationFailed("reason: 1 to 500 characters", field="reason")
    if level is not None:
        if found.ladder.rank(level) < 0:
            raise NotFound(f"the ladder has no level {level!r}", field="level")
        if expires_at is None or not now < expires_at <= now + timedelta(days=MAX_OVERRIDE_DAYS):
            raise ValidationFailed(
                f"an override expires in the future, within {MAX_OVERRIDE_DAYS} days",
                field="expiresAt",
            )
    standing = await _standing_for_update(
        conn, tenant_id, found, member_id, found.today(now), since=now
    )
    previous = _effective(standing, now)
    await repo.set_override(
        conn,
        tenant_id,
        member_id,
        level=level,
        reason=None if level is None else reason.strip(),
        actor=None if level is None else actor,
        expires_at=None if level is None else expires_at,
    )
    shown = level if level is not None else standing.level
    await repo.add_history(
        conn,
        tenant_id,
        [
            {
                "member_id": member_id,
                "kind": "override" if level is not None else "override_lifted",
                "from_level": previous,
                "to_level": shown,
                "reason": reason.strip(),
                "actor": actor,
            }
        ],
    )
    return await standing_of(conn, tenant_id, settings, member_id, now)


def _effective(row: Any, now: datetime) -> str | None:
    if row.override_level is not None and row.override_expires_at > now:
        return str(row.override_level)
    return None if row.level is None else str(row.level)


# -- what a member sees ------------------------------------------------------------------


async def standing_of(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: TierSettings,
    member_id: uuid.UUID,
    now: datetime,
) -> models.Standing | None:
    """The member's current level (None without a ladder, or without any level): an
    unexpired override, else a running paid membership's level when the ladder ranks it
    above the earned one, else the earned level (``facts.TIER`` decides the same in SQL)."""
    found = await programme(conn, tenant_id, settings)
    if found is None:
        return None
    ladder = found.ladder
    row = await repo.get_standing(conn, tenant_id, member_id)
    membership = await subscriptions.membership_of(conn, tenant_id, member_id, now)
    given = None if membership is None else membership.level
    earned = None if row is None else row.level
    overridden = (
        row is not None and row.override_level is not None and row.override_expires_at > now
    )
    if overridden:
        assert row is not None
        source, shown = models.Source.OVERRIDE, str(row.override_level)
    elif given is not None and ladder.rank(given) > ladder.rank(earned):
        source, shown = models.Source.MEMBERSHIP, given
    elif earned is not None:
        source, shown = models.Source.EARNED, earned
    else:
        return None
    override = None
    last_day = found.today(now)
    if row is not None:
        last_day = (row.grace_until or row.window_end) - timedelta(days=1)
        if overridden:
            override = models.Override(
                row.override_level,
                row.override_reason,
                row.override_actor,
                row.override_expires_at,
            )
            last_day = override.expires_at.astimezone(found.zone).date()
    if source is models.Source.MEMBERSHIP and membership is not None:
        end = membership.grace_until or membership.period_end
        last_day = end.astimezone(found.zone).date() if end is not None else last_day
    return models.Standing(
        member_id=member_id,
        level=ladder.level(shown),
        source=source,
        since=row.since
        if row is not None and source is not models.Source.MEMBERSHIP
        else (membership.started_at if membership is not None else now),
        until=last_day,
        earned=earned,
        override=override,
        grace_until=None
        if row is None or row.grace_until is None
        else row.grace_until - timedelta(days=1),
    )


async def progress_of(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: TierSettings,
    member_id: uuid.UUID,
    now: datetime,
    *,
    limit: int = 50,
) -> models.Progress | None:
    """The metric of the member's current window, the next level and what it lacks, what
    keeping the earned level takes by the window's last day, and the events behind it."""
    found = await programme(conn, tenant_id, settings)
    if found is None:
        return None
    ladder = found.ladder
    row = await repo.get_standing(conn, tenant_id, member_id)
    anchor = (
        row.anchor_month if row is not None else await _anchor(conn, tenant_id, found, member_id)
    )
    earned = None if row is None else row.level
    end = ladder.window_end(found.today(now), anchor)
    window = (ladder.window_start(end), end)
    sums = (await repo.window_sums(conn, tenant_id, [(member_id, *window)]))[member_id]
    error = None
    try:
        value = found.metric(sums)
    except conditions.ConditionFailed as exc:
        value, error = 0, f"{exc.error_class}: {exc}"
    following = ladder.next_level(earned)
    current = ladder.level(earned)
    keep_threshold = current.threshold if current and current.threshold is not None else 0
    found_rows = await repo.contributions_of(conn, tenant_id, member_id, window, limit)
    expressed = ladder.metric is Metric.EXPRESSION
    return models.Progress(
        metric=ladder.metric.value,
        value=value,
        window_start=window[0],
        window_end=end - timedelta(days=1),
        next_level=following,
        missing=max(0, (following.threshold or 0) - value) if following else 0,
        keep=max(0, keep_threshold - value),
        contributions=tuple(
            models.Contribution(
                r.event_id,
                r.event_type,
                int(r.amount),
                r.occurred_at,
                Aggregates(r.spend, r.purchases, r.visits, r.status_points) if expressed else None,
            )
            for r in found_rows
        ),
        aggregates=sums.aggregates if expressed else None,
        error=error,
    )


async def _anchor(
    conn: AsyncConnection, tenant_id: uuid.UUID, found: Programme, member_id: uuid.UUID
) -> int:
    if found.ladder.window is not WindowKind.ANNIVERSARY_YEAR:
        return 1
    member = await members.get_member(conn, tenant_id, member_id)
    return member.created_at.astimezone(found.zone).month


async def history_of(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    before: uuid.UUID | None,
    limit: int,
) -> list[models.Change]:
    rows = await repo.history_of(conn, tenant_id, member_id, before=before, limit=limit)
    return [
        models.Change(
            id=r.id,
            kind=r.kind,
            from_level=r.from_level,
            to_level=r.to_level,
            reason=r.reason,
            actor=r.actor,
            event_id=r.event_id,
            metric=None if r.metric is None else int(r.metric),
            at=r.created_at,
        )
        for r in rows
    ]


__all__ = [
    "CACHE_SECONDS",
    "DOWNGRADED",
    "UPGRADED",
    "WARNING",
    "Failures",
    "Move",
    "Programme",
    "Simulation",
    "contribution",
    "count_failures",
    "forget",
    "history_of",
    "load",
    "metric_of",
    "moves",
    "override",
    "parse_ladder",
    "programme",
    "progress_of",
    "record",
    "set_ladder",
    "simulate",
    "standing_of",
]
