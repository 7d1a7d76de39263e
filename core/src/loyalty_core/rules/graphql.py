"""GraphQL of campaigns: configuration for tenant admins, and the backtest."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.scalars import JSON
from strawberry.types import Info

from loyalty_core.auth import may_read_member, require_admin, require_principal, require_tenant
from loyalty_core.context import RequestContext
from loyalty_core.errors import LoyaltyError, ValidationFailed
from loyalty_core.events.requests import module_types
from loyalty_core.graphql.common import (
    Connection,
    Cursors,
    UserError,
    connection,
    page_size,
    require_id,
    run_mutation,
)
from loyalty_core.ids import parse_id
from loyalty_core.ledger.graphql_types import TransactionKind
from loyalty_core.ledger.queries import LedgerLine, member_ledger
from loyalty_core.modules.dispatch import DomainEvents
from loyalty_core.rules import conditions, engine, segments, service
from loyalty_core.rules import repository as repo


@strawberry.enum(description="Whether a campaign combines with others.")
class CampaignStacking(Enum):
    STACK = "stack"
    EXCLUSIVE = "exclusive"


@strawberry.enum
class CampaignStatus(Enum):
    DRAFT = "draft"
    ACTIVE = "active"
    INACTIVE = "inactive"
    PAUSED = strawberry.enum_value(
        "paused",
        description="Stopped by its own failures (see `health.pausedReason`); "
        "`campaignActivate` starts it again.",
    )


@strawberry.enum
class LimitPeriod(Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    CAMPAIGN = "campaign"


@strawberry.input(description="An effect: a built-in kind or `<module>.<effect>`.")
class EffectInput:
    kind: str
    params: dict[str, Any] | None = strawberry.field(
        graphql_type=JSON | None,
        default=None,
        description="The kind's parameters; absent for a kind that takes none.",
    )


@strawberry.input(description="When a campaign applies, in the tenant's time zone.")
class WindowInput:
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    days_of_week: list[int] | None = strawberry.field(
        default=None, description="ISO days: 1 = Monday ... 7 = Sunday."
    )
    hours_from: int = 0
    hours_to: int = 24


@strawberry.input(description="Per member and period: at most so many awards and/or points.")
class LimitInput:
    period: LimitPeriod
    max_awards: int | None = None
    max_points: int | None = None


@strawberry.input(description="What a campaign version says.")
class CampaignDefinitionInput:
    trigger: str = strawberry.field(
        description="An event type, or a schedule: `schedule.birthday`, `schedule.anniversary`, "
        "`schedule.inactivity`, `schedule.date`."
    )
    effects: list[EffectInput]
    condition: str = strawberry.field(default="", description="CEL over event, member, now.")
    window: WindowInput | None = None
    priority: int = 0
    stacking: CampaignStacking = CampaignStacking.STACK
    budget: int | None = strawberry.field(default=None, description="Total points, if capped.")
    limits: list[LimitInput] = strawberry.field(default_factory=list)
    pending_days: int | None = strawberry.field(
        default=None, description="Days the points stay pending; default: the asset's."
    )
    segments: list[str] = strawberry.field(
        default_factory=list, description="Target segments by name (any); empty: everyone."
    )
    inactive_days: int | None = strawberry.field(
        default=None, description="For `schedule.inactivity`: days without any event."
    )
    on_date: date | None = strawberry.field(
        default=None, description="For `schedule.date`: the day every active member is rewarded."
    )
    pause_after_failures: int | None = strawberry.field(
        default=None,
        description="Consecutive failures after which the campaign pauses itself (1 to 10000); "
        "default 10.",
    )


@strawberry.input
class CampaignCreateInput:
    name: str
    definition: CampaignDefinitionInput


@strawberry.input
class CampaignUpdateInput:
    id: strawberry.ID
    name: str | None = None
    definition: CampaignDefinitionInput | None = None


@strawberry.input(description="Backtest a saved campaign (`id`) or a draft `definition`.")
class CampaignSimulateInput:
    since: datetime
    until: datetime
    id: strawberry.ID | None = None
    definition: CampaignDefinitionInput | None = None


@strawberry.type(
    description="How a campaign fared at run time. A campaign that fails for an event (its "
    "condition cannot be evaluated, an effect cannot be applied) is skipped for that event, "
    "which earns everything else as usual; after `pauseAfterFailures` failures in a row it "
    "pauses itself."
)
class CampaignHealth:
    failures: int = strawberry.field(description="Events it failed for, in all.")
    consecutive_failures: int = strawberry.field(
        description="Failures since it last ran without failing (or was activated or changed)."
    )
    last_error: str | None = strawberry.field(
        description='The last failure, e.g. "condition: division by zero in CEL expression".'
    )
    last_error_class: str | None = strawberry.field(
        description="What failed, e.g. `ZeroDivisionError`, `OverflowError`, `AwardOutOfRange`."
    )
    last_failure_at: datetime | None
    last_failure_version: int | None = strawberry.field(
        description="The campaign's version that failed last."
    )
    paused_reason: str | None = strawberry.field(
        description="Why the campaign paused itself, while it is `PAUSED`."
    )

    @classmethod
    def of(cls, found: service.Health) -> CampaignHealth:
        return cls(
            failures=found.failures,
            consecutive_failures=found.consecutive_failures,
            last_error=found.last_error,
            last_error_class=found.last_error_class,
            last_failure_at=found.last_failure_at,
            last_failure_version=found.last_failure_version,
            paused_reason=found.paused_reason,
        )


@strawberry.type(description="A rule that rewards what members do, with its current version.")
class Campaign:
    id: strawberry.ID
    name: str
    status: CampaignStatus
    version: int
    trigger: str
    condition: str
    budget_spent: int = strawberry.field(
        description="Points counted against the budget (campaigns with a budget)."
    )
    created_at: datetime
    updated_at: datetime
    definition: dict[str, Any] = strawberry.field(graphql_type=JSON)
    health: CampaignHealth

    @classmethod
    def of(cls, found: service.Campaign) -> Campaign:
        return cls(
            id=strawberry.ID(str(found.id)),
            name=found.name,
            status=CampaignStatus(found.status),
            version=found.version,
            trigger=found.definition.trigger,
            condition=found.definition.condition,
            definition=found.definition.model_dump(mode="json", by_alias=True),
            budget_spent=found.budget_spent,
            created_at=found.created_at,
            updated_at=found.updated_at,
            health=CampaignHealth.of(found.health),
        )


@strawberry.type(
    description="A campaign running now that targets the member: a current offer to show."
)
class ActiveCampaign:
    id: strawberry.ID
    name: str
    trigger: str = strawberry.field(
        description="What it rewards: an event type (`purchase`) or a schedule."
    )
    starts_at: datetime | None
    ends_at: datetime | None = strawberry.field(description="When it ends; null: open-ended.")

    @classmethod
    def of(cls, version: engine.CampaignVersion) -> ActiveCampaign:
        definition = version.definition
        return cls(
            id=strawberry.ID(str(version.campaign_id)),
            name=version.name,
            trigger=definition.trigger,
            starts_at=definition.window.starts_at,
            ends_at=definition.window.ends_at,
        )


@strawberry.type(description="Members grouped by a CEL condition over the member.")
class Segment:
    id: strawberry.ID
    name: str
    condition: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, found: segments.Segment) -> Segment:
        return cls(
            id=strawberry.ID(str(found.id)),
            name=found.name,
            condition=found.condition,
            created_at=found.created_at,
            updated_at=found.updated_at,
        )


@strawberry.input
class SegmentCreateInput:
    name: str
    condition: str = strawberry.field(description="CEL over member and now.")


@strawberry.input
class SegmentUpdateInput:
    id: strawberry.ID
    name: str | None = None
    condition: str | None = None


@strawberry.type
class SegmentPayload:
    segment: Segment | None
    errors: list[UserError]


@strawberry.type
class SegmentDeletePayload:
    deleted_id: strawberry.ID | None
    errors: list[UserError]


@strawberry.type
class CampaignPayload:
    campaign: Campaign | None
    errors: list[UserError]


@strawberry.type
class DayPoints:
    day: date
    points: int


@strawberry.type
class MemberPoints:
    member_id: strawberry.ID
    points: int


@strawberry.type(description="What a campaign would have awarded; nothing was written.")
class CampaignSimulation:
    points: int
    awards: int
    members_reached: int
    budget_by_day: list[DayPoints]
    top_members: list[MemberPoints]
    failures: int = strawberry.field(
        description="Events the campaign failed for: live, it would be skipped for them, "
        "and pause itself after its threshold of failures in a row."
    )
    sample_errors: list[str] = strawberry.field(
        description="Up to five distinct errors of those failures."
    )


@strawberry.type
class CampaignSimulatePayload:
    simulation: CampaignSimulation | None
    errors: list[UserError]


@strawberry.type(description="One entry on a member's balance and its cause in words.")
class BalanceExplanation:
    at: datetime
    asset: str
    amount: int
    kind: TransactionKind
    cause: str = strawberry.field(
        description='E.g. "Double points weekend (v2): 2x base on purchase r-17".'
    )
    campaign_id: strawberry.ID | None
    campaign_version: int | None

    @classmethod
    def of(cls, line: LedgerLine) -> BalanceExplanation:
        rule = line.cause.rule_id
        return cls(
            at=line.created_at,
            asset=line.asset_code,
            amount=line.amount,
            kind=line.kind,
            cause=line.reason,
            campaign_id=strawberry.ID(str(rule)) if rule else None,
            campaign_version=line.cause.rule_version,
        )


@strawberry.type(description="What is wrong with a condition, checked without saving anything.")
class ConditionCheck:
    valid: bool = strawberry.field(description="True when `errors` is empty.")
    errors: list[UserError] = strawberry.field(
        description="In the order of the text: the syntax errors, or (once it compiles) every "
        "field it names that the trigger's events or the member lack; `field` is "
        "`condition` (or `trigger` for an unknown event type), with `line` and `column`."
    )


@strawberry.type
class CampaignQuery:
    @strawberry.field(
        description="Why a member holds what they hold: entries, newest first, each with its "
        "cause (a campaign and its version, an event, an operator) in words."
    )
    async def explain_balance(
        self, info: Info[RequestContext, None], member_id: strawberry.ID, first: int | None = None
    ) -> list[BalanceExplanation] | None:
        ctx = info.context
        tenant_id = require_tenant(ctx.principal)
        found = parse_id(member_id)
        if found is None or not may_read_member(ctx.principal, found):
            return None
        async with ctx.read() as conn:
            lines = await member_ledger(conn, tenant_id, found, after=None, limit=page_size(first))
        return [BalanceExplanation.of(line) for line in lines]

    @strawberry.field(description="The tenant's campaigns (tenant admins).")
    async def campaigns(
        self, info: Info[RequestContext, None], first: int | None = None, after: str | None = None
    ) -> Connection[Campaign]:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        size = page_size(first)
        cursors = Cursors(tenant_id, "campaigns")
        async with ctx.read() as conn:
            rows = await repo.list_campaigns(
                conn, tenant_id, after=cursors.decode(after), limit=size + 1
            )
        return connection(
            cursors,
            rows,
            size,
            lambda row: row.id,
            lambda row: Campaign.of(service.campaign_from_row(row)),
        )

    @strawberry.field(description="The tenant's segments, by name (tenant admins).")
    async def segments(self, info: Info[RequestContext, None]) -> list[Segment]:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        async with ctx.read() as conn:
            return [Segment.of(s) for s in await segments.list_segments(conn, tenant_id)]

    @strawberry.field(
        description="Check a condition as a console's editor types it (tenant admins): with "
        "`trigger`, a campaign's condition for events of that type (an empty one holds for "
        "every event); without, a segment's condition (over the member and `now`, never "
        "empty). The same checks as `campaignCreate` and `segmentCreate` make, with the same "
        "codes, and every problem at once; nothing is written."
    )
    async def condition_check(
        self, info: Info[RequestContext, None], expression: str, trigger: str | None = None
    ) -> ConditionCheck:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        facts = [fact.name for fact in module_facts(ctx)]
        if trigger is None:
            found = conditions.segment_problems(expression, facts=facts)
        else:
            try:
                async with ctx.read() as conn:
                    schema = await service.trigger_schema(
                        conn, tenant_id, trigger, module_types(ctx)
                    )
            except LoyaltyError as error:
                return ConditionCheck(valid=False, errors=[UserError.of(error)])
            found = conditions.problems(expression, conditions.event_roots(schema, facts))
        errors = [UserError.of(error) for error in found]
        return ConditionCheck(valid=not errors, errors=errors)

    @strawberry.field(description="One campaign by id (tenant admins).")
    async def campaign(
        self, info: Info[RequestContext, None], id: strawberry.ID
    ) -> Campaign | None:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        async with ctx.read() as conn:
            row = await repo.get_campaign(conn, tenant_id, require_id(id))
        return Campaign.of(service.campaign_from_row(row)) if row else None


@strawberry.type
class CampaignMutation:
    @strawberry.mutation(description="Create a draft campaign (tenant admins).")
    async def campaign_create(
        self, info: Info[RequestContext, None], input: CampaignCreateInput
    ) -> CampaignPayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)

        async def work(conn: AsyncConnection, _: DomainEvents) -> service.Campaign:
            return await service.create(
                conn,
                tenant_id,
                name=input.name,
                data=definition_data(input.definition),
                effects=module_effects(ctx),
                module_types=module_types(ctx),
                actor=require_principal(ctx.principal).actor,
                facts=module_facts(ctx),
            )

        return _payload(*await run_mutation(info, work))

    @strawberry.mutation(description="Rename or redefine a campaign; a new version if redefined.")
    async def campaign_update(
        self, info: Info[RequestContext, None], input: CampaignUpdateInput
    ) -> CampaignPayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)

        async def work(conn: AsyncConnection, _: DomainEvents) -> service.Campaign:
            return await service.update(
                conn,
                tenant_id,
                require_id(input.id),
                name=input.name,
                data=definition_data(input.definition) if input.definition else None,
                effects=module_effects(ctx),
                module_types=module_types(ctx),
                actor=require_principal(ctx.principal).actor,
                facts=module_facts(ctx),
            )

        return _payload(*await run_mutation(info, work))

    @strawberry.mutation(description="Define a segment (tenant admins).")
    async def segment_create(
        self, info: Info[RequestContext, None], input: SegmentCreateInput
    ) -> SegmentPayload:
        return await _save_segment(info, None, input.name, input.condition)

    @strawberry.mutation(description="Rename or redefine a segment (tenant admins).")
    async def segment_update(
        self, info: Info[RequestContext, None], input: SegmentUpdateInput
    ) -> SegmentPayload:
        return await _save_segment(info, input.id, input.name, input.condition)

    @strawberry.mutation(description="Delete a segment; campaigns targeting it reach no one by it.")
    async def segment_delete(
        self, info: Info[RequestContext, None], id: strawberry.ID
    ) -> SegmentDeletePayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)

        async def work(conn: AsyncConnection, _: DomainEvents) -> strawberry.ID:
            actor = require_principal(ctx.principal).actor
            await segments.remove(conn, tenant_id, require_id(id), actor)
            return id

        deleted, errors = await run_mutation(info, work)
        return SegmentDeletePayload(deleted_id=deleted, errors=errors)

    @strawberry.mutation(description="Start applying a campaign to new triggers.")
    async def campaign_activate(
        self, info: Info[RequestContext, None], id: strawberry.ID
    ) -> CampaignPayload:
        return await _set_status(info, id, "active")

    @strawberry.mutation(description="Stop applying a campaign; it keeps its history.")
    async def campaign_deactivate(
        self, info: Info[RequestContext, None], id: strawberry.ID
    ) -> CampaignPayload:
        return await _set_status(info, id, "inactive")

    @strawberry.mutation(
        description="Backtest a campaign over the stored events of a period; writes nothing."
    )
    async def campaign_simulate(
        self, info: Info[RequestContext, None], input: CampaignSimulateInput
    ) -> CampaignSimulatePayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        assert ctx.tenant is not None
        tenant = ctx.tenant

        async def work(conn: AsyncConnection, _: DomainEvents) -> service.Simulation:
            if input.definition is not None:
                definition = await service.validate(
                    conn,
                    tenant_id,
                    definition_data(input.definition),
                    module_effects(ctx),
                    module_types(ctx),
                    module_facts(ctx),
                )
                name = "simulation"
            elif input.id is not None:
                found = await service.get(conn, tenant_id, require_id(input.id))
                definition, name = found.definition, found.name
            else:
                raise ValidationFailed("give the id of a campaign or a definition", field="id")
            return await service.simulate(
                conn,
                tenant,
                definition,
                name=name,
                since=input.since,
                until=input.until,
                effects=module_effects(ctx),
                facts=module_facts(ctx),
            )

        result, errors = await run_mutation(info, work)
        if result is None:
            return CampaignSimulatePayload(simulation=None, errors=errors)
        return CampaignSimulatePayload(
            simulation=CampaignSimulation(
                points=result.points,
                awards=result.awards,
                members_reached=result.members_reached,
                budget_by_day=[DayPoints(day=d, points=p) for d, p in result.budget_by_day],
                top_members=[
                    MemberPoints(member_id=strawberry.ID(str(m)), points=p)
                    for m, p in result.top_members
                ],
                failures=result.failures,
                sample_errors=result.sample_errors,
            ),
            errors=[],
        )


def definition_data(value: CampaignDefinitionInput) -> dict[str, Any]:
    """The JSON form the definition model validates (camelCase, as stored)."""
    window = value.window or WindowInput()
    return {
        "trigger": value.trigger,
        "condition": value.condition,
        "effects": [{"kind": e.kind, "params": e.params or {}} for e in value.effects],
        "window": {
            "startsAt": window.starts_at,
            "endsAt": window.ends_at,
            "daysOfWeek": window.days_of_week,
            "hoursFrom": window.hours_from,
            "hoursTo": window.hours_to,
        },
        "priority": value.priority,
        "stacking": value.stacking.value,
        "budget": value.budget,
        "limits": [
            {"period": lim.period.value, "maxAwards": lim.max_awards, "maxPoints": lim.max_points}
            for lim in value.limits
        ],
        "pendingDays": value.pending_days,
        "segments": value.segments,
        "inactiveDays": value.inactive_days,
        "onDate": value.on_date,
        "pauseAfterFailures": value.pause_after_failures,
    }


def module_effects(ctx: RequestContext) -> engine.ModuleEffects:
    """``<module>.<effect>`` of the modules the tenant enabled."""
    return engine.module_effects(ctx.registry, ctx.enabled_modules)


def module_facts(ctx: RequestContext) -> engine.ModuleFacts:
    """The member facts of the modules the tenant enabled (``member.tier``)."""
    return engine.module_facts(ctx.registry, ctx.enabled_modules)


async def _set_status(
    info: Info[RequestContext, None], id: strawberry.ID, status: str
) -> CampaignPayload:
    ctx = info.context
    tenant_id = require_admin(ctx.principal)

    async def work(conn: AsyncConnection, _: DomainEvents) -> service.Campaign:
        actor = require_principal(ctx.principal).actor
        return await service.set_status(conn, tenant_id, require_id(id), status, actor)

    return _payload(*await run_mutation(info, work))


async def _save_segment(
    info: Info[RequestContext, None],
    id: strawberry.ID | None,
    name: str | None,
    condition: str | None,
) -> SegmentPayload:
    ctx = info.context
    tenant_id = require_admin(ctx.principal)

    async def work(conn: AsyncConnection, _: DomainEvents) -> segments.Segment:
        return await segments.save(
            conn,
            tenant_id,
            require_id(id) if id is not None else None,
            name=name,
            condition=condition,
            actor=require_principal(ctx.principal).actor,
            facts=[fact.name for fact in module_facts(ctx)],
        )

    found, errors = await run_mutation(info, work)
    return SegmentPayload(segment=Segment.of(found) if found else None, errors=errors)


def _payload(found: service.Campaign | None, errors: list[UserError]) -> CampaignPayload:
    return CampaignPayload(campaign=Campaign.of(found) if found else None, errors=errors)


__all__ = [
    "Campaign",
    "CampaignMutation",
    "CampaignQuery",
    "ConditionCheck",
    "definition_data",
    "module_effects",
    "module_facts",
]
