"""SQL of campaigns, always filtered by tenant. Budget and limit counters change only by
conditional updates, so concurrent awards can never overspend (see each docstring)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, Row, Select, and_, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.db.prepared import Prepared
from loyalty_core.db.rows import InsertRows
from loyalty_core.events.builtin import PURCHASE
from loyalty_core.events.tables import events
from loyalty_core.modules.contributions import MemberFact
from loyalty_core.rules.conditions import WINDOWS
from loyalty_core.rules.tables import (
    rule_awards,
    rule_campaign_health,
    rule_campaign_versions,
    rule_campaigns,
    rule_member_counters,
)

CAMPAIGN_COLUMNS = (
    rule_campaigns.c.id,
    rule_campaigns.c.name,
    rule_campaigns.c.status,
    rule_campaigns.c.current_version,
    rule_campaigns.c.budget_spent,
    rule_campaigns.c.created_at,
    rule_campaigns.c.updated_at,
    rule_campaigns.c.status_reason,
    rule_campaign_versions.c.definition,
    func.coalesce(rule_campaign_health.c.failures, 0).label("failures"),
    func.coalesce(rule_campaign_health.c.consecutive, 0).label("consecutive_failures"),
    rule_campaign_health.c.last_version.label("last_failure_version"),
    rule_campaign_health.c.last_error,
    rule_campaign_health.c.last_error_class,
    rule_campaign_health.c.last_failure_at,
)


_CURRENT_VERSION = and_(
    rule_campaign_versions.c.tenant_id == rule_campaigns.c.tenant_id,
    rule_campaign_versions.c.campaign_id == rule_campaigns.c.id,
    rule_campaign_versions.c.version == rule_campaigns.c.current_version,
)
"""Joins a campaign to its current version."""
_HEALTH = and_(
    rule_campaign_health.c.tenant_id == rule_campaigns.c.tenant_id,
    rule_campaign_health.c.campaign_id == rule_campaigns.c.id,
)
"""Joins a campaign to its failures, if it ever failed (an outer join)."""


def _campaign_query(tenant_id: uuid.UUID) -> Any:
    return (
        select(*CAMPAIGN_COLUMNS)
        .select_from(rule_campaigns)
        .join(rule_campaign_versions, _CURRENT_VERSION)
        .outerjoin(rule_campaign_health, _HEALTH)
        .where(rule_campaigns.c.tenant_id == tenant_id)
    )


async def get_campaign(
    conn: AsyncConnection, tenant_id: uuid.UUID, campaign_id: uuid.UUID, *, lock: bool = False
) -> Row[Any] | None:
    query = _campaign_query(tenant_id).where(rule_campaigns.c.id == campaign_id)
    if lock:
        query = query.with_for_update(of=rule_campaigns)
    return (await conn.execute(query)).first()


async def list_campaigns(
    conn: AsyncConnection, tenant_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
) -> list[Row[Any]]:
    query = _campaign_query(tenant_id).order_by(rule_campaigns.c.id).limit(limit)
    if after is not None:
        query = query.where(rule_campaigns.c.id > after)
    return list(await conn.execute(query))


async def insert_campaign(
    conn: AsyncConnection, tenant_id: uuid.UUID, campaign_id: uuid.UUID, name: str
) -> None:
    await conn.execute(
        insert(rule_campaigns).values(
            tenant_id=tenant_id, id=campaign_id, name=name, status="draft", current_version=1
        )
    )


async def insert_version(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    campaign_id: uuid.UUID,
    version: int,
    *,
    trigger_type: str,
    priority: int,
    definition: dict[str, Any],
    actor: str,
) -> None:
    await conn.execute(
        insert(rule_campaign_versions).values(
            tenant_id=tenant_id,
            campaign_id=campaign_id,
            version=version,
            trigger_type=trigger_type,
            priority=priority,
            definition=definition,
            actor=actor,
        )
    )


async def update_campaign(
    conn: AsyncConnection, tenant_id: uuid.UUID, campaign_id: uuid.UUID, **values: Any
) -> None:
    await conn.execute(
        update(rule_campaigns)
        .where(rule_campaigns.c.tenant_id == tenant_id, rule_campaigns.c.id == campaign_id)
        .values(**values, updated_at=func.now())
    )


_CURRENT_ACTIVE_VERSIONS = (
    select(
        rule_campaign_versions.c.campaign_id,
        rule_campaign_versions.c.version,
        rule_campaign_versions.c.definition,
        rule_campaigns.c.name,
        func.coalesce(rule_campaign_health.c.consecutive, 0).label("consecutive_failures"),
    )
    .select_from(rule_campaign_versions)
    .join(rule_campaigns, _CURRENT_VERSION)
    .outerjoin(rule_campaign_health, _HEALTH)
    .where(
        rule_campaign_versions.c.tenant_id == bindparam("tenant_id"),
        rule_campaigns.c.status == "active",
    )
)
_ACTIVE_VERSIONS = Prepared(
    _CURRENT_ACTIVE_VERSIONS.where(
        rule_campaign_versions.c.trigger_type == bindparam("trigger_type")
    )
)
"""Built once with bound parameters, run by asyncpg: every ingestion with campaigns runs it."""
_ALL_ACTIVE_VERSIONS = Prepared(
    _CURRENT_ACTIVE_VERSIONS.order_by(rule_campaigns.c.name, rule_campaigns.c.id)
)
"""Every member dashboard runs it (``Member.activeCampaigns``)."""


async def active_versions(
    conn: AsyncConnection, tenant_id: uuid.UUID, trigger_type: str
) -> list[Any]:
    """The current versions of active campaigns for one trigger type: an index lookup on
    ``(tenant_id, trigger_type)``, never a scan of every rule of the tenant."""
    return await _ACTIVE_VERSIONS.all(conn, {"tenant_id": tenant_id, "trigger_type": trigger_type})


async def all_active_versions(conn: AsyncConnection, tenant_id: uuid.UUID) -> list[Any]:
    """The current versions of every active campaign, by name."""
    return await _ALL_ACTIVE_VERSIONS.all(conn, {"tenant_id": tenant_id})


async def restart_health(
    conn: AsyncConnection, tenant_id: uuid.UUID, campaign_id: uuid.UUID
) -> None:
    """Start counting consecutive failures afresh (an admin activated the campaign or gave it
    a new definition); the total and the last error stay."""
    await conn.execute(
        update(rule_campaign_health)
        .where(
            rule_campaign_health.c.tenant_id == tenant_id,
            rule_campaign_health.c.campaign_id == campaign_id,
            rule_campaign_health.c.consecutive > 0,
        )
        .values(consecutive=0)
    )


async def reserve_budget(
    conn: AsyncConnection, tenant_id: uuid.UUID, campaign_id: uuid.UUID, points: int, budget: int
) -> bool:
    """Add ``points`` to what the campaign spent unless that passes ``budget``. The row lock of
    the UPDATE serialises concurrent awards, and the condition is re-checked against the
    committed value of the writer it waited for: the race is won by whoever fits."""
    found = await conn.execute(
        update(rule_campaigns)
        .where(
            rule_campaigns.c.tenant_id == tenant_id,
            rule_campaigns.c.id == campaign_id,
            rule_campaigns.c.budget_spent + points <= budget,
        )
        .values(budget_spent=rule_campaigns.c.budget_spent + points)
        .returning(rule_campaigns.c.id)
    )
    return found.first() is not None


async def credit_budget(
    conn: AsyncConnection, tenant_id: uuid.UUID, campaign_id: uuid.UUID, points: int
) -> None:
    """Credit ``points`` (negative) back to a campaign's budget; never below zero."""
    await conn.execute(
        update(rule_campaigns)
        .where(rule_campaigns.c.tenant_id == tenant_id, rule_campaigns.c.id == campaign_id)
        .values(budget_spent=func.greatest(rule_campaigns.c.budget_spent + points, 0))
    )


async def reserve_limit(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    campaign_id: uuid.UUID,
    member_id: uuid.UUID,
    period: str,
    *,
    points: int,
    max_awards: int | None,
    max_points: int | None,
) -> bool:
    """Count one award of ``points`` for a member and period unless a limit would pass. The
    insert or the conditional ``ON CONFLICT DO UPDATE`` locks the counter row; a concurrent
    award waits and re-checks against the committed counts."""
    if (max_points is not None and points > max_points) or max_awards == 0:
        return False
    counter = rule_member_counters
    statement = pg_insert(counter).values(
        tenant_id=tenant_id,
        campaign_id=campaign_id,
        member_id=member_id,
        period=period,
        awards=1,
        points=points,
    )
    conditions = []
    if max_awards is not None:
        conditions.append(counter.c.awards + 1 <= max_awards)
    if max_points is not None:
        conditions.append(counter.c.points + points <= max_points)
    found = await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["tenant_id", "campaign_id", "member_id", "period"],
            set_={"awards": counter.c.awards + 1, "points": counter.c.points + points},
            where=and_(*conditions) if conditions else None,
        ).returning(counter.c.period)
    )
    return found.first() is not None


async def credit_limit(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    campaign_id: uuid.UUID,
    member_id: uuid.UUID,
    period: str,
    *,
    points: int,
    awards: int,
) -> None:
    counter = rule_member_counters
    await conn.execute(
        update(counter)
        .where(
            counter.c.tenant_id == tenant_id,
            counter.c.campaign_id == campaign_id,
            counter.c.member_id == member_id,
            counter.c.period == period,
        )
        .values(
            awards=func.greatest(counter.c.awards - awards, 0),
            points=func.greatest(counter.c.points - points, 0),
        )
    )


async def insert_awards(conn: AsyncConnection, awards: Sequence[Mapping[str, Any]]) -> None:
    """Record awards (``rule_awards`` rows, tenant included), in one statement."""
    await _INSERT_AWARDS.execute(conn, awards)


_INSERT_AWARDS = InsertRows(
    rule_awards,
    ["tenant_id", "id", "campaign_id", "version", "member_id", "event_id", "points", "periods"],
)


async def awards_of_event(
    conn: AsyncConnection, tenant_id: uuid.UUID, event_id: uuid.UUID
) -> list[Row[Any]]:
    query = select(rule_awards).where(
        rule_awards.c.tenant_id == tenant_id, rule_awards.c.event_id == event_id
    )
    return list(await conn.execute(query))


def _member_aggregates_query(facts: Sequence[MemberFact] = ()) -> Select[Any]:
    """The statement of :func:`member_aggregates`, built once with bound parameters: every
    ingestion with an active campaign runs it, and building (and keying, for SQLAlchemy's
    compiled cache) fifteen aggregates cost more than PostgreSQL takes to run them."""
    is_purchase = events.c.type == PURCHASE
    is_type = events.c.type == bindparam("event_type")
    windowed: list[Any] = []
    for days in WINDOWS:
        within = events.c.occurred_at > bindparam(f"since_{days}")
        windowed += [
            func.coalesce(func.sum(events.c.amount).filter(is_purchase, within), 0).label(
                f"spend_{days}"
            ),
            func.count().filter(is_purchase, within).label(f"purchases_{days}"),
            func.count().filter(is_type, within).label(f"events_{days}"),
        ]
    tenant_id: BindParameter[Any] = bindparam("tenant_id")
    member_id: BindParameter[Any] = bindparam("member_id")
    return select(
        func.count().filter(is_purchase).label("purchase_count"),
        func.count().filter(is_type).label("event_count"),
        func.coalesce(func.sum(events.c.amount).filter(is_purchase), 0).label("total_spend"),
        *windowed,
        *(fact.column(tenant_id, member_id).label(fact_label(fact)) for fact in facts),
    ).where(
        events.c.tenant_id == bindparam("tenant_id"),
        events.c.member_id == bindparam("member_id"),
        events.c.id <= bindparam("upto"),
    )


_MEMBER_AGGREGATES: dict[tuple[MemberFact, ...], Prepared] = {
    (): Prepared(_member_aggregates_query())
}
"""The statement per set of module facts (a tenant's enabled modules): a handful of sets."""


def fact_label(fact: MemberFact) -> str:
    """The result column of a module fact in the aggregates' row."""
    return f"fact_{fact.name}"


def _aggregates_statement(facts: Sequence[MemberFact]) -> Prepared:
    key = tuple(facts)
    found = _MEMBER_AGGREGATES.get(key)
    if found is None:
        found = _MEMBER_AGGREGATES[key] = Prepared(_member_aggregates_query(key))
    return found


async def member_aggregates(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    event_type: str,
    upto: uuid.UUID,
    at: datetime,
    facts: Sequence[MemberFact] = (),
) -> Any:
    """A member's counts and gross spend over the events stored up to and including ``upto``
    (ids are time-ordered): the same numbers whether asked live or in a backtest. All time
    (``purchase_count``, ``event_count`` of ``event_type``, ``total_spend``) and over the
    ``WINDOWS`` of days before ``at`` (``spend_30``, ``purchases_30``, ``events_30``, ...), in
    one pass over the member's events. Module ``facts`` come in the same statement, as
    ``fact_<name>`` columns (:func:`fact_label`)."""
    parameters: dict[str, Any] = {
        "tenant_id": tenant_id,
        "member_id": member_id,
        "upto": upto,
        "event_type": event_type,
    }
    for days in WINDOWS:
        parameters[f"since_{days}"] = at - timedelta(days=days)
    row = await _aggregates_statement(facts).first(conn, parameters)
    assert row is not None, "an aggregate query answers one row"
    return row


async def events_for_backtest(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    event_type: str,
    *,
    since: datetime,
    until: datetime,
) -> list[Row[Any]]:
    """Stored events of one type in a period, in the order they were ingested."""
    query = (
        select(events)
        .where(
            events.c.tenant_id == tenant_id,
            events.c.type == event_type,
            events.c.occurred_at >= since,
            events.c.occurred_at < until,
        )
        .order_by(events.c.id)
    )
    return list(await conn.execute(query))


__all__ = [
    "active_versions",
    "awards_of_event",
    "credit_budget",
    "credit_limit",
    "events_for_backtest",
    "fact_label",
    "get_campaign",
    "insert_awards",
    "insert_campaign",
    "insert_version",
    "list_campaigns",
    "member_aggregates",
    "reserve_budget",
    "reserve_limit",
    "restart_health",
    "update_campaign",
]
