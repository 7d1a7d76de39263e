"""Streaks: consecutive days or weeks with qualifying activity, in the tenant's calendar.

The rules, which daylight-saving changes do not touch because they count calendar units,
never hours:

* An event belongs to the local day (or ISO week, Monday to Sunday) of the tenant's time
  zone in which it happened. A day of 23 or 25 hours is one day: a purchase at 23:30 and
  another 24 hours later across the spring change in Europe/Berlin are two days apart
  (the 29th of March 2026 had no activity), and across the autumn change in
  America/New_York 00:30 and 23:30 of the 1st of November 2026 are the same day.
* A second event in a unit the streak already counted changes nothing; an event of an
  earlier unit than the last counted (sent late) changes nothing either.
* An event of the unit after the last extends the run by one. After a gap of ``g`` units
  the run goes on if the member holds at least ``g`` freezes, and ``g`` are spent;
  otherwise the run starts again at 1 and the freezes held are kept.
* A member earns a freeze each time the run reaches a multiple of ``freezeEvery`` units,
  holding at most ``maxFreezes``.
* A milestone pays once per run when the run reaches its length, its points and any rule
  effect of an enabled module it names (the ledger key and the effect's key name the
  streak, the member, the unit the run began and the length).
* A purchase refunded in full no longer keeps its unit, nor does one refunded in part whose
  money kept no longer meets the streak's condition (``refunds.Left``): a unit left with no
  activity no longer counts, and the run is recomputed from the units left, in order, by
  these rules (milestones already paid stay paid).
* A run is alive while the units missed since its last one could be covered by the freezes
  held; ``Member.streaks`` shows a run that is not as 0 (the stored run is replaced at the
  member's next qualifying event).

Per event, the runs of every streak it keeps are upserted in the statement that counts the
event (``repository.count_event``), which applies these rules and says which runs grew.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from loyalty_core.sdk import (
    EventTypeSpec,
    NotFound,
    ValidationFailed,
    conditions,
    events,
    ledger,
)
from loyalty_core.sdk.effects import ModuleEffects
from sqlalchemy import and_, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_gamification import health, rewards
from loyalty_gamification import repository as repo
from loyalty_gamification.models import Status
from loyalty_gamification.tables import member_streaks as runs_table
from loyalty_gamification.tables import streak_units, streaks
from loyalty_gamification.verdicts import Verdicts

MAX_MILESTONES = 20


class Unit(StrEnum):
    DAY = "day"
    WEEK = "week"


@dataclass(frozen=True)
class Milestone:
    length: int
    points: int
    effect: dict[str, Any] | None = None
    """Any enabled module's rule effect paid with it (``{effect, params}``), as badges pay."""


@dataclass(frozen=True)
class Streak:
    id: uuid.UUID
    name: str
    description: str
    event_type: str
    condition: str
    unit: Unit
    freeze_every: int | None
    max_freezes: int
    milestones: tuple[Milestone, ...]
    reward_asset: str
    status: Status
    failures: int
    consecutive_failures: int
    last_error: str | None
    last_failure_at: datetime | None
    status_reason: str | None

    @classmethod
    def of(cls, row: Any) -> Streak:
        return cls(
            id=row.id,
            name=row.name,
            description=row.description,
            event_type=row.event_type,
            condition=row.condition,
            unit=Unit(row.unit),
            freeze_every=row.freeze_every,
            max_freezes=row.max_freezes,
            milestones=tuple(
                Milestone(m["length"], m["points"], m.get("effect")) for m in row.milestones
            ),
            reward_asset=row.reward_asset,
            status=Status(row.status),
            failures=row.failures,
            consecutive_failures=row.consecutive_failures,
            last_error=row.last_error,
            last_failure_at=row.last_failure_at,
            status_reason=row.status_reason,
        )

    def unit_of(self, at: datetime, zone: ZoneInfo) -> int:
        """The local calendar unit ``at`` falls in, as an ordinal."""
        local = at.astimezone(zone).date()
        if self.unit is Unit.DAY:
            return local.toordinal()
        return (local.toordinal() - local.weekday()) // 7


@dataclass(frozen=True)
class StreakSpec:
    name: str
    event_type: str
    unit: Unit = Unit.DAY
    condition: str = ""
    freeze_every: int | None = None
    max_freezes: int = 0
    milestones: tuple[Milestone, ...] = ()
    reward_asset: str = ledger.DEFAULT_ASSET_CODE
    description: str = ""
    status: Status = Status.ACTIVE

    @classmethod
    def of(cls, streak: Streak) -> StreakSpec:
        return cls(
            name=streak.name,
            event_type=streak.event_type,
            unit=streak.unit,
            condition=streak.condition,
            freeze_every=streak.freeze_every,
            max_freezes=streak.max_freezes,
            milestones=streak.milestones,
            reward_asset=streak.reward_asset,
            description=streak.description,
            status=streak.status,
        )


async def create(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    spec: StreakSpec,
    module_types: Mapping[str, EventTypeSpec],
    *,
    now: datetime,
    effects: ModuleEffects | None = None,
) -> Streak:
    """Save a new streak, live from the next event on; refused whole when any part is bad."""
    health.status_change(Status.ACTIVE, spec.status)
    spec = _with_effects(spec, effects or {})
    await _check(conn, tenant_id, spec, module_types)
    row = await repo.insert_definition(conn, streaks, tenant_id, _values(spec), now)
    return Streak.of(row)


async def update_streak(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    streak_id: uuid.UUID,
    changes: Mapping[str, Any],
    module_types: Mapping[str, EventTypeSpec],
    *,
    now: datetime,
    effects: ModuleEffects | None = None,
) -> Streak:
    """Change a streak (fields of :class:`StreakSpec`), checked as a whole; members' runs
    stay. ``ACTIVE`` resumes a streak that paused itself (see ``health``)."""
    row = await repo.lock_definition(conn, streaks, tenant_id, streak_id)
    if row is None:
        raise NotFound("no such streak", field="id")
    current = Streak.of(row)
    spec = replace(StreakSpec.of(current), **changes)
    resumed = health.status_change(current.status, spec.status)
    if "milestones" in changes:
        spec = _with_effects(spec, effects or {})
    await _check(conn, tenant_id, spec, module_types)
    values = {**_values(spec), **resumed}
    updated = await repo.update_definition(conn, streaks, tenant_id, streak_id, values, now)
    return Streak.of(updated)


async def _check(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    spec: StreakSpec,
    module_types: Mapping[str, EventTypeSpec],
) -> None:
    if not 1 <= len(spec.name.strip()) <= 200:
        raise ValidationFailed("a name has 1 to 200 characters", field="name")
    if spec.freeze_every is not None and spec.freeze_every <= 0:
        raise ValidationFailed("freezes are earned every 1 or more units", field="freezeEvery")
    if spec.max_freezes < 0:
        raise ValidationFailed("a member holds 0 or more freezes", field="maxFreezes")
    if len(spec.milestones) > MAX_MILESTONES:
        raise ValidationFailed(f"at most {MAX_MILESTONES} milestones", field="milestones")
    lengths = [m.length for m in spec.milestones]
    if any(m.length <= 0 or m.points < 0 for m in spec.milestones) or len(set(lengths)) < len(
        lengths
    ):
        raise ValidationFailed(
            "milestones have distinct positive lengths and points >= 0", field="milestones"
        )
    await conditions.check(conn, tenant_id, spec.event_type, spec.condition, module_types)
    if any(m.points for m in spec.milestones) and (
        await ledger.get_asset(conn, tenant_id, spec.reward_asset) is None
    ):
        raise ValidationFailed(f"no asset {spec.reward_asset!r}", field="rewardAsset")


def _with_effects(spec: StreakSpec, effects: ModuleEffects) -> StreakSpec:
    """The spec with each milestone's rule effect validated (:func:`rewards.normalised`),
    the failing milestone named."""
    found = []
    for index, milestone in enumerate(spec.milestones):
        try:
            effect = rewards.normalised(milestone.effect, effects)
        except ValidationFailed as exc:
            where = (exc.field or "").removeprefix("rewardEffect")
            raise ValidationFailed(exc.message, field=f"milestones.{index}.effect{where}") from exc
        found.append(replace(milestone, effect=effect))
    return replace(spec, milestones=tuple(found))


def _values(spec: StreakSpec) -> dict[str, Any]:
    return {
        "name": spec.name.strip(),
        "description": spec.description,
        "event_type": spec.event_type,
        "condition": spec.condition,
        "unit": spec.unit.value,
        "freeze_every": spec.freeze_every,
        "max_freezes": spec.max_freezes,
        "milestones": [
            {"length": m.length, "points": m.points, "effect": m.effect} for m in spec.milestones
        ],
        "reward_asset": spec.reward_asset,
        "status": spec.status.value,
    }


async def list_streaks(conn: AsyncConnection, tenant_id: uuid.UUID) -> list[Streak]:
    rows = await conn.execute(
        select(streaks).where(streaks.c.tenant_id == tenant_id).order_by(streaks.c.id)
    )
    return [Streak.of(row) for row in rows]


def kept(
    items: Sequence[Streak],
    verdicts: Verdicts,
    at: datetime,
    zone: ZoneInfo,
    tally: health.Tally,
) -> list[repo.Kept]:
    """The streaks an event keeps (its condition holds), with the unit it falls in; the
    streaks whose condition failed for it are told to the tally."""
    found: list[repo.Kept] = []
    for streak in items:
        try:
            holds = verdicts.holds(streak.condition)
        except conditions.ConditionFailed as exc:
            tally.failed("streak", streak, exc)
            continue
        tally.succeeded("streak", streak)
        if not holds:
            continue
        unit = streak.unit_of(at, zone)
        found.append(repo.Kept(streak.id, unit, streak.freeze_every or 0, streak.max_freezes))
    return found


async def pay_milestones(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    streak: Streak,
    length: int,
    started_unit: int,
    event: events.EventIngested,
    now: datetime,
    tally: health.Tally,
) -> Milestone | None:
    """Pay the points of the milestone a run just reached, if any (once per run: see the
    ledger key; one that cannot be posted is told to the tally), and return it, for the
    caller to apply its rule effect."""
    for milestone in streak.milestones:
        if milestone.length != length:
            continue
        if milestone.points:
            try:
                await _pay(conn, tenant_id, streak, milestone, event, started_unit, now)
            except rewards.REFUSED as exc:
                tally.failed("streak", streak, exc)
        return milestone
    return None


async def _pay(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    streak: Streak,
    milestone: Milestone,
    event: events.EventIngested,
    started_unit: int,
    now: datetime,
) -> None:
    key = f"streak:{streak.id}:{event.member_id}:{started_unit}:{milestone.length}"
    await rewards.earn(
        conn,
        ledger.Posting(
            tenant_id=tenant_id,
            idempotency_key=f"gamification:{key}",
            reason=f"streak milestone: {streak.name}, {milestone.length} {streak.unit.value}s",
            cause=ledger.Cause(kind="gamification", id=f"streak:{streak.id}"),
            actor="module:gamification",
            now=now,
        ),
        member_id=event.member_id,
        asset_code=streak.reward_asset,
        amount=milestone.points,
    )


@dataclass(frozen=True)
class Run:
    """A run as the rules make it from a member's units, in order."""

    length: int
    best: int
    started_unit: int
    last_unit: int
    freezes: int
    freezes_spent: int


def replay(units: Sequence[int], freeze_every: int, max_freezes: int) -> Run | None:
    """The run the ingest statement builds from these units (ascending), or None for none;
    the same rules, unit by unit (see ``repository.count_event``)."""

    def earned(length: int) -> int:
        return 1 if freeze_every > 0 and length % freeze_every == 0 else 0

    run: Run | None = None
    for unit in units:
        if run is None:
            run = Run(1, 1, unit, unit, min(max_freezes, earned(1)), 0)
            continue
        gap = unit - run.last_unit - 1
        if gap <= run.freezes:
            length = run.length + 1
            freezes = min(max_freezes, run.freezes - gap + earned(length))
            run = Run(
                length,
                max(run.best, length),
                run.started_unit,
                unit,
                freezes,
                run.freezes_spent + gap,
            )
        else:
            freezes = min(max_freezes, run.freezes + earned(1))
            run = Run(1, run.best, unit, unit, freezes, run.freezes_spent)
    return run


_UNITS_LEFT = "cardinality(purchases) + others"


async def refund(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    purchase_id: uuid.UUID,
    lost: Sequence[uuid.UUID] | None,
    *,
    now: datetime,
) -> None:
    """Take a purchase out of the units it kept, of every streak when it was refunded in full
    (``lost`` None) or of the ``lost`` streaks whose conditions the money kept no longer
    meets; recompute each run left with a unit fewer. The member's runs are locked first, the
    order of the ingest statement (run, then unit), and the purchase leaves an array once: a
    second refund finds nothing."""
    r, u = runs_table.c, streak_units.c
    mine = and_(r.tenant_id == tenant_id, r.member_id == member_id)
    await conn.execute(select(r.streak_id).where(mine).order_by(r.streak_id).with_for_update())
    kept_by = [
        u.tenant_id == tenant_id,
        u.member_id == member_id,
        u.purchases.any_() == purchase_id,
    ]
    if lost is not None:
        kept_by.append(u.streak_id.in_(lost))
    rows = (
        await conn.execute(
            update(streak_units)
            .where(*kept_by)
            .values(purchases=func.array_remove(u.purchases, purchase_id))
            .returning(u.streak_id, text(f"{_UNITS_LEFT} AS left_over"))
        )
    ).all()
    for streak_id in sorted({row.streak_id for row in rows if row.left_over == 0}):
        run = (await conn.execute(select(runs_table).where(mine, r.streak_id == streak_id))).first()
        if run is None:
            continue
        units = await conn.scalars(
            select(u.unit)
            .where(
                u.tenant_id == tenant_id,
                u.member_id == member_id,
                u.streak_id == streak_id,
                text(f"{_UNITS_LEFT} > 0"),
            )
            .order_by(u.unit)
        )
        replayed = replay(list(units), run.freeze_every, run.max_freezes)
        where = and_(mine, r.streak_id == streak_id)
        if replayed is None:
            await conn.execute(delete(runs_table).where(where))
            continue
        await conn.execute(
            update(runs_table)
            .where(where)
            .values(
                length=replayed.length,
                best=replayed.best,
                started_unit=replayed.started_unit,
                last_unit=replayed.last_unit,
                freezes=replayed.freezes,
                freezes_spent=replayed.freezes_spent,
                extended=False,
                updated_at=now,
            )
        )


@dataclass(frozen=True)
class MemberStreak:
    """A member's run of a streak as of now: 0 when it broke (see the module's rules)."""

    streak: Streak
    length: int
    best: int
    freezes: int
    freezes_spent: int
    last_unit: int | None


async def member_streaks(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_ids: list[uuid.UUID],
    live: Sequence[Streak],
    *,
    now: datetime,
    zone: ZoneInfo,
) -> list[list[MemberStreak]]:
    rows = await conn.execute(
        select(runs_table).where(
            runs_table.c.tenant_id == tenant_id, runs_table.c.member_id.in_(member_ids)
        )
    )
    runs = {(row.member_id, row.streak_id): row for row in rows}
    found: list[list[MemberStreak]] = []
    for member_id in member_ids:
        mine = []
        for streak in live:
            run = runs.get((member_id, streak.id))
            if run is None:
                mine.append(MemberStreak(streak, 0, 0, 0, 0, None))
                continue
            missed = streak.unit_of(now, zone) - run.last_unit - 1
            alive = missed <= run.freezes
            mine.append(
                MemberStreak(
                    streak,
                    run.length if alive else 0,
                    run.best,
                    run.freezes,
                    run.freezes_spent,
                    run.last_unit,
                )
            )
        found.append(mine)
    return found


__all__ = [
    "MemberStreak",
    "Milestone",
    "Run",
    "Streak",
    "StreakSpec",
    "Unit",
    "create",
    "kept",
    "list_streaks",
    "member_streaks",
    "pay_milestones",
    "refund",
    "replay",
    "update_streak",
]
