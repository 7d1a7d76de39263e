"""Business rules of campaigns: save (validated, versioned), activate, deactivate, backtest.

Versions are immutable: every change of the definition adds one, because ledger entries and
awards may already name the old one (a draft's versions simply were never used).
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.audit.service import record
from loyalty_core.errors import ErrorCode, LoyaltyError, NotFound, ValidationFailed
from loyalty_core.events import repository as events_repo
from loyalty_core.events.builtin import BUILTIN_SCHEMAS, PURCHASE
from loyalty_core.ids import new_id
from loyalty_core.ledger import repository as ledger_repo
from loyalty_core.members import service as members
from loyalty_core.modules.contributions import EventTypeSpec
from loyalty_core.rules import conditions, engine, segments
from loyalty_core.rules import repository as repo
from loyalty_core.rules.definition import (
    SCHEDULES,
    AssetAward,
    Definition,
    parse,
    resolve_effects,
)
from loyalty_core.rules.health import Tally
from loyalty_core.tenants.models import Tenant

MAX_BACKTEST_DAYS = 366
SAMPLE_ERRORS = 5
"""Distinct errors a backtest reports of a failing campaign."""


@dataclass(frozen=True)
class Health:
    """How a campaign fared at run time (``rules.health``): failures in all, consecutive
    failures since its last success, the last failure, and why it paused itself."""

    failures: int
    consecutive_failures: int
    last_error: str | None
    last_error_class: str | None
    last_failure_at: datetime | None
    last_failure_version: int | None
    paused_reason: str | None


@dataclass(frozen=True)
class Campaign:
    id: uuid.UUID
    name: str
    status: str
    version: int
    definition: Definition
    budget_spent: int
    created_at: datetime
    updated_at: datetime
    health: Health


@dataclass(frozen=True)
class Simulation:
    points: int
    awards: int
    members_reached: int
    budget_by_day: list[tuple[date, int]]
    top_members: list[tuple[uuid.UUID, int]]
    failures: int = 0
    """Events the campaign failed for (live, it would have been skipped for them)."""
    sample_errors: list[str] = field(default_factory=list)


async def create(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    name: str,
    data: Mapping[str, Any],
    effects: engine.ModuleEffects,
    module_types: Mapping[str, EventTypeSpec],
    actor: str,
    facts: engine.ModuleFacts = (),
) -> Campaign:
    """A new draft campaign, version 1, after every check of its definition."""
    _check_name(name)
    definition = await validate(conn, tenant_id, data, effects, module_types, facts)
    campaign_id = new_id()
    await repo.insert_campaign(conn, tenant_id, campaign_id, name)
    await _insert_version(conn, tenant_id, campaign_id, 1, definition, actor)
    await record(
        conn, tenant_id, actor=actor, action="campaign.create", target=_target(campaign_id)
    )
    return await get(conn, tenant_id, campaign_id)


async def update(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    campaign_id: uuid.UUID,
    *,
    name: str | None,
    data: Mapping[str, Any] | None,
    effects: engine.ModuleEffects,
    module_types: Mapping[str, EventTypeSpec],
    actor: str,
    facts: engine.ModuleFacts = (),
) -> Campaign:
    """Rename and/or redefine; a used campaign gets a new version (see the module docstring)."""
    row = await repo.get_campaign(conn, tenant_id, campaign_id, lock=True)
    if row is None:
        raise NotFound("campaign not found", field="id")
    values: dict[str, Any] = {}
    if name is not None:
        _check_name(name)
        values["name"] = name
    if data is not None:
        definition = await validate(conn, tenant_id, data, effects, module_types, facts)
        version = int(row.current_version) + 1
        await _insert_version(conn, tenant_id, campaign_id, version, definition, actor)
        await repo.restart_health(conn, tenant_id, campaign_id)
        values["current_version"] = version
    if values:
        await repo.update_campaign(conn, tenant_id, campaign_id, **values)
    await record(
        conn, tenant_id, actor=actor, action="campaign.update", target=_target(campaign_id)
    )
    return await get(conn, tenant_id, campaign_id)


async def set_status(
    conn: AsyncConnection, tenant_id: uuid.UUID, campaign_id: uuid.UUID, status: str, actor: str
) -> Campaign:
    """Set the status an admin chose; it has no reason but theirs. Activating starts the
    count of consecutive failures afresh (a paused campaign gets its threshold again)."""
    if await repo.get_campaign(conn, tenant_id, campaign_id, lock=True) is None:
        raise NotFound("campaign not found", field="id")
    await repo.update_campaign(conn, tenant_id, campaign_id, status=status, status_reason=None)
    if status == "active":
        await repo.restart_health(conn, tenant_id, campaign_id)
    await record(
        conn, tenant_id, actor=actor, action=f"campaign.{status}", target=_target(campaign_id)
    )
    return await get(conn, tenant_id, campaign_id)


async def get(conn: AsyncConnection, tenant_id: uuid.UUID, campaign_id: uuid.UUID) -> Campaign:
    row = await repo.get_campaign(conn, tenant_id, campaign_id)
    if row is None:
        raise NotFound("campaign not found", field="id")
    return campaign_from_row(row)


def campaign_from_row(row: Any) -> Campaign:
    return Campaign(
        id=row.id,
        name=row.name,
        status=row.status,
        version=int(row.current_version),
        definition=parse(row.definition),
        budget_spent=int(row.budget_spent),
        created_at=row.created_at,
        updated_at=row.updated_at,
        health=Health(
            failures=int(row.failures),
            consecutive_failures=int(row.consecutive_failures),
            last_error=row.last_error,
            last_error_class=row.last_error_class,
            last_failure_at=row.last_failure_at,
            last_failure_version=row.last_failure_version,
            paused_reason=row.status_reason if row.status == "paused" else None,
        ),
    )


async def validate(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    data: Mapping[str, Any],
    effects: engine.ModuleEffects,
    module_types: Mapping[str, EventTypeSpec],
    facts: engine.ModuleFacts = (),
) -> Definition:
    """The definition, or the first thing wrong with it: fields, window, effects (known and
    with valid parameters, assets that exist), the condition against the trigger's schema
    and the member ``facts`` of the tenant's modules."""
    definition = parse(data)
    for effect in resolve_effects(definition, effects):
        if isinstance(effect.params, AssetAward) and (
            await ledger_repo.get_asset(conn, tenant_id, effect.params.asset) is None
        ):
            raise ValidationFailed(
                f"no asset {effect.params.asset!r}", field="effects.params.asset"
            )
    known = {s.name for s in await segments.list_segments(conn, tenant_id)}
    for index, name in enumerate(definition.segments):
        if name not in known:
            raise NotFound(f"no segment named {name!r}", field=f"segments.{index}")
    schema = await trigger_schema(conn, tenant_id, definition.trigger, module_types)
    conditions.check(definition.condition, schema, facts=[fact.name for fact in facts])
    return definition


async def simulate(
    conn: AsyncConnection,
    tenant: Tenant,
    definition: Definition,
    *,
    name: str,
    since: datetime,
    until: datetime,
    effects: engine.ModuleEffects,
    top: int = 10,
    facts: engine.ModuleFacts = (),
) -> Simulation:
    """Run one campaign over the stored events of a period, writing nothing: the live
    evaluation path with an in-memory sink, starting from an unspent budget. Events the
    campaign fails for are counted, with a few of the errors, as live processing would
    count them (and skip the campaign for them)."""
    if definition.trigger in SCHEDULES:
        raise ValidationFailed(
            "backtests replay events: a scheduled campaign has none", field="trigger"
        )
    if until <= since or until - since > timedelta(days=MAX_BACKTEST_DAYS):
        raise ValidationFailed(f"until must be after since, at most {MAX_BACKTEST_DAYS} days")
    version = engine.CampaignVersion(uuid.UUID(int=0), 0, name, definition)
    sink = engine.MemorySink()
    tally = Tally(until)
    for row in await repo.events_for_backtest(
        conn, tenant.id, definition.trigger, since=since, until=until
    ):
        event = events_repo.event_from_row(row)
        trigger = await engine.trigger_of_event(conn, tenant, event, facts=facts)
        await engine.evaluate([version], trigger, sink, effects, tally)
    zone = ZoneInfo(tenant.timezone)
    by_day: dict[date, int] = defaultdict(int)
    by_member: Counter[uuid.UUID] = Counter()
    for member_id, at, points in sink.awards:
        by_day[at.astimezone(zone).date()] += points
        by_member[member_id] += points
    return Simulation(
        points=sum(by_member.values()),
        awards=len(sink.awards),
        members_reached=len(by_member),
        budget_by_day=sorted(by_day.items()),
        top_members=sorted(by_member.items(), key=lambda kv: (-kv[1], kv[0]))[:top],
        failures=len(tally.failures),
        sample_errors=list(dict.fromkeys(f.message for f in tally.failures))[:SAMPLE_ERRORS],
    )


async def trigger_schema(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    trigger: str,
    module_types: Mapping[str, EventTypeSpec],
) -> Mapping[str, Any]:
    """The JSON Schema of the payload a trigger's events carry (built-in, a module's or the
    tenant's own type; empty for a schedule), or ``UNKNOWN_EVENT_TYPE`` on ``trigger``."""
    if trigger in SCHEDULES:
        return {"type": "object", "properties": {}}
    if trigger in BUILTIN_SCHEMAS:
        return BUILTIN_SCHEMAS[trigger]
    if trigger in module_types:
        return module_types[trigger].json_schema
    row = await events_repo.get_custom_type(conn, tenant_id, trigger)
    if row is None:
        raise LoyaltyError(
            f"unknown event type {trigger!r}", code=ErrorCode.UNKNOWN_EVENT_TYPE, field="trigger"
        )
    return dict(row.json_schema)


async def _insert_version(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    campaign_id: uuid.UUID,
    version: int,
    definition: Definition,
    actor: str,
) -> None:
    await repo.insert_version(
        conn,
        tenant_id,
        campaign_id,
        version,
        trigger_type=definition.trigger,
        priority=definition.priority,
        definition=definition.model_dump(mode="json", by_alias=True),
        actor=actor,
    )


def _check_name(name: str) -> None:
    if not 1 <= len(name.strip()) <= 200:
        raise ValidationFailed("name: 1 to 200 characters", field="name")


def _target(campaign_id: uuid.UUID) -> str:
    return f"campaign:{campaign_id}"


async def campaigns_for_member(
    conn: AsyncConnection,
    tenant: Tenant,
    member_id: uuid.UUID,
    now: datetime,
    facts: engine.ModuleFacts = (),
) -> list[engine.CampaignVersion]:
    """The active campaigns running at ``now`` (inside their start and end dates) that
    ``member`` is targeted by, by name: what a member's app lists as current offers. Whether
    the member also meets a campaign's condition is known only when an event arrives. Member
    segments are worked out (three reads) only when one of those campaigns targets segments."""
    running = [
        version
        for version in map(engine.version_of, await repo.all_active_versions(conn, tenant.id))
        if _within_dates(version.definition, now)
    ]
    if not any(version.definition.segments for version in running):
        return running
    member = await members.get_member(conn, tenant.id, member_id)
    aggregates = await repo.member_aggregates(
        conn, tenant.id, member_id, event_type=PURCHASE, upto=new_id(), at=now, facts=facts
    )
    variables = await engine.member_variables(conn, tenant.id, member, aggregates, now, facts)
    belongs = set(variables["segments"])
    return [
        version
        for version in running
        if not version.definition.segments or belongs.intersection(version.definition.segments)
    ]


def _within_dates(definition: Definition, now: datetime) -> bool:
    window = definition.window
    started = window.starts_at is None or window.starts_at <= now
    return started and (window.ends_at is None or now < window.ends_at)


__all__ = [
    "Campaign",
    "Health",
    "Simulation",
    "campaigns_for_member",
    "create",
    "get",
    "set_status",
    "simulate",
    "trigger_schema",
    "update",
    "validate",
]
