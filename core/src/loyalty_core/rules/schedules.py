"""Scheduled triggers: birthdays, enrolment anniversaries, inactivity, a fixed date.

A job (declared by the core plugin) finds, per active scheduled campaign, the members due
today in the tenant's time zone, and rewards each in a transaction of its own. Each firing is
claimed first as a ``rule_occurrences`` row (``birthday:2026``, ``inactive:<last activity>``):
a second run, or a replica running at the same moment, waits on that unique key and then
skips, and the ledger key carries the occurrence as well. So a birthday is rewarded once a
year however often the job runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.db.engine import Database
from loyalty_core.events.tables import events
from loyalty_core.members import service as members_service
from loyalty_core.members.tables import members
from loyalty_core.modules.contributions import JobContext
from loyalty_core.rules import engine
from loyalty_core.rules import repository as repo
from loyalty_core.rules.definition import (
    ANNIVERSARY,
    BIRTHDAY,
    FIXED_DATE,
    INACTIVITY,
    SCHEDULES,
    Definition,
)
from loyalty_core.rules.health import Tally
from loyalty_core.rules.tables import rule_occurrences
from loyalty_core.tenants.models import Tenant

if TYPE_CHECKING:
    from loyalty_core.modules.manager import ModuleRegistry

LAST_ID = uuid.UUID(int=(1 << 128) - 1)
"""Every event id is at most this: aggregates over a member's whole history."""


async def run_scheduled(context: JobContext) -> int:
    """The job: reward the scheduled triggers due now; how many members were rewarded. The
    effects of the modules the tenant enabled apply, with the tenant's settings of each, and
    conditions see their member facts (``member.tier``) as event-triggered campaigns do."""
    return await run_scheduled_at(
        context.database,
        context.tenant,
        context.now,
        effects=engine.module_effects(context.registry, context.enabled_modules),
        settings=context.enabled_modules,
        facts=engine.module_facts(context.registry, context.enabled_modules),
        registry=context.registry,
    )


async def run_scheduled_at(
    database: Database,
    tenant: Tenant,
    now: datetime,
    *,
    effects: engine.ModuleEffects | None = None,
    settings: Mapping[str, BaseModel] | None = None,
    facts: engine.ModuleFacts = (),
    registry: ModuleRegistry | None = None,
) -> int:
    """Fire every active scheduled campaign's triggers due at ``now``. Without ``effects``
    only built-in effects apply (a module effect is skipped, as for a disabled module);
    ``facts`` are the enabled modules' member facts conditions may read."""
    today = now.astimezone(ZoneInfo(tenant.timezone)).date()
    async with database.tenant_transaction(tenant.id) as conn:
        versions = [
            engine.version_of(row)
            for trigger in sorted(SCHEDULES)
            for row in await repo.active_versions(conn, tenant.id, trigger)
        ]
        due = {v.campaign_id: await _due(conn, tenant, v.definition, today, now) for v in versions}
    rewarded = 0
    effects, settings = effects or {}, settings or {}
    for version in versions:
        for member_id, occurrence in due[version.campaign_id]:
            try:
                async with database.tenant_transaction(tenant.id) as conn:
                    rewarded += await _fire(
                        conn,
                        tenant,
                        version,
                        member_id,
                        occurrence,
                        now,
                        effects,
                        settings,
                        facts=facts,
                        registry=registry,
                    )
            except _Failed as failed:
                async with database.tenant_transaction(tenant.id) as conn:
                    await failed.tally.record(conn, tenant.id)
    return rewarded


async def _fire(
    conn: AsyncConnection,
    tenant: Tenant,
    version: engine.CampaignVersion,
    member_id: uuid.UUID,
    occurrence: str,
    now: datetime,
    effects: engine.ModuleEffects,
    settings: Mapping[str, BaseModel],
    *,
    facts: engine.ModuleFacts,
    registry: ModuleRegistry | None,
) -> int:
    claimed = await conn.execute(
        pg_insert(rule_occurrences)
        .values(
            tenant_id=tenant.id,
            campaign_id=version.campaign_id,
            member_id=member_id,
            occurrence=occurrence,
        )
        .on_conflict_do_nothing()
        .returning(rule_occurrences.c.occurrence)
    )
    if claimed.first() is None:
        return 0
    trigger = await _trigger(
        conn, tenant, version.definition.trigger, member_id, occurrence, now, facts
    )
    sink = engine.LedgerSink(conn, "job:rules.scheduled", now, settings, registry=registry)
    tally = Tally(now)
    rewarded = await engine.evaluate([version], trigger, sink, effects, tally)
    if tally.failures:
        raise _Failed(tally)
    await tally.record(conn, tenant.id)
    return rewarded


class _Failed(Exception):
    """The campaign failed for the occurrence: its transaction rolls back (the claim with
    it, since ``rule_occurrences`` is insert-only), so that a later run, once the campaign
    is fixed and active again, may still reward it; the failure is recorded apart."""

    def __init__(self, tally: Tally) -> None:
        super().__init__("campaign failed")
        self.tally = tally


async def _trigger(
    conn: AsyncConnection,
    tenant: Tenant,
    kind: str,
    member_id: uuid.UUID,
    occurrence: str,
    now: datetime,
    facts: engine.ModuleFacts,
) -> engine.Trigger:
    member = await members_service.get_member(conn, tenant.id, member_id)
    aggregates = await repo.member_aggregates(
        conn, tenant.id, member_id, event_type=kind, upto=LAST_ID, at=now, facts=facts
    )
    variables = {
        "event": {"type": kind, "occurredAt": now, "payload": {}},
        "member": await engine.member_variables(conn, tenant.id, member, aggregates, now, facts),
        "now": now,
    }
    return engine.Trigger(
        tenant=tenant,
        member_id=member_id,
        at=now,
        variables=variables,
        base_points=0,
        occurrence=occurrence,
    )


async def _due(
    conn: AsyncConnection, tenant: Tenant, definition: Definition, today: date, now: datetime
) -> list[tuple[uuid.UUID, str]]:
    """Members due today for one scheduled campaign, with the occurrence each would fire."""
    active = (members.c.tenant_id == tenant.id) & (members.c.status == "active")
    month_day = today.strftime("%m-%d")
    local_created = func.timezone(tenant.timezone, members.c.created_at)
    query: Any
    if definition.trigger == BIRTHDAY:
        birth = members.c.profile["birthDate"].astext
        query = select(members.c.id, literal(f"birthday:{today.year}")).where(
            active, func.substr(birth, 6, 5) == month_day
        )
    elif definition.trigger == ANNIVERSARY:
        query = select(members.c.id, literal(f"anniversary:{today.year}")).where(
            active,
            func.to_char(local_created, "MM-DD") == month_day,
            func.date(local_created) < today,
        )
    elif definition.trigger == INACTIVITY:
        assert definition.inactive_days is not None
        last_event = (
            select(func.max(events.c.occurred_at))
            .where(events.c.tenant_id == tenant.id, events.c.member_id == members.c.id)
            .scalar_subquery()
        )
        last = func.coalesce(last_event, members.c.created_at)
        query = select(
            members.c.id, literal("inactive:") + func.to_char(last, 'YYYY-MM-DD"T"HH24:MI:SS')
        ).where(active, last < now - timedelta(days=definition.inactive_days))
    else:
        assert definition.trigger == FIXED_DATE
        if definition.on_date != today:
            return []
        query = select(members.c.id, literal(f"date:{today.isoformat()}")).where(active)
    return [(row[0], str(row[1])) for row in await conn.execute(query)]


__all__ = ["run_scheduled", "run_scheduled_at"]
