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
* A milestone pays once per run when the run reaches its length (the ledger key names the
  streak, the member, the unit the run began and the length).
* A run is alive while the units missed since its last one could be covered by the freezes
  held; ``Member.streaks`` shows a run that is not as 0 (the stored run is replaced at the
  member's next qualifying event).

Per event, the runs of every streak it keeps are upserted in the statement that counts the
event (``repository.count_event``), which applies these rules and says which runs grew.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from loyalty_core.sdk import (
    EventTypeSpec,
    ValidationFailed,
    conditions,
    events,
    ledger,
    new_id,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_gamification import repository as repo
from loyalty_gamification.models import Status
from loyalty_gamification.tables import member_streaks as runs_table
from loyalty_gamification.tables import streaks

MAX_MILESTONES = 20


class Unit(StrEnum):
    DAY = "day"
    WEEK = "week"


@dataclass(frozen=True)
class Milestone:
    length: int
    points: int


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
    last_error: str | None

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
            milestones=tuple(Milestone(m["length"], m["points"]) for m in row.milestones),
            reward_asset=row.reward_asset,
            status=Status(row.status),
            failures=row.failures,
            last_error=row.last_error,
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


async def create(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    spec: StreakSpec,
    module_types: Mapping[str, EventTypeSpec],
    *,
    now: datetime,
) -> Streak:
    """Save a new streak, live from the next event on; refused whole when any part is bad."""
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
    row = (
        await conn.execute(
            streaks.insert()
            .values(
                tenant_id=tenant_id,
                id=new_id(),
                name=spec.name.strip(),
                description=spec.description,
                event_type=spec.event_type,
                condition=spec.condition,
                unit=spec.unit.value,
                freeze_every=spec.freeze_every,
                max_freezes=spec.max_freezes,
                milestones=[{"length": m.length, "points": m.points} for m in spec.milestones],
                reward_asset=spec.reward_asset,
                status=Status.ACTIVE.value,
                updated_at=now,
            )
            .returning(streaks)
        )
    ).one()
    await repo.bump_catalogue(conn, tenant_id)
    return Streak.of(row)


def kept(
    items: Sequence[Streak], variables: dict[str, Any], at: datetime, zone: ZoneInfo
) -> tuple[list[repo.Kept], list[tuple[Streak, Exception]]]:
    """The streaks an event keeps (its condition holds), with the unit it falls in; and the
    streaks whose condition failed for it, for the caller to count."""
    found: list[repo.Kept] = []
    failed: list[tuple[Streak, Exception]] = []
    for streak in items:
        try:
            if not conditions.evaluate(streak.condition, variables):
                continue
        except conditions.ConditionFailed as exc:
            failed.append((streak, exc))
            continue
        unit = streak.unit_of(at, zone)
        found.append(repo.Kept(streak.id, unit, streak.freeze_every or 0, streak.max_freezes))
    return found, failed


async def pay_milestones(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    streak: Streak,
    length: int,
    started_unit: int,
    event: events.EventIngested,
    now: datetime,
) -> None:
    """Pay the milestone a run just reached, if any (once per run: see the ledger key)."""
    for milestone in streak.milestones:
        if milestone.length == length and milestone.points:
            await _pay(conn, tenant_id, streak, milestone, event, started_unit, now)


async def _pay(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    streak: Streak,
    milestone: Milestone,
    event: events.EventIngested,
    started_unit: int,
    now: datetime,
) -> None:
    asset = await ledger.get_asset(conn, tenant_id, streak.reward_asset)
    if asset is None:
        return
    key = f"streak:{streak.id}:{event.member_id}:{started_unit}:{milestone.length}"
    await ledger.earn(
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
        asset=asset,
        amount=milestone.points,
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
    "Streak",
    "StreakSpec",
    "Unit",
    "create",
    "kept",
    "member_streaks",
    "pay_milestones",
]
