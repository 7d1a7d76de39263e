"""SQL of the module, every statement filtered by tenant (row-level security is the second
wall). The statements of the ingest path are single round trips that win their races
themselves: see :func:`count_progress` and :func:`count_day`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_gamification.tables import awards, badges, catalogues, contributions, progress


async def catalogue_version(conn: AsyncConnection, tenant_id: uuid.UUID) -> int:
    """The tenant's catalogue version (0 before its first definition)."""
    found = await conn.scalar(
        select(catalogues.c.version).where(catalogues.c.tenant_id == tenant_id)
    )
    return int(found or 0)


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


async def get_badge(
    conn: AsyncConnection, tenant_id: uuid.UUID, badge_id: uuid.UUID, *, lock: bool = False
) -> Any:
    query = select(badges).where(badges.c.tenant_id == tenant_id, badges.c.id == badge_id)
    if lock:
        query = query.with_for_update()
    return (await conn.execute(query)).first()


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


async def insert_badge(conn: AsyncConnection, values: Mapping[str, Any]) -> Any:
    return (await conn.execute(badges.insert().values(**values).returning(badges))).one()


async def update_badge(
    conn: AsyncConnection, tenant_id: uuid.UUID, badge_id: uuid.UUID, values: Mapping[str, Any]
) -> Any:
    return (
        await conn.execute(
            update(badges)
            .where(badges.c.tenant_id == tenant_id, badges.c.id == badge_id)
            .values(**values)
            .returning(badges)
        )
    ).one()


async def record_failure(
    conn: AsyncConnection, tenant_id: uuid.UUID, badge_id: uuid.UUID, error: str, at: datetime
) -> None:
    """Count an event the badge's condition failed for, and keep the last error to show."""
    await conn.execute(
        update(badges)
        .where(badges.c.tenant_id == tenant_id, badges.c.id == badge_id)
        .values(failures=badges.c.failures + 1, last_error=error[:500], last_failure_at=at)
    )


_CAP, _OFFERED = "CAST(:cap AS bigint)", "CAST(:offered AS bigint)"
_COUNT_DAY = text(
    f"""
INSERT INTO gamification_badge_days AS d (tenant_id, badge_id, member_id, day, value, granted)
VALUES (:tenant_id, :badge_id, :member_id, :day,
        LEAST({_CAP}, {_OFFERED}), LEAST({_CAP}, {_OFFERED}))
ON CONFLICT (tenant_id, badge_id, member_id, day) DO UPDATE SET
    value = LEAST({_CAP}, d.value + {_OFFERED}),
    granted = LEAST({_CAP}, d.value + {_OFFERED}) - d.value
RETURNING granted
"""  # noqa: S608 (constants only)
)


async def count_day(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    badge_id: uuid.UUID,
    member_id: uuid.UUID,
    day: date,
    *,
    offered: int,
    cap: int,
) -> int:
    """What of ``offered`` the member's day still takes under ``cap``. One upsert: ``SET``
    sees the row as it was, so ``granted`` is what this statement added, and concurrent
    events of the day wait for each other on the row and never grant past the cap."""
    params = {
        "tenant_id": tenant_id,
        "badge_id": badge_id,
        "member_id": member_id,
        "day": day,
        "offered": offered,
        "cap": cap,
    }
    return int((await conn.execute(_COUNT_DAY, params)).scalar_one())


_DELTA = "CAST(:delta AS bigint)"


def _completions(value: str) -> str:
    """SQL for the completions ``value`` makes (see ``Badge.completions``)."""
    reached = f"GREATEST({value}, 0) / CAST(:target AS bigint)"
    return f"CASE WHEN CAST(:repeatable AS boolean) THEN {reached} ELSE LEAST({reached}, 1) END"


_FIRST, _NEXT = _completions(_DELTA), _completions(f"p.value + {_DELTA}")
_COUNT_PROGRESS = text(
    f"""
INSERT INTO gamification_badge_progress AS p (
    tenant_id, badge_id, member_id, period_key, value, earned, awarded, change, updated_at
)
VALUES (
    :tenant_id, :badge_id, :member_id, :period_key, {_DELTA}, {_FIRST}, {_FIRST}, {_FIRST}, :now
)
ON CONFLICT (tenant_id, badge_id, member_id, period_key) DO UPDATE SET
    value = p.value + {_DELTA},
    earned = GREATEST(p.earned, {_NEXT}),
    awarded = p.awarded + GREATEST({_NEXT} - p.earned, 0),
    change = GREATEST({_NEXT} - p.earned, 0),
    updated_at = :now
RETURNING value, earned, awarded, change
"""  # noqa: S608 (constants only)
)


async def count_progress(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    badge_id: uuid.UUID,
    member_id: uuid.UUID,
    period_key: str,
    *,
    delta: int,
    target: int,
    repeatable: bool,
    now: datetime,
) -> Any:
    """Add ``delta`` to the member's progress and claim the completions it makes, in one
    upsert. ``SET`` sees the row as it was and concurrent events wait for each other on it,
    so ``change`` (completions this statement made) is 1 for exactly one of 50 concurrent
    events that reach the target: the completion is claimed once, never by check-then-act.
    A completion a refund did not revoke is not earned twice: the count only pays above what
    the member holds."""
    params = {
        "tenant_id": tenant_id,
        "badge_id": badge_id,
        "member_id": member_id,
        "period_key": period_key,
        "delta": delta,
        "target": target,
        "repeatable": repeatable,
        "now": now,
    }
    return (await conn.execute(_COUNT_PROGRESS, params)).one()


_KEPT = f"LEAST(p.earned, {_completions(f'p.value - {_DELTA}')})"
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
    target: int,
    repeatable: bool,
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
        "target": target,
        "repeatable": repeatable,
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


async def insert_award(conn: AsyncConnection, values: Mapping[str, Any]) -> None:
    await conn.execute(awards.insert().values(**values))


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
            .returning(a.id, a.transaction_id)
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
    "bump_catalogue",
    "catalogue_version",
    "contributions_of_purchase",
    "count_day",
    "count_progress",
    "get_badge",
    "insert_award",
    "insert_badge",
    "insert_contribution",
    "list_badges",
    "live_badges",
    "member_awards",
    "member_progress",
    "progress_contributions",
    "record_failure",
    "revoke_awards",
    "set_revocation_transaction",
    "take_back_progress",
    "update_badge",
]
