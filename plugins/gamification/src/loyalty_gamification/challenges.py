"""Challenges (missions): several steps to complete in a time box, for a reward.

A step counts events of a type for which its condition holds, to its target. Steps are
done in any order, or in order (``ordered``: only the first step not yet done counts). A
challenge is for members who join it (``optIn``, with ``challengeJoin``) or for everyone,
and may target a segment (the member must be in it when the event counts, as campaigns
see segments). Only events inside the challenge's window count. Completing every step pays
the reward once: the member's progress row is locked while an event counts, and the
completion is written with the reward in that transaction, under a ledger key naming the
challenge and the member. Besides points, a challenge may pay any enabled module's rule
effect, as a badge may (``rewards``), applied by the caller in a savepoint.

A refund takes back the steps its purchase counted and no longer meets (``refund``): all of
them once it is refunded in full, and before that a step whose condition the money kept no
longer meets (``refunds.Left``), each once however many refunds it takes and whatever their
concurrency (the member's row is locked before the refunds already written are read). A step
without a condition on the amount stays counted until the purchase is refunded in full, as a
visit counts. A challenge already completed stays completed and paid (a completion is a
promise kept).

Per event: nothing for a tenant without challenges of the event's type; else the statement
that counts the event (``repository.count_event``) also creates or locks the member's rows
of the automatic challenges whose steps it meets and locks its rows of the joined opt-in
ones, then one statement counts the steps of every challenge the event advances (with
their explanation rows).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from loyalty_core.sdk import (
    EventTypeSpec,
    NotFound,
    Prepared,
    ValidationFailed,
    conditions,
    events,
    ledger,
)
from loyalty_core.sdk.effects import ModuleEffects
from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_gamification import health, rewards
from loyalty_gamification import repository as repo
from loyalty_gamification.models import Status
from loyalty_gamification.tables import (
    challenge_contributions,
    challenge_progress,
    challenges,
)
from loyalty_gamification.verdicts import Verdicts

MAX_STEPS = 10


@dataclass(frozen=True)
class Step:
    name: str
    event_type: str
    target: int
    condition: str = ""


@dataclass(frozen=True)
class Challenge:
    id: uuid.UUID
    name: str
    description: str
    starts_at: datetime
    ends_at: datetime
    ordered: bool
    opt_in: bool
    segment: str | None
    steps: tuple[Step, ...]
    reward_points: int
    reward_asset: str
    reward_effect: dict[str, Any] | None
    status: Status
    failures: int
    consecutive_failures: int
    last_error: str | None
    last_failure_at: datetime | None
    status_reason: str | None

    @classmethod
    def of(cls, row: Any) -> Challenge:
        return cls(
            id=row.id,
            name=row.name,
            description=row.description,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            ordered=row.ordered,
            opt_in=row.opt_in,
            segment=row.segment,
            steps=tuple(
                Step(s["name"], s["eventType"], s["target"], s.get("condition", ""))
                for s in row.steps
            ),
            reward_points=row.reward_points,
            reward_asset=row.reward_asset,
            reward_effect=row.reward_effect,
            status=Status(row.status),
            failures=row.failures,
            consecutive_failures=row.consecutive_failures,
            last_error=row.last_error,
            last_failure_at=row.last_failure_at,
            status_reason=row.status_reason,
        )

    @property
    def segment_condition(self) -> str:
        """The condition that the member is in the challenge's segment (empty: everyone)."""
        return "" if self.segment is None else f"{json.dumps(self.segment)} in member.segments"


@dataclass(frozen=True)
class ChallengeSpec:
    name: str
    starts_at: datetime
    ends_at: datetime
    steps: tuple[Step, ...]
    ordered: bool = False
    opt_in: bool = False
    segment: str | None = None
    reward_points: int = 0
    reward_asset: str = ledger.DEFAULT_ASSET_CODE
    reward_effect: Mapping[str, Any] | None = None
    description: str = ""
    status: Status = Status.ACTIVE

    @classmethod
    def of(cls, challenge: Challenge) -> ChallengeSpec:
        return cls(
            name=challenge.name,
            starts_at=challenge.starts_at,
            ends_at=challenge.ends_at,
            steps=challenge.steps,
            ordered=challenge.ordered,
            opt_in=challenge.opt_in,
            segment=challenge.segment,
            reward_points=challenge.reward_points,
            reward_asset=challenge.reward_asset,
            reward_effect=challenge.reward_effect,
            description=challenge.description,
            status=challenge.status,
        )


async def create(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    spec: ChallengeSpec,
    module_types: Mapping[str, EventTypeSpec],
    *,
    now: datetime,
    effects: ModuleEffects | None = None,
) -> Challenge:
    """Save a new challenge, refused whole when any part is bad. ``effects``: the rule effects
    of the tenant's enabled modules, which a challenge may reward with, as a badge may."""
    health.status_change(Status.ACTIVE, spec.status)
    spec = replace(spec, reward_effect=rewards.normalised(spec.reward_effect, effects or {}))
    await _check(conn, tenant_id, spec, module_types)
    row = await repo.insert_definition(conn, challenges, tenant_id, _values(spec), now)
    return Challenge.of(row)


async def update_challenge(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    challenge_id: uuid.UUID,
    changes: Mapping[str, Any],
    module_types: Mapping[str, EventTypeSpec],
    *,
    now: datetime,
    effects: ModuleEffects | None = None,
) -> Challenge:
    """Change a challenge (fields of :class:`ChallengeSpec`), checked as a whole; progress
    so far stays."""
    row = await repo.lock_definition(conn, challenges, tenant_id, challenge_id)
    if row is None:
        raise NotFound("no such challenge", field="id")
    current = Challenge.of(row)
    spec = replace(ChallengeSpec.of(current), **changes)
    if "reward_effect" in changes:
        spec = replace(spec, reward_effect=rewards.normalised(spec.reward_effect, effects or {}))
    if len(spec.steps) != len(current.steps):
        raise ValidationFailed("a live challenge keeps its number of steps", field="steps")
    resumed = health.status_change(current.status, spec.status)
    await _check(conn, tenant_id, spec, module_types)
    values = {**_values(spec), **resumed}
    updated = await repo.update_definition(conn, challenges, tenant_id, challenge_id, values, now)
    return Challenge.of(updated)


async def _check(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    spec: ChallengeSpec,
    module_types: Mapping[str, EventTypeSpec],
) -> None:
    if not 1 <= len(spec.name.strip()) <= 200:
        raise ValidationFailed("a name has 1 to 200 characters", field="name")
    if spec.starts_at >= spec.ends_at:
        raise ValidationFailed("a challenge ends after it starts", field="endsAt")
    if not 1 <= len(spec.steps) <= MAX_STEPS:
        raise ValidationFailed(f"a challenge has 1 to {MAX_STEPS} steps", field="steps")
    if spec.reward_points < 0:
        raise ValidationFailed("a reward cannot be negative", field="rewardPoints")
    for index, step in enumerate(spec.steps):
        where = f"steps.{index}"
        if not 1 <= len(step.name.strip()) <= 200:
            raise ValidationFailed("a step's name has 1 to 200 characters", field=f"{where}.name")
        if step.target <= 0:
            raise ValidationFailed("a step's target must be positive", field=f"{where}.target")
        await conditions.check(
            conn,
            tenant_id,
            step.event_type,
            step.condition,
            module_types,
            event_type_field=f"{where}.eventType",
            field=f"{where}.condition",
        )
    if spec.segment is not None and spec.segment not in await conditions.segment_names(
        conn, tenant_id
    ):
        raise NotFound(f"no segment named {spec.segment!r}", field="segment")
    if spec.reward_points and await ledger.get_asset(conn, tenant_id, spec.reward_asset) is None:
        raise ValidationFailed(f"no asset {spec.reward_asset!r}", field="rewardAsset")


def _values(spec: ChallengeSpec) -> dict[str, Any]:
    return {
        "name": spec.name.strip(),
        "description": spec.description,
        "starts_at": spec.starts_at,
        "ends_at": spec.ends_at,
        "ordered": spec.ordered,
        "opt_in": spec.opt_in,
        "segment": spec.segment,
        "steps": [
            {
                "name": s.name,
                "eventType": s.event_type,
                "target": s.target,
                "condition": s.condition,
            }
            for s in spec.steps
        ],
        "reward_points": spec.reward_points,
        "reward_asset": spec.reward_asset,
        "reward_effect": None if spec.reward_effect is None else dict(spec.reward_effect),
        "status": spec.status.value,
    }


async def join(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    challenge: Challenge,
    member_id: uuid.UUID,
    *,
    now: datetime,
) -> None:
    """Join the member to an opt-in challenge (again: nothing changes). Events before the
    join do not count."""
    if challenge.status is not Status.ACTIVE or now >= challenge.ends_at:
        raise ValidationFailed("the challenge is over", field="challengeId")
    statement = insert(challenge_progress).values(
        tenant_id=tenant_id,
        member_id=member_id,
        challenge_id=challenge.id,
        counts=[0] * len(challenge.steps),
        joined_at=now,
        updated_at=now,
    )
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=[
                challenge_progress.c.tenant_id,
                challenge_progress.c.member_id,
                challenge_progress.c.challenge_id,
            ],
            set_={"joined_at": challenge_progress.c.joined_at},
        )
    )


async def get(conn: AsyncConnection, tenant_id: uuid.UUID, challenge_id: uuid.UUID) -> Challenge:
    row = (
        await conn.execute(
            select(challenges).where(
                challenges.c.tenant_id == tenant_id, challenges.c.id == challenge_id
            )
        )
    ).first()
    if row is None:
        raise NotFound("no such challenge", field="challengeId")
    return Challenge.of(row)


async def list_challenges(conn: AsyncConnection, tenant_id: uuid.UUID) -> list[Challenge]:
    rows = await conn.execute(
        select(challenges).where(challenges.c.tenant_id == tenant_id).order_by(challenges.c.id)
    )
    return [Challenge.of(row) for row in rows]


_ADVANCE = Prepared(
    text(
        """
WITH input AS (
    SELECT * FROM unnest(
        CAST(:challenge_ids AS uuid[]), CAST(:counts AS text[]), CAST(:steps AS text[]),
        CAST(:completed_at AS timestamptz[]), CAST(:transaction_ids AS uuid[])
    ) AS i(challenge_id, counts, steps, completed_at, transaction_id)
), explained AS (
    INSERT INTO gamification_challenge_contributions
        (tenant_id, event_id, challenge_id, member_id, steps, occurred_at)
    SELECT :tenant_id, :event_id, challenge_id, :member_id, CAST(steps AS integer[]), :at
    FROM input
)
UPDATE gamification_challenge_progress AS p SET
    counts = CAST(i.counts AS jsonb), completed_at = i.completed_at,
    completed_by = CASE WHEN i.completed_at IS NULL THEN NULL ELSE :event_id END,
    transaction_id = i.transaction_id, updated_at = :now
FROM input AS i
WHERE p.tenant_id = :tenant_id AND p.member_id = :member_id AND p.challenge_id = i.challenge_id
"""
    )
)
"""Count the steps an event advanced on the member's locked rows of every challenge it
advances, and say which (the explanation a refund reverses), in one statement; prepared, as
it runs for most events."""


def met(
    items: Sequence[Challenge],
    event: events.EventIngested,
    verdicts: Verdicts,
    tally: health.Tally,
) -> dict[uuid.UUID, set[int]]:
    """The steps the event meets, per live challenge whose window holds it; the challenges
    whose conditions failed are told to the tally."""
    found: dict[uuid.UUID, set[int]] = {}
    for challenge in items:
        if not challenge.starts_at <= event.occurred_at < challenge.ends_at:
            continue
        try:
            steps = _met(challenge, event, verdicts)
        except conditions.ConditionFailed as exc:
            tally.failed("challenge", challenge, exc)
            continue
        tally.succeeded("challenge", challenge)
        if steps:
            found[challenge.id] = steps
    return found


async def advance(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    items: Sequence[Challenge],
    steps: Mapping[uuid.UUID, set[int]],
    rows: Sequence[Any],
    event: events.EventIngested,
    now: datetime,
    tally: health.Tally,
) -> list[Challenge]:
    """Advance the member's locked rows (``repository.count_event`` locked them: ``id`` the
    challenge, ``counts``, ``joined_at``) by the steps the event meets, and complete what is
    done, paying the points; the challenges completed, whose rule effect the caller applies."""
    by_id = {challenge.id: challenge for challenge in items}
    completed = []
    moved: list[tuple[uuid.UUID, list[int], list[int], uuid.UUID | None, bool]] = []
    for row in sorted(rows, key=lambda r: r.id):
        if row.joined_at is not None and event.occurred_at < row.joined_at:
            continue
        challenge = by_id[row.id]
        counts = row.counts if isinstance(row.counts, list) else json.loads(row.counts)
        advanced = _advanced(challenge, steps[challenge.id], counts)
        if advanced is None:
            continue
        indexes, counted, done = advanced
        paid = await _reward(conn, tenant_id, challenge, event, now, tally) if done else None
        moved.append((challenge.id, indexes, counted, paid, done))
        if done:
            completed.append(challenge)
    if moved:
        await _ADVANCE.execute(
            conn,
            {
                "tenant_id": tenant_id,
                "member_id": event.member_id,
                "event_id": event.event_id,
                "challenge_ids": [m[0] for m in moved],
                "steps": ["{" + ",".join(map(str, m[1])) + "}" for m in moved],
                "counts": [json.dumps(m[2]) for m in moved],
                "completed_at": [event.occurred_at if m[4] else None for m in moved],
                "transaction_ids": [m[3] for m in moved],
                "at": event.occurred_at,
                "now": now,
            },
        )
    return completed


def _met(challenge: Challenge, event: events.EventIngested, verdicts: Verdicts) -> set[int]:
    steps = {
        index
        for index, step in enumerate(challenge.steps)
        if step.event_type == event.type and verdicts.holds(step.condition)
    }
    in_segment = challenge.segment is None or verdicts.holds(challenge.segment_condition)
    return steps if steps and in_segment else set()


def _advanced(
    challenge: Challenge, met: set[int], stored: Sequence[int]
) -> tuple[list[int], list[int], bool] | None:
    """The steps the event advances (of those it meets, the open ones; in an ordered
    challenge only the first open one), the counts after it, and whether every step is then
    done; None when it advances nothing."""
    targets = [step.target for step in challenge.steps]
    counts = [*stored, *[0] * len(targets)][: len(targets)]
    open_steps = [i for i in range(len(targets)) if counts[i] < targets[i]]
    counting = open_steps[:1] if challenge.ordered else open_steps
    advanced = [i for i in counting if i in met]
    if not advanced:
        return None
    for index in advanced:
        counts[index] += 1
    return advanced, counts, all(c >= t for c, t in zip(counts, targets, strict=True))


async def _reward(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    challenge: Challenge,
    event: events.EventIngested,
    now: datetime,
    tally: health.Tally,
) -> uuid.UUID | None:
    """Pay the completion; one that cannot be posted is told to the tally (the challenge
    stays completed, unpaid)."""
    if not challenge.reward_points:
        return None
    try:
        return await _earn(conn, tenant_id, challenge, event, now)
    except rewards.REFUSED as exc:
        tally.failed("challenge", challenge, exc)
        return None


async def _earn(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    challenge: Challenge,
    event: events.EventIngested,
    now: datetime,
) -> uuid.UUID:
    return await rewards.earn(
        conn,
        ledger.Posting(
            tenant_id=tenant_id,
            idempotency_key=f"gamification:challenge:{challenge.id}:{event.member_id}",
            reason=f"challenge completed: {challenge.name}",
            cause=ledger.Cause(kind="gamification", id=f"challenge:{challenge.id}"),
            actor="module:gamification",
            now=now,
        ),
        member_id=event.member_id,
        asset_code=challenge.reward_asset,
        amount=challenge.reward_points,
    )


async def refund(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    purchase_id: uuid.UUID,
    refund_id: uuid.UUID,
    lost: Callable[[uuid.UUID, int], bool],
    *,
    at: datetime,
    now: datetime,
) -> None:
    """Take back the steps a purchase counted that its refunds lost (``lost(challenge id,
    step index)``: refunded in full, or the money kept no longer meets the step's condition),
    challenge by challenge in id order. Each member row is locked before the refunds already
    written for the purchase are read, the order the ingest path takes: of concurrent refunds
    of one purchase each takes back only what the ones before it did not, so a step is taken
    back once. A completed challenge stays completed: nothing is taken back from it."""
    c = challenge_contributions.c
    counted = (
        await conn.execute(
            select(c.challenge_id, c.steps)
            .where(c.tenant_id == tenant_id, c.event_id == purchase_id)
            .order_by(c.challenge_id)
        )
    ).all()
    p = challenge_progress.c
    for row in counted:
        losing = [index for index in row.steps if lost(row.challenge_id, index)]
        if not losing:
            continue
        mine = (
            await conn.execute(
                select(p.counts, p.completed_at)
                .where(
                    p.tenant_id == tenant_id,
                    p.member_id == member_id,
                    p.challenge_id == row.challenge_id,
                )
                .with_for_update()
            )
        ).first()
        if mine is None or mine.completed_at is not None:
            continue
        before = await conn.scalars(
            select(c.steps).where(
                c.tenant_id == tenant_id,
                c.member_id == member_id,
                c.challenge_id == row.challenge_id,
                c.refund_of == purchase_id,
            )
        )
        taken_before = {index for steps in before for index in steps}
        taken = [index for index in losing if index not in taken_before]
        if not taken:
            continue
        written = await conn.execute(
            insert(challenge_contributions)
            .values(
                tenant_id=tenant_id,
                event_id=refund_id,
                challenge_id=row.challenge_id,
                member_id=member_id,
                steps=taken,
                refund_of=purchase_id,
                occurred_at=at,
            )
            .on_conflict_do_nothing()
            .returning(c.challenge_id)
        )
        if written.first() is None:
            continue
        counts = list(mine.counts if isinstance(mine.counts, list) else json.loads(mine.counts))
        for index in taken:
            if index < len(counts):
                counts[index] = max(counts[index] - 1, 0)
        await conn.execute(
            update(challenge_progress)
            .where(
                p.tenant_id == tenant_id,
                p.member_id == member_id,
                p.challenge_id == row.challenge_id,
            )
            .values(counts=counts, updated_at=now)
        )


async def contributions(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_id: uuid.UUID, challenge_id: uuid.UUID
) -> Sequence[Any]:
    """The member's explanation rows of a challenge, oldest first (a read for one member, not
    on the ingest path)."""
    c = challenge_contributions.c
    return (
        await conn.execute(
            select(challenge_contributions)
            .where(
                c.tenant_id == tenant_id, c.member_id == member_id, c.challenge_id == challenge_id
            )
            .order_by(c.occurred_at, c.created_at)
        )
    ).all()


@dataclass(frozen=True)
class MemberChallenge:
    challenge: Challenge
    counts: tuple[int, ...]
    joined_at: datetime | None
    completed_at: datetime | None
    transaction_id: uuid.UUID | None


async def member_challenges(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_ids: list[uuid.UUID],
    live: Sequence[Challenge],
) -> list[list[MemberChallenge]]:
    """Per member, every live challenge with its progress (zero counts when none yet)."""
    rows = await conn.execute(
        select(challenge_progress).where(
            challenge_progress.c.tenant_id == tenant_id,
            challenge_progress.c.member_id.in_(member_ids),
        )
    )
    found = {(row.member_id, row.challenge_id): row for row in rows}
    result: list[list[MemberChallenge]] = []
    for member_id in member_ids:
        mine = []
        for challenge in live:
            row = found.get((member_id, challenge.id))
            size = len(challenge.steps)
            if row is None:
                mine.append(MemberChallenge(challenge, (0,) * size, None, None, None))
                continue
            counts = (tuple(row.counts) + (0,) * size)[:size]
            mine.append(
                MemberChallenge(
                    challenge, counts, row.joined_at, row.completed_at, row.transaction_id
                )
            )
        result.append(mine)
    return result


__all__ = [
    "Challenge",
    "ChallengeSpec",
    "MemberChallenge",
    "Step",
    "advance",
    "contributions",
    "create",
    "get",
    "join",
    "list_challenges",
    "member_challenges",
    "met",
    "refund",
    "update_challenge",
]
