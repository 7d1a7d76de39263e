"""SQL of the tiers module; every statement is narrowed to one tenant.

The hot path (an event that moves the metric) runs three statements: lock the member's
standing row, add the event's contribution and read the window's sum in one statement, and
only when the level changes, the update with its history. Windows are sums of month rows
by primary key range, never a scan of the member's events.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from loyalty_core.sdk import Prepared, new_id
from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Row,
    String,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_tiers.expression import Aggregates
from loyalty_tiers.tables import contributions, health, history, ladders, members, metrics

PARTS = ("spend", "purchases", "visits", "status_points")
"""The window aggregates kept beside the metric (an EXPRESSION ladder's variables)."""


@dataclass(frozen=True)
class Sums:
    """A window's metric and aggregates, summed from month rows."""

    value: int
    aggregates: Aggregates

    @classmethod
    def of(cls, row: Sequence[Any]) -> Sums:
        return cls(int(row[0]), Aggregates(*(int(v) for v in row[1:5])))


ZERO = Sums(0, Aggregates())


async def get_ladder(conn: AsyncConnection, tenant_id: uuid.UUID) -> Row[Any] | None:
    return (await conn.execute(select(ladders).where(ladders.c.tenant_id == tenant_id))).first()


async def save_ladder(
    conn: AsyncConnection, tenant_id: uuid.UUID, definition: Mapping[str, Any], actor: str
) -> int:
    """Insert or replace the tenant's ladder; its new version."""
    values = pg_insert(ladders).values(
        tenant_id=tenant_id, version=1, definition=dict(definition), actor=actor
    )
    statement = values.on_conflict_do_update(
        index_elements=[ladders.c.tenant_id],
        set_={
            "version": ladders.c.version + 1,
            "definition": values.excluded.definition,
            "actor": values.excluded.actor,
            "updated_at": func.now(),
        },
    ).returning(ladders.c.version)
    return int((await conn.execute(statement)).scalar_one())


# -- standing ---------------------------------------------------------------------------


_LOCK_STANDING = Prepared(
    select(members)
    .where(
        members.c.tenant_id == bindparam("tenant_id"),
        members.c.member_id == bindparam("member_id"),
    )
    .with_for_update()
)
"""Every event that moves a metric runs it: built and compiled once."""


async def lock_standing(conn: AsyncConnection, tenant_id: uuid.UUID, member_id: uuid.UUID) -> Any:
    """The member's standing row, locked until the transaction ends: every change of the
    member's level waits for it, so two purchases of one member decide one after the other
    and each sees what the other counted."""
    return await _LOCK_STANDING.first(conn, {"tenant_id": tenant_id, "member_id": member_id})


async def create_standing(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    anchor_month: int,
    window_end: date,
    since: datetime,
) -> None:
    """The member's standing row, if another transaction did not create it first."""
    await conn.execute(
        pg_insert(members)
        .values(
            tenant_id=tenant_id,
            member_id=member_id,
            since=since,
            anchor_month=anchor_month,
            window_end=window_end,
        )
        .on_conflict_do_nothing()
    )


async def get_standing(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_id: uuid.UUID
) -> Row[Any] | None:
    return (
        await conn.execute(
            select(members).where(
                members.c.tenant_id == tenant_id, members.c.member_id == member_id
            )
        )
    ).first()


async def set_level(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    level: str | None,
    since: datetime,
    clear_grace: bool,
) -> None:
    """Change the earned level of a member whose row the caller locked."""
    values: dict[str, Any] = {"level": level, "since": since, "updated_at": func.now()}
    if clear_grace:
        values |= {"grace_level": None, "grace_until": None}
    await conn.execute(
        update(members)
        .where(members.c.tenant_id == tenant_id, members.c.member_id == member_id)
        .values(**values)
    )


async def clear_grace(conn: AsyncConnection, tenant_id: uuid.UUID, member_id: uuid.UUID) -> None:
    await conn.execute(
        update(members)
        .where(members.c.tenant_id == tenant_id, members.c.member_id == member_id)
        .values(grace_level=None, grace_until=None, updated_at=func.now())
    )


async def set_override(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    level: str | None,
    reason: str | None,
    actor: str | None,
    expires_at: datetime | None,
) -> None:
    await conn.execute(
        update(members)
        .where(members.c.tenant_id == tenant_id, members.c.member_id == member_id)
        .values(
            override_level=level,
            override_reason=reason,
            override_actor=actor,
            override_expires_at=expires_at,
            updated_at=func.now(),
        )
    )


# -- the metric ------------------------------------------------------------------------


def _contribute_statement(parts: tuple[str, ...]) -> Any:
    """Add one event's contribution and its month, then the window's sum: one statement.
    The month row is upserted in a CTE whose ``value`` (after the upsert) is added to the
    other months of the window, which the statement's snapshot reads as committed. With
    ``parts`` (an EXPRESSION ladder) the window's aggregates are added and summed too."""
    tenant_id = bindparam("tenant_id", type_=PG_UUID(as_uuid=True))
    member_id = bindparam("member_id", type_=PG_UUID(as_uuid=True))
    month = bindparam("month", type_=Date())
    window_start = bindparam("window_start", type_=Date())
    window_end = bindparam("window_end", type_=Date())
    columns = ("value", *parts)
    added = (
        insert(contributions)
        .values(
            tenant_id=tenant_id,
            member_id=member_id,
            event_id=bindparam("event_id", type_=PG_UUID(as_uuid=True)),
            month=month,
            amount=bindparam("value", type_=BigInteger()),
            event_type=bindparam("event_type", type_=String()),
            occurred_at=bindparam("occurred_at", type_=DateTime(timezone=True)),
            **{part: bindparam(part, type_=BigInteger()) for part in parts},
        )
        .returning(contributions.c.amount.label("value"), *(contributions.c[p] for p in parts))
        .cte("added")
    )
    bump = pg_insert(metrics).from_select(
        ["tenant_id", "member_id", "month", *columns],
        select(tenant_id, member_id, month, *(added.c[c] for c in columns)),
    )
    bumped = (
        bump.on_conflict_do_update(
            index_elements=[metrics.c.tenant_id, metrics.c.member_id, metrics.c.month],
            set_={c: metrics.c[c] + bump.excluded[c] for c in columns},
        )
        .returning(*(metrics.c[c] for c in columns))
        .cte("bumped")
    )
    others = (
        select(*(func.coalesce(func.sum(metrics.c[c]), 0).label(c) for c in columns))
        .where(
            metrics.c.tenant_id == tenant_id,
            metrics.c.member_id == member_id,
            metrics.c.month >= window_start,
            metrics.c.month < window_end,
            metrics.c.month != month,
        )
        .subquery("others")
    )
    in_window = and_(month >= window_start, month < window_end)
    return select(
        *(
            others.c[c]
            + case(
                (in_window, select(bumped.c[c]).scalar_subquery()), else_=literal(0, BigInteger())
            )
            for c in columns
        )
    ).select_from(others)


_CONTRIBUTE = Prepared(_contribute_statement(()))
_CONTRIBUTE_PARTS = Prepared(_contribute_statement(PARTS))


async def contribute(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    event_id: uuid.UUID,
    event_type: str,
    occurred_at: datetime,
    month: date,
    amount: int,
    aggregates: Aggregates | None,
    window: tuple[date, date],
) -> Sums:
    """Record the event's contribution (to the metric, ``amount``, and under an EXPRESSION
    ladder to the window's ``aggregates``); the metric (and aggregates) of ``window``
    (start, end) after it. Other ladders write and sum the metric alone."""
    parameters: dict[str, Any] = {
        "tenant_id": tenant_id,
        "member_id": member_id,
        "event_id": event_id,
        "event_type": event_type,
        "occurred_at": occurred_at,
        "month": month,
        "value": amount,
        "window_start": window[0],
        "window_end": window[1],
    }
    if aggregates is None:
        row = await _CONTRIBUTE.first(conn, parameters)
        assert row is not None, "the statement answers one row"
        return Sums(int(row[0]), Aggregates())
    parameters |= {
        "spend": aggregates.spend,
        "purchases": aggregates.purchases,
        "visits": aggregates.visits,
        "status_points": aggregates.status_points,
    }
    row = await _CONTRIBUTE_PARTS.first(conn, parameters)
    assert row is not None, "the statement answers one row"
    return Sums.of(row)


async def window_sums(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    windows: Sequence[tuple[uuid.UUID, date, date]],
) -> dict[uuid.UUID, Sums]:
    """The metric and aggregates of each (member, start, end) window, in one grouped
    statement."""
    if not windows:
        return {}
    bounds = (
        select(
            func.unnest(
                bindparam("ids", [w[0] for w in windows], type_=ARRAY(PG_UUID(as_uuid=True)))
            ).label("member_id"),
            func.unnest(bindparam("starts", [w[1] for w in windows], type_=ARRAY(Date()))).label(
                "start"
            ),
            func.unnest(bindparam("ends", [w[2] for w in windows], type_=ARRAY(Date()))).label(
                "end"
            ),
        )
    ).subquery()
    query = (
        select(
            bounds.c.member_id,
            *(func.coalesce(func.sum(metrics.c[c]), 0) for c in ("value", *PARTS)),
        )
        .select_from(
            bounds.outerjoin(
                metrics,
                and_(
                    metrics.c.tenant_id == tenant_id,
                    metrics.c.member_id == bounds.c.member_id,
                    metrics.c.month >= bounds.c.start,
                    metrics.c.month < bounds.c.end,
                ),
            )
        )
        .group_by(bounds.c.member_id)
    )
    return {row[0]: Sums.of(row[1:]) for row in await conn.execute(query)}


async def contributions_of(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    window: tuple[date, date],
    limit: int,
) -> list[Row[Any]]:
    """The events that make up the member's metric of ``window``, newest first."""
    query = (
        select(contributions)
        .where(
            contributions.c.tenant_id == tenant_id,
            contributions.c.member_id == member_id,
            contributions.c.month >= window[0],
            contributions.c.month < window[1],
        )
        .order_by(contributions.c.occurred_at.desc(), contributions.c.event_id.desc())
        .limit(limit)
    )
    return list(await conn.execute(query))


# -- the ladder's health ---------------------------------------------------------------


async def count_failures(
    conn: AsyncConnection, tenant_id: uuid.UUID, failures: int, error: str
) -> None:
    """Add ``failures`` members the ladder's expression could not be evaluated for, with
    the last error: one upsert of the tenant's health row, written last in a transaction."""
    values = pg_insert(health).values(
        tenant_id=tenant_id, failures=failures, last_error=error[:500], last_failed_at=func.now()
    )
    await conn.execute(
        values.on_conflict_do_update(
            index_elements=[health.c.tenant_id],
            set_={
                "failures": health.c.failures + values.excluded.failures,
                "last_error": values.excluded.last_error,
                "last_failed_at": values.excluded.last_failed_at,
            },
        )
    )


async def get_health(conn: AsyncConnection, tenant_id: uuid.UUID) -> Row[Any] | None:
    return (await conn.execute(select(health).where(health.c.tenant_id == tenant_id))).first()


# -- history ---------------------------------------------------------------------------


async def add_history(
    conn: AsyncConnection, tenant_id: uuid.UUID, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Write changes of level (``member_id``, ``kind``, ``from_level``, ``to_level``,
    ``reason``, ``actor``, optional ``event_id`` and ``metric``), one statement."""
    if rows:
        await conn.execute(
            insert(history),
            [
                {"event_id": None, "metric": None, **row, "tenant_id": tenant_id, "id": new_id()}
                for row in rows
            ],
        )


async def history_of(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    before: uuid.UUID | None,
    limit: int,
) -> list[Row[Any]]:
    query = select(history).where(
        history.c.tenant_id == tenant_id, history.c.member_id == member_id
    )
    if before is not None:
        query = query.where(history.c.id < before)
    return list(await conn.execute(query.order_by(history.c.id.desc()).limit(limit)))


# -- the window-end job ---------------------------------------------------------------


async def lock_windows(conn: AsyncConnection, tenant_id: uuid.UUID) -> bool:
    """Take the tenant's window-end lock for this transaction, if no other runner holds it:
    one runner ends a tenant's windows at a time, and another finds the lock taken and
    leaves the work to it. Cheaper than locking a million rows one by one."""
    key = func.hashtextextended(f"tiers.windows:{tenant_id}", 0)
    return bool((await conn.execute(select(func.pg_try_advisory_xact_lock(key)))).scalar_one())


_DUE = """
due AS MATERIALIZED (
    SELECT member_id, level, window_end FROM tiers_members
    WHERE tenant_id = :tenant_id AND member_id > :after AND window_end <= :today
    ORDER BY member_id
    LIMIT CAST(:batch AS integer)
),
span AS (
    SELECT (SELECT member_id FROM due ORDER BY member_id LIMIT 1) AS first,
        (SELECT member_id FROM due ORDER BY member_id DESC LIMIT 1) AS last
)"""
"""The next batch of members whose window ended, in key order, and the key range it spans."""

_WINDOWS_JOIN = """
    FROM due AS d
    LEFT JOIN (
        SELECT * FROM tiers_metrics
        WHERE tenant_id = :tenant_id
          AND member_id >= (SELECT first FROM span) AND member_id <= (SELECT last FROM span)
    ) AS m
      ON m.member_id = d.member_id
     AND m.month >= (d.window_end - make_interval(months => CAST(:length AS integer)))::date
     AND m.month < (d.window_end + make_interval(months => CAST(:length AS integer)))::date
    GROUP BY d.member_id, d.level, d.window_end"""
"""The due members' month rows of the ended window and the one after it."""

_SUMMED = f"""
WITH {_DUE},
sums AS (
    SELECT d.member_id, d.level, d.window_end,
        coalesce(sum(m.value) FILTER (WHERE m.month < d.window_end), 0)::bigint AS ended,
        coalesce(sum(m.value) FILTER (WHERE m.month >= d.window_end), 0)::bigint AS following
    {_WINDOWS_JOIN}
),"""
"""The metric of each due member's ended and following window, summed in SQL."""

_GIVEN = """
WITH sums AS (
    SELECT * FROM unnest(CAST(:given_ids AS uuid[]), CAST(:given_levels AS text[]),
        CAST(:given_ends AS date[]), CAST(:given_ended AS bigint[]),
        CAST(:given_following AS bigint[]))
        AS g(member_id, level, window_end, ended, following)
),
span AS (
    SELECT (SELECT member_id FROM sums ORDER BY member_id LIMIT 1) AS first,
        (SELECT member_id FROM sums ORDER BY member_id DESC LIMIT 1) AS last
),"""
"""The metrics of a batch computed by the caller (an EXPRESSION ladder's, in Python)."""

_PART_SUMS = ", ".join(
    f"coalesce(sum(m.{part}) FILTER (WHERE m.month {op} d.window_end), 0)::bigint"
    for op in ("<", ">=")
    for part in PARTS
)
_AGGREGATES = f"""
WITH {_DUE}
SELECT d.member_id, d.level, d.window_end, {_PART_SUMS}
{_WINDOWS_JOIN}
ORDER BY d.member_id
"""
"""The aggregates of each due member's ended and following window (EXPRESSION ladders)."""

HISTORY_ID = """encode(overlay(uuid_send(CAST(:id_base AS uuid))
    PLACING substring(uuid_send(u.member_id) FROM 9) FROM 9), 'hex')::uuid"""
"""A batch's history ids: the first half of one ``new_id()`` (its time, so they sort where
ids made now do) and the random second half of each member's id (distinct within the
batch). Ten thousand ``new_id()`` in Python, or ``gen_random_uuid()`` in SQL, cost more
than the rest of the history row."""

_DECIDE = """
ranked AS MATERIALIZED (
    SELECT s.*,
        coalesce(array_position(CAST(:names AS text[]), s.level), 0) AS old_rank,
        coalesce((CAST(:ranks AS integer[]))[
            width_bucket(s.ended, CAST(:thresholds AS bigint[]))], 0) AS q_rank,
        coalesce((CAST(:ranks AS integer[]))[
            width_bucket(s.following, CAST(:thresholds AS bigint[]))], 0) AS f_rank
    FROM sums AS s
),
decided AS (
    SELECT r.*,
        CASE
            WHEN r.q_rank >= r.old_rank THEN r.q_rank
            WHEN CAST(:policy AS text) = 'one_level' THEN greatest(r.q_rank, coalesce(
                (CAST(:ranks AS integer[]))[
                    width_bucket(r.old_rank - 1, CAST(:ranks AS integer[]))], 0))
            WHEN CAST(:policy AS text) = 'grace' THEN r.old_rank
            ELSE r.q_rank
        END AS d_rank,
        (CAST(:policy AS text) = 'grace'
            AND r.q_rank < r.old_rank AND r.f_rank < r.old_rank) AS in_grace
    FROM ranked AS r
),
final AS (
    SELECT d.*, greatest(d.d_rank, d.f_rank) AS n_rank FROM decided AS d
),
updated AS (
    UPDATE tiers_members AS t SET
        level = (CAST(:names AS text[]))[nullif(f.n_rank, 0)],
        base_level = (CAST(:names AS text[]))[
            nullif(CASE WHEN f.in_grace THEN f.q_rank ELSE f.n_rank END, 0)],
        window_end = (f.window_end + make_interval(months => CAST(:step AS integer)))::date,
        grace_level = CASE WHEN f.in_grace THEN (CAST(:names AS text[]))[nullif(f.q_rank, 0)] END,
        grace_until = CASE WHEN f.in_grace THEN f.window_end + CAST(:grace_days AS integer) END,
        warned_for = NULL,
        since = CASE WHEN f.n_rank <> f.old_rank THEN now() ELSE t.since END,
        updated_at = now()
    FROM final AS f
    WHERE t.tenant_id = :tenant_id AND t.member_id = f.member_id
      AND t.member_id >= (SELECT first FROM span) AND t.member_id <= (SELECT last FROM span)
      AND t.window_end = f.window_end AND t.level IS NOT DISTINCT FROM f.level
    RETURNING t.member_id, f.level AS old_level, t.level AS new_level, f.n_rank, f.old_rank,
        f.in_grace, f.ended, f.window_end AS old_end, t.grace_until
),
written AS (
    INSERT INTO tiers_history
        (tenant_id, id, member_id, kind, from_level, to_level, reason, actor, metric)
    SELECT :tenant_id, {HISTORY_ID}, u.member_id,
        CASE WHEN u.in_grace THEN 'grace' WHEN u.n_rank < u.old_rank THEN 'downgrade'
             ELSE 'upgrade' END,
        u.old_level,
        CASE WHEN u.in_grace THEN u.old_level ELSE u.new_level END,
        CASE WHEN u.in_grace THEN format(
                'window ended %s: metric %s no longer holds %s; grace until %s',
                u.old_end - 1, u.ended, u.old_level, u.grace_until - 1)
             ELSE format('window ended %s: metric %s (%s)', u.old_end - 1, u.ended,
                CASE WHEN u.n_rank < u.old_rank THEN CAST(:policy AS text) ELSE 'qualified' END)
        END,
        CAST(:actor AS text), u.ended
    FROM updated AS u
    WHERE u.in_grace OR u.n_rank <> u.old_rank
)
SELECT (SELECT count(*) FROM updated) AS closed, (SELECT last FROM span) AS last,
    d.member_id, d.old_level, d.new_level, d.ended
FROM (SELECT 1) AS one
LEFT JOIN updated AS d ON NOT d.in_grace AND d.n_rank < d.old_rank
""".replace("{HISTORY_ID}", HISTORY_ID)
"""The policy applied to the batch's sums by rank, each member claimed by its window end and
level, and a history row for every change. One row answers: how many windows it closed, the
last member of the batch it read, and each member it downgraded (none: null)."""


@dataclass(frozen=True)
class Closed:
    """What a batch of window ends did."""

    count: int
    last: uuid.UUID | None
    """The last member of the batch read (None: none was due)."""
    downgraded: list[Row[Any]]
    """``member_id``, ``old_level``, ``new_level`` and the ended window's metric ``ended``."""


@dataclass(frozen=True)
class Decided:
    """A due member's ended and following window's metric, computed by the caller."""

    member_id: uuid.UUID
    level: str | None
    window_end: date
    ended: int
    following: int


async def due_aggregates(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    today: date,
    after: uuid.UUID,
    batch: int,
    length: int,
) -> list[tuple[uuid.UUID, str | None, date, Aggregates, Aggregates]]:
    """The next ``batch`` members after ``after`` whose window ended by ``today``, with the
    aggregates of their ended and following windows (an EXPRESSION ladder decides them in
    Python, then :func:`close_windows` applies its metrics): one grouped statement."""
    rows = await conn.execute(
        text(_AGGREGATES),
        {"tenant_id": tenant_id, "today": today, "after": after, "batch": batch, "length": length},
    )
    return [
        (
            row[0],
            row[1],
            row[2],
            Aggregates(*(int(v) for v in row[3:7])),
            Aggregates(*(int(v) for v in row[7:11])),
        )
        for row in rows
    ]


async def close_windows(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    today: date,
    after: uuid.UUID,
    batch: int,
    names: Sequence[str],
    thresholds: Sequence[int],
    ranks: Sequence[int],
    policy: str,
    grace_days: int,
    length: int,
    step: int,
    actor: str,
    given: Sequence[Decided] | None = None,
) -> Closed:
    """End up to ``batch`` windows that ended by ``today`` of members after ``after`` (in id
    order: each batch reads a range of the primary keys), decided and applied in one
    statement (the window-end rules of ``ladder.at_window_end`` in SQL), under the
    tenant's window lock (:func:`lock_windows`): the due members' ended and
    following windows summed from the month rows (or, ``given``, the metrics the caller
    computed for them), the policy applied to the ladder's ``names`` (by rank, from 1)
    through its reachable levels' ``thresholds`` and their ``ranks`` (``width_bucket``
    finds the highest reached), each row claimed by its window end and level, and a history
    row written for every change. Returns how many windows it ended, the last member it
    read, and the members whose level fell (the caller announces them)."""
    parameters: dict[str, Any] = {
        "tenant_id": tenant_id,
        "names": list(names),
        "thresholds": list(thresholds),
        "ranks": list(ranks),
        "policy": policy,
        "grace_days": grace_days,
        "step": step,
        "actor": actor,
        "id_base": new_id(),
    }
    if given is None:
        statement = _SUMMED + _DECIDE
        parameters |= {"today": today, "after": after, "batch": batch, "length": length}
    else:
        if not given:
            return Closed(0, None, [])
        statement = _GIVEN + _DECIDE
        parameters |= {
            "given_ids": [g.member_id for g in given],
            "given_levels": [g.level for g in given],
            "given_ends": [g.window_end for g in given],
            "given_ended": [g.ended for g in given],
            "given_following": [g.following for g in given],
        }
    rows = list(await conn.execute(text(statement), parameters))
    return Closed(
        int(rows[0].closed), rows[0].last, [row for row in rows if row.member_id is not None]
    )


async def due_graces(
    conn: AsyncConnection, tenant_id: uuid.UUID, today: date, limit: int
) -> list[Row[Any]]:
    query = (
        select(
            members.c.member_id,
            members.c.level,
            members.c.grace_level,
            members.c.grace_until,
            members.c.window_end,
        )
        .where(members.c.tenant_id == tenant_id, members.c.grace_until <= today)
        .order_by(members.c.grace_until, members.c.member_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(await conn.execute(query))


async def end_grace(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    grace_until: date,
    old_level: str | None,
    level: str | None,
) -> bool:
    """End a member's grace (claimed by its date and level); whether this run did."""
    found = await conn.execute(
        update(members)
        .where(
            members.c.tenant_id == tenant_id,
            members.c.member_id == member_id,
            members.c.grace_until == grace_until,
            members.c.level.is_not_distinct_from(old_level),
        )
        .values(
            level=level,
            base_level=level,
            grace_level=None,
            grace_until=None,
            since=case(
                (members.c.level.is_distinct_from(level), func.now()), else_=members.c.since
            ),
            updated_at=func.now(),
        )
        .returning(members.c.member_id)
    )
    return found.first() is not None


async def expire_overrides(
    conn: AsyncConnection, tenant_id: uuid.UUID, now: datetime, limit: int
) -> list[Row[Any]]:
    """Clear overrides whose expiry passed, claimed by a conditional update (a second
    runner finds none); the members with their earned level and the override's level."""
    due = (
        select(members.c.member_id, members.c.override_level)
        .where(
            members.c.tenant_id == tenant_id,
            members.c.override_level.is_not(None),
            members.c.override_expires_at <= now,
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
        .subquery()
    )
    found = await conn.execute(
        update(members)
        .where(
            members.c.tenant_id == tenant_id,
            members.c.member_id == due.c.member_id,
            members.c.override_level.is_not(None),
            members.c.override_expires_at <= now,
        )
        .values(
            override_level=None,
            override_reason=None,
            override_actor=None,
            override_expires_at=None,
            updated_at=func.now(),
        )
        .returning(members.c.member_id, members.c.level, due.c.override_level)
    )
    return list(found)


async def claim_warnings(
    conn: AsyncConnection, tenant_id: uuid.UUID, today: date, horizon: date, limit: int
) -> list[Row[Any]]:
    """Members with a level whose window ends within ``horizon`` and who were not yet
    warned for it, marked warned in the same statement (a second runner finds none)."""
    due = (
        select(members.c.member_id)
        .where(
            members.c.tenant_id == tenant_id,
            members.c.level.is_not(None),
            members.c.window_end > today,
            members.c.window_end <= horizon,
            members.c.warned_for.is_distinct_from(members.c.window_end),
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    found = await conn.execute(
        update(members)
        .where(
            members.c.tenant_id == tenant_id,
            members.c.member_id.in_(due),
            members.c.warned_for.is_distinct_from(members.c.window_end),
        )
        .values(warned_for=members.c.window_end)
        .returning(members.c.member_id, members.c.level, members.c.window_end)
    )
    return list(found)


async def move_windows(
    conn: AsyncConnection, tenant_id: uuid.UUID, ends: Mapping[int, date]
) -> None:
    """Give every member the window end of a changed ladder: ``ends`` by anchor month."""
    end = case(*((members.c.anchor_month == month, end) for month, end in ends.items()))
    await conn.execute(
        update(members)
        .where(members.c.tenant_id == tenant_id, members.c.window_end.is_distinct_from(end))
        .values(window_end=end, warned_for=None)
    )


_CURRENT = f"""
WITH page AS MATERIALIZED (
    SELECT member_id, level, (CAST(:ends AS date[]))[anchor_month] AS window_end
    FROM tiers_members
    WHERE tenant_id = :tenant_id AND member_id > :after
    ORDER BY member_id
    LIMIT CAST(:batch AS integer)
),
span AS (
    SELECT (SELECT member_id FROM page ORDER BY member_id LIMIT 1) AS first,
        (SELECT member_id FROM page ORDER BY member_id DESC LIMIT 1) AS last
)
SELECT p.member_id, p.level, {", ".join(f"coalesce(sum(m.{c}), 0)" for c in ("value", *PARTS))}
FROM page AS p
LEFT JOIN (
    SELECT * FROM tiers_metrics
    WHERE tenant_id = :tenant_id
      AND member_id >= (SELECT first FROM span) AND member_id <= (SELECT last FROM span)
) AS m
  ON m.member_id = p.member_id
 AND m.month >= (p.window_end - make_interval(months => CAST(:length AS integer)))::date
 AND m.month < p.window_end
GROUP BY p.member_id, p.level
ORDER BY p.member_id
"""  # noqa: S608 - only constant column names are formatted in


async def current_windows(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    after: uuid.UUID,
    batch: int,
    ends: Sequence[date],
    length: int,
) -> list[tuple[uuid.UUID, str | None, Sums]]:
    """The next ``batch`` members after ``after`` (key order) with their level and the sums
    of their current window (``ends[anchor_month - 1]`` its end, ``length`` months long):
    one statement reading a range of the primary keys (a ladder change, its simulation)."""
    rows = await conn.execute(
        text(_CURRENT),
        {
            "tenant_id": tenant_id,
            "after": after,
            "batch": batch,
            "ends": list(ends),
            "length": length,
        },
    )
    return [(row[0], row[1], Sums.of(row[2:])) for row in rows]


_APPLY_MOVES = """
WITH moves AS (
    SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:froms AS text[]), CAST(:tos AS text[]),
        CAST(:metrics AS bigint[])) AS v(member_id, from_level, to_level, metric)
),
updated AS (
    UPDATE tiers_members AS t SET level = v.to_level, since = :now, updated_at = now()
    FROM moves AS v
    WHERE t.tenant_id = :tenant_id AND t.member_id = v.member_id
      AND t.level IS NOT DISTINCT FROM v.from_level
    RETURNING t.member_id, v.from_level, v.to_level, v.metric
)
INSERT INTO tiers_history
    (tenant_id, id, member_id, kind, from_level, to_level, reason, actor, metric)
SELECT :tenant_id, {HISTORY_ID}, u.member_id, 'ladder', u.from_level, u.to_level,
    format('ladder changed: %s now reaches %s', u.metric, coalesce(u.to_level, 'no level')),
    CAST(:actor AS text), u.metric
FROM updated AS u
""".replace("{HISTORY_ID}", HISTORY_ID)


async def apply_ladder_moves(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    moves: Sequence[tuple[uuid.UUID, str | None, str | None, int]],
    *,
    actor: str,
    now: datetime,
) -> None:
    """Move members (id, from, to, metric) to the level a changed ladder gives them, each
    claimed by its level (an upgrade that committed in between is not overwritten: the
    update waits for it, then finds the level changed), with a ``ladder`` history row each:
    one statement."""
    if not moves:
        return
    await conn.execute(
        text(_APPLY_MOVES),
        {
            "tenant_id": tenant_id,
            "ids": [m[0] for m in moves],
            "froms": [m[1] for m in moves],
            "tos": [m[2] for m in moves],
            "metrics": [m[3] for m in moves],
            "now": now,
            "actor": actor,
            "id_base": new_id(),
        },
    )


__all__ = [
    "PARTS",
    "ZERO",
    "Closed",
    "Decided",
    "Sums",
    "add_history",
    "apply_ladder_moves",
    "claim_warnings",
    "clear_grace",
    "close_windows",
    "contribute",
    "contributions_of",
    "count_failures",
    "create_standing",
    "current_windows",
    "due_aggregates",
    "due_graces",
    "end_grace",
    "expire_overrides",
    "get_health",
    "get_ladder",
    "get_standing",
    "history_of",
    "lock_standing",
    "lock_windows",
    "move_windows",
    "save_ladder",
    "set_level",
    "set_override",
    "window_sums",
]
