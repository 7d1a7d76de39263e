"""SQL of the module, every statement filtered by tenant (row-level security is the second
wall). An event costs the ingest path one statement for all its badges, streaks and
leaderboards, which wins its races itself: see :func:`count_event`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from loyalty_core.sdk import Prepared, new_id
from sqlalchemy import Table, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_gamification.tables import (
    awards,
    badges,
    catalogues,
    contributions,
    progress,
    streaks,
)

_VERSION = Prepared(
    select(catalogues.c.version).where(catalogues.c.tenant_id == bindparam("tenant_id"))
)
"""Prepared: it runs for every event."""


async def catalogue_version(conn: AsyncConnection, tenant_id: uuid.UUID) -> int:
    """The tenant's catalogue version (0 before its first definition)."""
    found = await _VERSION.first(conn, {"tenant_id": tenant_id})
    return 0 if found is None else int(found.version)


async def bump_catalogue(conn: AsyncConnection, tenant_id: uuid.UUID) -> None:
    """Raise the tenant's catalogue version in the transaction that changes a definition:
    every process's cached copy is stale from its commit on."""
    statement = insert(catalogues).values(tenant_id=tenant_id, version=1)
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=[catalogues.c.tenant_id],
            set_={"version": catalogues.c.version + 1},
        )
    )


async def live_badges(conn: AsyncConnection, tenant_id: uuid.UUID) -> Sequence[Any]:
    return (
        await conn.execute(
            select(badges).where(badges.c.tenant_id == tenant_id, badges.c.status == "active")
        )
    ).all()


async def live_streaks(conn: AsyncConnection, tenant_id: uuid.UUID) -> Sequence[Any]:
    return (
        await conn.execute(
            select(streaks)
            .where(streaks.c.tenant_id == tenant_id, streaks.c.status == "active")
            .order_by(streaks.c.id)
        )
    ).all()


async def insert_definition(
    conn: AsyncConnection,
    table: Table,
    tenant_id: uuid.UUID,
    values: Mapping[str, Any],
    now: datetime,
) -> Any:
    """Save a new definition (a badge, challenge, streak or leaderboard) and raise the
    catalogue version in the same transaction; the new row."""
    row = (
        await conn.execute(
            table.insert()
            .values(tenant_id=tenant_id, id=new_id(), **values, updated_at=now)
            .returning(table)
        )
    ).one()
    await bump_catalogue(conn, tenant_id)
    return row


async def lock_definition(
    conn: AsyncConnection, table: Table, tenant_id: uuid.UUID, definition_id: uuid.UUID
) -> Any:
    """A definition's row, locked for an update (None when there is none)."""
    query = select(table).where(table.c.tenant_id == tenant_id, table.c.id == definition_id)
    return (await conn.execute(query.with_for_update())).first()


async def update_definition(
    conn: AsyncConnection,
    table: Table,
    tenant_id: uuid.UUID,
    definition_id: uuid.UUID,
    values: Mapping[str, Any],
    now: datetime,
) -> Any:
    """Change a definition locked by :func:`lock_definition` and raise the catalogue version
    in the same transaction; the changed row."""
    row = (
        await conn.execute(
            update(table)
            .where(table.c.tenant_id == tenant_id, table.c.id == definition_id)
            .values(**values, updated_at=now)
            .returning(table)
        )
    ).one()
    await bump_catalogue(conn, tenant_id)
    return row


async def list_badges(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    after: uuid.UUID | None,
    limit: int,
    with_secret: bool,
) -> Sequence[Any]:
    query = select(badges).where(badges.c.tenant_id == tenant_id)
    if not with_secret:
        query = query.where(badges.c.secret.is_(False), badges.c.status == "active")
    if after is not None:
        query = query.where(badges.c.id > after)
    return (await conn.execute(query.order_by(badges.c.id).limit(limit))).all()


def _completions(value: str, target: str, repeatable: str) -> str:
    """SQL for the completions ``value`` makes (see ``Badge.completions``)."""
    reached = f"GREATEST({value}, 0) / {target}"
    return f"CASE WHEN {repeatable} THEN {reached} ELSE LEAST({reached}, 1) END"


_FIRST = _completions("c.granted", "c.target", "c.repeatable")
_NEXT = _completions("p.value + excluded.value", "excluded.target", "excluded.repeatable")
_GAP = "(excluded.last_unit - s.last_unit - 1)"
_LATE = "excluded.last_unit <= s.last_unit"
_KEPT = f"{_GAP} <= s.freezes"
_LENGTH = f"CASE WHEN {_LATE} THEN s.length WHEN {_KEPT} THEN s.length + 1 ELSE 1 END"


def _freeze_earned(length: str, every: str) -> str:
    """SQL: 1 when a run of ``length`` earns a freeze (a multiple of ``every``), else 0."""
    return f"CASE WHEN {every} > 0 AND ({length}) % {every} = 0 THEN 1 ELSE 0 END"


_INGEST = Prepared(
    text(
        f"""
WITH input AS (
    SELECT * FROM unnest(
        CAST(:badge_ids AS uuid[]), CAST(:period_keys AS text[]), CAST(:offered AS bigint[]),
        CAST(:caps AS bigint[]), CAST(:days AS date[]), CAST(:targets AS bigint[]),
        CAST(:repeatable AS boolean[])
    ) AS i(badge_id, period_key, offered, cap, day, target, repeatable)
), capped AS (
    INSERT INTO gamification_badge_days AS d
        (tenant_id, badge_id, member_id, day, value, granted, cap)
    SELECT :tenant_id, badge_id, :member_id, day, LEAST(cap, offered), LEAST(cap, offered), cap
    FROM input WHERE cap IS NOT NULL
    ON CONFLICT (tenant_id, badge_id, member_id, day) DO UPDATE SET
        value = LEAST(excluded.cap, d.value + excluded.value),
        granted = LEAST(excluded.cap, d.value + excluded.value) - d.value,
        cap = excluded.cap
    RETURNING badge_id, granted
), counted AS (
    SELECT i.badge_id, i.period_key, i.offered, COALESCE(c.granted, i.offered) AS granted,
           i.target, i.repeatable
    FROM input i LEFT JOIN capped c ON c.badge_id = i.badge_id
), explained AS (
    INSERT INTO gamification_badge_contributions
        (tenant_id, badge_id, event_id, member_id, period_key, amount, offered, occurred_at)
    SELECT :tenant_id, badge_id, :event_id, :member_id, period_key, granted, offered, :at
    FROM counted
), progressed AS (
    INSERT INTO gamification_badge_progress AS p (
        tenant_id, badge_id, member_id, period_key, value, target, repeatable,
        earned, awarded, change, updated_at
    )
    SELECT :tenant_id, c.badge_id, :member_id, c.period_key, c.granted, c.target, c.repeatable,
           {_FIRST}, {_FIRST}, {_FIRST}, :now
    FROM counted c
    WHERE c.granted > 0
    ON CONFLICT (tenant_id, badge_id, member_id, period_key) DO UPDATE SET
        value = p.value + excluded.value,
        target = excluded.target,
        repeatable = excluded.repeatable,
        earned = GREATEST(p.earned, {_NEXT}),
        awarded = p.awarded + GREATEST({_NEXT} - p.earned, 0),
        change = GREATEST({_NEXT} - p.earned, 0),
        updated_at = excluded.updated_at
    RETURNING badge_id, period_key, awarded, change
), runs AS (
    INSERT INTO gamification_member_streaks AS s (
        tenant_id, streak_id, member_id, length, best, started_unit, last_unit, freezes,
        freezes_spent, freeze_every, max_freezes, extended, updated_at
    )
    SELECT :tenant_id, r.streak_id, :member_id, 1, 1, r.unit, r.unit,
           LEAST(r.max_freezes, {_freeze_earned("1", "r.freeze_every")}), 0,
           r.freeze_every, r.max_freezes, true, :now
    FROM unnest(
        CAST(:streak_ids AS uuid[]), CAST(:units AS integer[]),
        CAST(:freeze_every AS integer[]), CAST(:max_freezes AS integer[])
    ) AS r(streak_id, unit, freeze_every, max_freezes)
    ON CONFLICT (tenant_id, streak_id, member_id) DO UPDATE SET
        length = {_LENGTH},
        best = GREATEST(s.best, {_LENGTH}),
        started_unit = CASE WHEN {_LATE} OR {_KEPT} THEN s.started_unit
                            ELSE excluded.last_unit END,
        last_unit = GREATEST(s.last_unit, excluded.last_unit),
        freezes = CASE
            WHEN {_LATE} THEN s.freezes
            WHEN {_KEPT} THEN LEAST(excluded.max_freezes, s.freezes - {_GAP}
                 + {_freeze_earned("s.length + 1", "excluded.freeze_every")})
            ELSE LEAST(excluded.max_freezes,
                       s.freezes + {_freeze_earned("1", "excluded.freeze_every")}) END,
        freezes_spent = s.freezes_spent
            + CASE WHEN NOT {_LATE} AND {_KEPT} THEN {_GAP} ELSE 0 END,
        freeze_every = excluded.freeze_every,
        max_freezes = excluded.max_freezes,
        extended = NOT {_LATE},
        updated_at = excluded.updated_at
    RETURNING streak_id, length, started_unit, extended
), units AS (
    INSERT INTO gamification_streak_units AS u
        (tenant_id, member_id, streak_id, unit, purchases, others)
    SELECT :tenant_id, :member_id, k.streak_id, k.unit,
           CASE WHEN CAST(:purchase AS boolean) THEN ARRAY[CAST(:event_id AS uuid)]
                ELSE CAST('{{}}' AS uuid[]) END,
           CASE WHEN CAST(:purchase AS boolean) THEN 0 ELSE 1 END
    FROM runs JOIN unnest(CAST(:streak_ids AS uuid[]), CAST(:units AS integer[]))
        AS k(streak_id, unit) ON k.streak_id = runs.streak_id
    ON CONFLICT (tenant_id, member_id, streak_id, unit) DO UPDATE SET
        purchases = u.purchases || excluded.purchases,
        others = u.others + excluded.others
), scored AS (
    INSERT INTO gamification_board_scores AS sc
        (tenant_id, board_id, window_key, member_id, score, reached_at)
    SELECT :tenant_id, k.board_id, k.window_key, :member_id, k.delta, :now
    FROM unnest(CAST(:board_ids AS uuid[]), CAST(:window_keys AS text[]),
                CAST(:deltas AS bigint[])) AS k(board_id, window_key, delta)
    WHERE NOT EXISTS (
        SELECT FROM gamification_players pl
        WHERE pl.tenant_id = :tenant_id AND pl.member_id = :member_id AND pl.hidden
    )
    ON CONFLICT (tenant_id, board_id, window_key, member_id) DO UPDATE SET
        score = sc.score + excluded.score,
        reached_at = excluded.reached_at
), automatic AS (
    INSERT INTO gamification_challenge_progress AS cp
        (tenant_id, member_id, challenge_id, counts, updated_at)
    SELECT :tenant_id, :member_id, c, CAST('[]' AS jsonb), :now
    FROM unnest(CAST(:automatic_ids AS uuid[])) AS c
    ON CONFLICT (tenant_id, member_id, challenge_id) DO UPDATE
        SET updated_at = excluded.updated_at
        WHERE cp.completed_at IS NULL
    RETURNING challenge_id, counts, joined_at
), joined AS (
    SELECT challenge_id, counts, joined_at FROM gamification_challenge_progress
    WHERE tenant_id = :tenant_id AND member_id = :member_id
      AND challenge_id = ANY(CAST(:joined_ids AS uuid[]))
      AND joined_at IS NOT NULL AND completed_at IS NULL
    FOR UPDATE
)
SELECT 'badge' AS kind, badge_id AS id, period_key, awarded AS number, change AS extra,
       CAST(NULL AS jsonb) AS counts, CAST(NULL AS timestamptz) AS joined_at
FROM progressed WHERE change > 0
UNION ALL
SELECT 'streak', streak_id, NULL, length, started_unit, NULL, NULL FROM runs WHERE extended
UNION ALL
SELECT 'challenge', challenge_id, NULL, 0, 0, counts, joined_at FROM automatic
UNION ALL
SELECT 'challenge', challenge_id, NULL, 0, 0, counts, joined_at FROM joined
"""  # noqa: S608 (constants only)
    )
)
"""Prepared: it runs for every event, and asyncpg keeps it parsed and planned."""


@dataclass(frozen=True)
class Counted:
    """What one event offers one badge: in which period, how much, the local day for a
    capped badge, and the badge's target and repeatability (from the cached definition:
    the statement reads no definition)."""

    badge_id: uuid.UUID
    period_key: str
    offered: int
    cap: int | None
    day: date | None
    target: int
    repeatable: bool


@dataclass(frozen=True)
class Kept:
    """An event that keeps a streak: the local unit it fell in, and the streak's rules."""

    streak_id: uuid.UUID
    unit: int
    freeze_every: int
    max_freezes: int


@dataclass(frozen=True)
class Ingested:
    """What counting an event did: per badge that completed something, (badge, period,
    completions paid so far, completions this event made); per streak whose run grew,
    (streak, its length, the unit it began)."""

    completed: list[tuple[uuid.UUID, str, int, int]]
    extended: list[tuple[uuid.UUID, int, int]]
    challenges: list[Any]
    """The member's rows of the challenges the event meets, locked: ``id`` (the challenge),
    ``counts`` and ``joined_at`` (automatic ones created if need be; opt-in ones only if
    joined; none of a completed challenge)."""


async def count_event(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    event_id: uuid.UUID,
    at: datetime,
    *,
    counted: Sequence[Counted] = (),
    kept: Sequence[Kept] = (),
    scores: Sequence[tuple[uuid.UUID, str, int]] = (),
    automatic: Sequence[uuid.UUID] = (),
    joined: Sequence[uuid.UUID] = (),
    purchase: bool = False,
    now: datetime,
) -> Ingested:
    """Count one event in one statement: toward all the badges it meets (the capped ones'
    days, the contributions that explain it, the progress, which also claims completions),
    the runs of the streaks it keeps, the scores of the leaderboards it concerns, and the
    member's rows of the challenges it meets (``automatic`` ones created or locked,
    ``joined`` opt-in ones locked), which the caller then advances. The units the streaks
    counted are kept (the event's id when it is a ``purchase``, which a refund may take
    back), written from the runs' rows so that the run is locked before its unit.

    Every upsert's ``SET`` sees its row as it was, and concurrent events of the member wait
    for each other on the rows, so of 50 concurrent events that reach a target exactly one
    sees ``change`` = 1: a completion is claimed once, never by check-then-act. A completion
    a refund did not revoke is not paid twice: only what passes the completions held pays.
    """
    params = {
        "tenant_id": tenant_id,
        "member_id": member_id,
        "event_id": event_id,
        "at": at,
        "now": now,
        "badge_ids": [c.badge_id for c in counted],
        "period_keys": [c.period_key for c in counted],
        "offered": [c.offered for c in counted],
        "caps": [c.cap for c in counted],
        "days": [c.day for c in counted],
        "targets": [c.target for c in counted],
        "repeatable": [c.repeatable for c in counted],
        "streak_ids": [k.streak_id for k in kept],
        "units": [k.unit for k in kept],
        "freeze_every": [k.freeze_every for k in kept],
        "max_freezes": [k.max_freezes for k in kept],
        "board_ids": [s[0] for s in scores],
        "window_keys": [s[1] for s in scores],
        "deltas": [s[2] for s in scores],
        "automatic_ids": list(automatic),
        "joined_ids": list(joined),
        "purchase": purchase,
    }
    found = Ingested([], [], [])
    for row in await _INGEST.all(conn, params):
        if row.kind == "badge":
            found.completed.append((row.id, row.period_key, row.number, row.extra))
        elif row.kind == "streak":
            found.extended.append((row.id, row.number, row.extra))
        else:
            found.challenges.append(row)
    return found


_DELTA = "CAST(:delta AS bigint)"
_KEPT = f"LEAST(p.earned, {_completions(f'p.value - {_DELTA}', 'p.target', 'p.repeatable')})"
_TAKE_BACK = text(
    f"""
UPDATE gamification_badge_progress AS p SET
    value = p.value - {_DELTA},
    earned = CASE WHEN CAST(:revoke AS boolean) THEN {_KEPT} ELSE p.earned END,
    change = CASE WHEN CAST(:revoke AS boolean) THEN {_KEPT} - p.earned ELSE 0 END,
    updated_at = :now
WHERE tenant_id = :tenant_id AND badge_id = :badge_id AND member_id = :member_id
  AND period_key = :period_key
RETURNING value, earned, change
"""  # noqa: S608 (constants only)
)


async def take_back_progress(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    badge_id: uuid.UUID,
    member_id: uuid.UUID,
    period_key: str,
    *,
    delta: int,
    revoke: bool,
    now: datetime,
) -> Any:
    """Take ``delta`` back from a progress (a refund) and, for a badge that ``revoke``\\s,
    the completions it no longer reaches: ``change`` is minus their number."""
    params = {
        "tenant_id": tenant_id,
        "badge_id": badge_id,
        "member_id": member_id,
        "period_key": period_key,
        "delta": delta,
        "revoke": revoke,
        "now": now,
    }
    return (await conn.execute(_TAKE_BACK, params)).one()


async def insert_contribution(conn: AsyncConnection, values: Mapping[str, Any]) -> None:
    await conn.execute(contributions.insert().values(**values))


async def contributions_of_purchase(
    conn: AsyncConnection, tenant_id: uuid.UUID, purchase_id: uuid.UUID
) -> Sequence[Any]:
    """Per badge, what a purchase brought (``granted``) and what it still brings after the
    refunds counted so far (``net``): the rows of the purchase and of its refunds, by index."""
    c = contributions.c
    return (
        await conn.execute(
            select(
                c.badge_id,
                c.member_id,
                c.period_key,
                func.sum(c.amount).filter(c.event_id == purchase_id).label("granted"),
                func.sum(c.amount).label("net"),
            )
            .where(
                c.tenant_id == tenant_id,
                (c.event_id == purchase_id) | (c.purchase_event_id == purchase_id),
            )
            .group_by(c.badge_id, c.member_id, c.period_key)
        )
    ).all()


async def revoke_awards(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    badge_id: uuid.UUID,
    member_id: uuid.UUID,
    period_key: str,
    *,
    count: int,
    by: uuid.UUID,
    at: datetime,
) -> Sequence[Any]:
    """Mark the member's ``count`` latest held awards of a period revoked by event ``by``."""
    a = awards.c
    latest = (
        select(a.id)
        .where(
            a.tenant_id == tenant_id,
            a.badge_id == badge_id,
            a.member_id == member_id,
            a.period_key == period_key,
            a.revoked_at.is_(None),
        )
        .order_by(a.seq.desc())
        .limit(count)
        .scalar_subquery()
    )
    return (
        await conn.execute(
            update(awards)
            .where(a.tenant_id == tenant_id, a.id.in_(latest))
            .values(revoked_at=at, revoked_by=by)
            .returning(a.id, a.transaction_id, a.earned_at)
        )
    ).all()


async def set_revocation_transaction(
    conn: AsyncConnection, tenant_id: uuid.UUID, award_id: uuid.UUID, transaction_id: uuid.UUID
) -> None:
    await conn.execute(
        update(awards)
        .where(awards.c.tenant_id == tenant_id, awards.c.id == award_id)
        .values(revocation_transaction_id=transaction_id)
    )


async def member_progress(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_ids: Sequence[uuid.UUID]
) -> Sequence[Any]:
    """Every progress of the members, by index on (tenant, member)."""
    return (
        await conn.execute(
            select(progress).where(
                progress.c.tenant_id == tenant_id, progress.c.member_id.in_(member_ids)
            )
        )
    ).all()


async def member_awards(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_ids: Sequence[uuid.UUID]
) -> Sequence[Any]:
    return (
        await conn.execute(
            select(awards)
            .where(awards.c.tenant_id == tenant_id, awards.c.member_id.in_(member_ids))
            .order_by(awards.c.earned_at, awards.c.seq)
        )
    ).all()


async def progress_contributions(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    badge_id: uuid.UUID,
    period_key: str,
) -> Sequence[Any]:
    c = contributions.c
    return (
        await conn.execute(
            select(contributions)
            .where(
                c.tenant_id == tenant_id,
                c.member_id == member_id,
                c.badge_id == badge_id,
                c.period_key == period_key,
            )
            .order_by(c.event_id)
        )
    ).all()


__all__ = [
    "Counted",
    "bump_catalogue",
    "catalogue_version",
    "contributions_of_purchase",
    "count_event",
    "insert_contribution",
    "list_badges",
    "live_badges",
    "live_streaks",
    "member_awards",
    "member_progress",
    "progress_contributions",
    "revoke_awards",
    "set_revocation_transaction",
    "take_back_progress",
]
