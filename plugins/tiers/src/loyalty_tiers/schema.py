"""GraphQL of tiers: the ladder, a member's tier, progress and history, overrides and the
simulation of a ladder change.

Who may do what: tenant admins set, simulate and override; every caller of the tenant may
read the ladder (an app shows it); a member reads its own tier, progress and history, tills
and admins any member's.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import strawberry
from loyalty_core.sdk import (
    Connection,
    Cursors,
    Member,
    RequestContext,
    UserError,
    connection,
    may_read_member,
    page_size,
    require_admin,
    require_id,
    require_principal,
    require_tenant,
    run_mutation,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.types import Info

from loyalty_tiers import ladder as rules
from loyalty_tiers import memberships, models, service, subscriptions
from loyalty_tiers import repository as repo
from loyalty_tiers.expression import Aggregates
from loyalty_tiers.settings import TierSettings

NAME = "tiers"
MAX_MOVES = 100

TierMetric = rules.Metric
TierWindow = rules.WindowKind
TierDowngradePolicy = rules.DowngradePolicy
TierSource = models.Source
strawberry.enum(TierMetric, name="TierMetric", description="What qualifies for a level.")
strawberry.enum(TierWindow, name="TierWindow", description="The qualification window.")
strawberry.enum(
    TierDowngradePolicy,
    name="TierDowngradePolicy",
    description="What a window's end does to a member whose metric no longer holds the level.",
)
strawberry.enum(TierSource, name="TierSource", description="Where the current level comes from.")
MembershipPeriod = memberships.Period
MembershipState = memberships.State
strawberry.enum(MembershipPeriod, name="MembershipPeriod", description="How often a plan bills.")
strawberry.enum(
    MembershipState,
    name="MembershipState",
    description="Where a paid membership is: TRIALING, ACTIVE, PAST_DUE (a payment failed; "
    "it still gives for the grace days), CANCELLED (runs to the period's end), ENDED.",
)


@strawberry.type(description="A paid membership plan; the retailer's payment provider bills it.")
class MembershipPlan:
    id: strawberry.ID
    code: str
    name: str
    price: int = strawberry.field(description="Per period, in minor units of currency.")
    currency: str
    period: MembershipPeriod
    trial_days: int
    level: str | None = strawberry.field(description="The tier level it grants, if any.")
    benefits: list[str]

    @classmethod
    def of(cls, plan: memberships.Plan) -> MembershipPlan:
        return cls(
            id=strawberry.ID(str(plan.id)),
            code=plan.code,
            name=plan.name,
            price=plan.price,
            currency=plan.currency,
            period=plan.period,
            trial_days=plan.trial_days,
            level=plan.level,
            benefits=list(plan.benefits),
        )


@strawberry.type(description="A member's paid membership and what it gives now.")
class Membership:
    plan: MembershipPlan
    state: MembershipState
    started_at: datetime
    period_end: datetime | None
    grace_until: datetime | None = strawberry.field(
        description="While PAST_DUE: until when it still gives."
    )
    level: str | None = strawberry.field(description="The level it gives now (none once ended).")
    benefits: list[str] = strawberry.field(description="The benefits it gives now.")

    @classmethod
    def of(cls, found: subscriptions.Membership) -> Membership:
        return cls(
            plan=MembershipPlan.of(found.plan),
            state=found.state,
            started_at=found.started_at,
            period_end=found.period_end,
            grace_until=found.grace_until,
            level=found.level,
            benefits=list(found.benefits),
        )


@strawberry.input
class MembershipPlanCreateInput:
    code: str
    name: str
    price: int
    currency: str
    period: MembershipPeriod = memberships.Period.MONTH
    trial_days: int = 0
    level: str | None = None
    benefits: list[str] = strawberry.field(default_factory=list)


@strawberry.type
class MembershipPlanPayload:
    plan: MembershipPlan | None
    errors: list[UserError]


@strawberry.type(description="A level of the ladder.")
class TierLevel:
    name: str
    threshold: int | None = strawberry.field(
        description="The metric that reaches it; null for an invitation-only level."
    )
    benefits: list[str]
    invitation_only: bool

    @classmethod
    def of(cls, level: rules.Level) -> TierLevel:
        return cls(
            name=level.name,
            threshold=level.threshold,
            benefits=list(level.benefits),
            invitation_only=level.invitation_only,
        )


@strawberry.type(
    description="Members a ladder's EXPRESSION metric could not be evaluated for (a division "
    "by zero...): each was skipped, its level unchanged."
)
class TierLadderHealth:
    failures: int
    last_error: str | None
    last_failed_at: datetime | None


@strawberry.type(
    description="What a member did in a qualification window (or what one event added to it): "
    "what an EXPRESSION metric reads as window.spend, window.purchases, window.visits and "
    "window.statusPoints."
)
class TierAggregates:
    spend: int = strawberry.field(description="Purchase amounts in minor units, less refunds.")
    purchases: int
    visits: int
    status_points: int

    @classmethod
    def of(cls, found: Aggregates | None) -> TierAggregates | None:
        if found is None:
            return None
        return cls(
            spend=found.spend,
            purchases=found.purchases,
            visits=found.visits,
            status_points=found.status_points,
        )


@strawberry.type(description="The tenant's tier ladder: levels from lowest to highest.")
class TierLadder:
    version: int
    levels: list[TierLevel]
    metric: TierMetric
    expression: str | None = strawberry.field(
        description="With the EXPRESSION metric: the CEL expression over the window's "
        "aggregates that gives the metric."
    )
    visit_types: list[str]
    window: TierWindow
    months: int = strawberry.field(description="Length of the window in months.")
    downgrade: TierDowngradePolicy
    grace_days: int
    refunds_downgrade: bool

    @strawberry.field(description="Failures of the ladder's expression (tenant admins).")
    async def health(self, info: Info[RequestContext, None]) -> TierLadderHealth | None:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        async with ctx.read() as conn:
            row = await repo.get_health(conn, tenant_id)
        if row is None:
            return TierLadderHealth(failures=0, last_error=None, last_failed_at=None)
        return TierLadderHealth(
            failures=int(row.failures),
            last_error=row.last_error,
            last_failed_at=row.last_failed_at,
        )

    @classmethod
    def of(cls, found: service.Programme) -> TierLadder:
        ladder = found.ladder
        return cls(
            version=found.version,
            levels=[TierLevel.of(level) for level in ladder.levels],
            metric=ladder.metric,
            expression=ladder.expression,
            visit_types=list(ladder.visit_types),
            window=ladder.window,
            months=ladder.length(),
            downgrade=ladder.downgrade,
            grace_days=ladder.grace_days,
            refunds_downgrade=ladder.refunds_downgrade,
        )


@strawberry.type(description="An operator's override of a member's level.")
class TierOverride:
    level: str
    reason: str
    operator: str
    expires_at: datetime


@strawberry.type(description="A member's current level.")
class MemberTier:
    level: TierLevel
    source: TierSource
    since: datetime
    until: date = strawberry.field(
        description="The last day of the level as it stands: the end of the current window "
        "(or of a grace period), or the day an override expires."
    )
    earned_level: str | None = strawberry.field(
        description="The level the metric earned, beneath an override."
    )
    override: TierOverride | None
    grace_until: date | None

    @classmethod
    def of(cls, standing: models.Standing) -> MemberTier:
        assert standing.level is not None
        override = standing.override
        return cls(
            level=TierLevel.of(standing.level),
            source=standing.source,
            since=standing.since,
            until=standing.until,
            earned_level=standing.earned,
            override=None
            if override is None
            else TierOverride(
                level=override.level,
                reason=override.reason,
                operator=override.actor,
                expires_at=override.expires_at,
            ),
            grace_until=standing.grace_until,
        )


@strawberry.type(description="An event's part in the member's metric (negative: a refund).")
class TierContribution:
    event_id: strawberry.ID
    event_type: str
    amount: int = strawberry.field(description="What it added to the metric (0 under EXPRESSION).")
    occurred_at: datetime
    aggregates: TierAggregates | None = strawberry.field(
        description="Under an EXPRESSION metric: what it added to the window's aggregates."
    )


@strawberry.type(description="The member's metric in the current window and what it lacks.")
class TierProgress:
    metric: TierMetric
    value: int
    window_start: date
    window_end: date = strawberry.field(description="The window's last day.")
    next_level: TierLevel | None
    missing: int = strawberry.field(description="What the next level lacks.")
    keep: int = strawberry.field(
        description="What the member must still earn by windowEnd to keep the earned level."
    )
    contributions: list[TierContribution] = strawberry.field(
        description="The events behind value, newest first (the latest 50)."
    )
    aggregates: TierAggregates | None = strawberry.field(
        description="Under an EXPRESSION metric: the window's aggregates it was evaluated over."
    )
    error: str | None = strawberry.field(
        description="Under an EXPRESSION metric: why it gives no value for the member (value "
        "is then 0 and the level stays)."
    )

    @classmethod
    def of(cls, progress: models.Progress) -> TierProgress:
        return cls(
            metric=rules.Metric(progress.metric),
            value=progress.value,
            window_start=progress.window_start,
            window_end=progress.window_end,
            next_level=None if progress.next_level is None else TierLevel.of(progress.next_level),
            missing=progress.missing,
            keep=progress.keep,
            contributions=[
                TierContribution(
                    event_id=strawberry.ID(str(c.event_id)),
                    event_type=c.event_type,
                    amount=c.amount,
                    occurred_at=c.occurred_at,
                    aggregates=TierAggregates.of(c.aggregates),
                )
                for c in progress.contributions
            ],
            aggregates=TierAggregates.of(progress.aggregates),
            error=progress.error,
        )


@strawberry.type(description="A change of a member's level, with its reason.")
class TierChange:
    id: strawberry.ID
    kind: str = strawberry.field(
        description="upgrade, downgrade, grace, kept, ladder, override, override_lifted, "
        "override_expired."
    )
    from_level: str | None
    to_level: str | None
    reason: str
    actor: str
    event_id: strawberry.ID | None
    metric: int | None
    at: datetime

    @classmethod
    def of(cls, change: models.Change) -> TierChange:
        return cls(
            id=strawberry.ID(str(change.id)),
            kind=change.kind,
            from_level=change.from_level,
            to_level=change.to_level,
            reason=change.reason,
            actor=change.actor,
            event_id=None if change.event_id is None else strawberry.ID(str(change.event_id)),
            metric=change.metric,
            at=change.at,
        )


@strawberry.input
class TierLevelInput:
    name: str
    threshold: int | None = None
    benefits: list[str] = strawberry.field(default_factory=list)
    invitation_only: bool = False


@strawberry.input(description="A whole ladder: it replaces the tenant's.")
class TierLadderInput:
    levels: list[TierLevelInput]
    metric: TierMetric = rules.Metric.STATUS_POINTS
    expression: str | None = strawberry.field(
        default=None,
        description="With the EXPRESSION metric (and only with it): CEL over window.spend, "
        "window.purchases, window.visits and window.statusPoints giving a number, e.g. "
        "window.spend / 100 + window.visits * 50.",
    )
    visit_types: list[str] = strawberry.field(default_factory=lambda: ["visit"])
    window: TierWindow = rules.WindowKind.CALENDAR_YEAR
    months: int = 12
    downgrade: TierDowngradePolicy = rules.DowngradePolicy.QUALIFYING
    grace_days: int = 0
    refunds_downgrade: bool = False


@strawberry.input
class TierOverrideInput:
    member_id: strawberry.ID
    level: str | None = strawberry.field(
        default=None, description="The level to show; null lifts the override."
    )
    reason: str
    expires_at: datetime | None = strawberry.field(
        default=None, description="Required with a level: an override always ends."
    )


@strawberry.type
class TierLadderPayload:
    ladder: TierLadder | None
    errors: list[UserError]


@strawberry.type
class TierOverridePayload:
    tier: MemberTier | None
    errors: list[UserError]


@strawberry.type(description="A member the ladder would move.")
class TierMove:
    member_id: strawberry.ID
    from_level: str | None
    to_level: str | None
    metric: int
    at_once: bool = strawberry.field(
        description="Up when the ladder is set; otherwise down at the window's end unless "
        "the member earns more."
    )


@strawberry.type
class TierSimulation:
    up: int = strawberry.field(description="Members who would rise when the ladder is set.")
    down: int = strawberry.field(
        description="Members who would drop at their window's end if they earned nothing more."
    )
    moves: list[TierMove] = strawberry.field(description=f"The first {MAX_MOVES} moves.")
    skipped: int = strawberry.field(
        description="Members the ladder's expression could not be evaluated for: they would "
        "not move."
    )


@strawberry.type
class TierSimulationPayload:
    simulation: TierSimulation | None
    errors: list[UserError]


@strawberry.type
class TierQuery:
    @strawberry.field(description="The tenant's tier ladder; null until one is set.")
    async def tier_ladder(self, info: Info[RequestContext, None]) -> TierLadder | None:
        ctx = info.context
        tenant_id = require_tenant(ctx.principal)
        async with ctx.read() as conn:
            found = await service.programme(conn, tenant_id, _settings(ctx))
        return None if found is None else TierLadder.of(found)

    @strawberry.field(description="The tenant's paid membership plans, by code.")
    async def membership_plans(self, info: Info[RequestContext, None]) -> list[MembershipPlan]:
        ctx = info.context
        tenant_id = require_tenant(ctx.principal)
        async with ctx.read() as conn:
            found = await subscriptions.list_plans(conn, tenant_id)
        return [MembershipPlan.of(plan) for plan in found]


@strawberry.type
class TierMutation:
    @strawberry.mutation(
        description="Create a paid membership plan (tenant admins); the provider's "
        "subscription events for it arrive at the module's signed webhook."
    )
    async def membership_plan_create(
        self, info: Info[RequestContext, None], input: MembershipPlanCreateInput
    ) -> MembershipPlanPayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)

        async def work(conn: AsyncConnection, _: object) -> memberships.Plan:
            found = await service.programme(conn, tenant_id, _settings(ctx))
            levels = [] if found is None else [level.name for level in found.ladder.levels]
            return await subscriptions.create_plan(
                conn,
                tenant_id,
                code=input.code,
                name=input.name,
                price=input.price,
                currency=input.currency,
                period=input.period,
                trial_days=input.trial_days,
                level=input.level,
                benefits=input.benefits,
                levels=levels,
            )

        plan, errors = await run_mutation(info, work)
        return MembershipPlanPayload(
            plan=None if plan is None else MembershipPlan.of(plan), errors=errors
        )

    @strawberry.mutation(
        description="Set the tenant's tier ladder (tenant admins). Members whose metric "
        "reaches a higher level rise at once; downgrades wait for each window's end."
    )
    async def tier_ladder_set(
        self, info: Info[RequestContext, None], input: TierLadderInput
    ) -> TierLadderPayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        actor = require_principal(ctx.principal).actor

        async def work(conn: AsyncConnection, _: object) -> service.Programme:
            ladder = service.parse_ladder(_ladder_data(input))
            return await service.set_ladder(
                conn, tenant_id, _settings(ctx), ladder, actor=actor, now=ctx.now()
            )

        found, errors = await run_mutation(info, work)
        if found is None:
            return TierLadderPayload(ladder=None, errors=errors)
        return TierLadderPayload(ladder=TierLadder.of(found), errors=[])

    @strawberry.mutation(
        description="What setting this ladder would do, writing nothing: who rises at once, "
        "who would drop at the window's end (tenant admins)."
    )
    async def tier_ladder_simulate(
        self, info: Info[RequestContext, None], input: TierLadderInput
    ) -> TierSimulationPayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)

        async def work(conn: AsyncConnection, _: object) -> service.Simulation:
            ladder = service.parse_ladder(_ladder_data(input))
            return await service.simulate(
                conn, tenant_id, _settings(ctx), ladder, ctx.now(), limit=MAX_MOVES
            )

        found, errors = await run_mutation(info, work)
        if found is None:
            return TierSimulationPayload(simulation=None, errors=errors)
        return TierSimulationPayload(
            simulation=TierSimulation(
                up=found.up,
                down=found.down,
                skipped=found.skipped,
                moves=[
                    TierMove(
                        member_id=strawberry.ID(str(m.member_id)),
                        from_level=m.from_level,
                        to_level=m.to_level,
                        metric=m.metric,
                        at_once=m.at_once,
                    )
                    for m in found.moves
                ],
            ),
            errors=[],
        )

    @strawberry.mutation(
        description="Show a member another level, with a reason and an expiry, or lift the "
        "override (tenant admins). The earned level goes on beneath it and returns when it "
        "ends; invitation-only levels are given this way."
    )
    async def tier_override(
        self, info: Info[RequestContext, None], input: TierOverrideInput
    ) -> TierOverridePayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        actor = require_principal(ctx.principal).actor

        async def work(conn: AsyncConnection, _: object) -> models.Standing | None:
            return await service.override(
                conn,
                tenant_id,
                _settings(ctx),
                require_id(input.member_id, field="memberId"),
                level=input.level,
                reason=input.reason,
                expires_at=input.expires_at,
                actor=actor,
                now=ctx.now(),
            )

        found, errors = await run_mutation(info, work)
        if found is None or not found.level:
            return TierOverridePayload(tier=None, errors=errors)
        return TierOverridePayload(tier=MemberTier.of(found), errors=[])


@strawberry.field(name="tier", description="The member's current tier level; null without one.")
async def member_tier(root: Member, info: Info[RequestContext, None]) -> MemberTier | None:
    member_id = uuid.UUID(str(root.id))
    if not may_read_member(info.context.principal, member_id):
        return None
    ctx = info.context
    async with ctx.read() as conn:
        found = await service.standing_of(conn, ctx.tenant_id, _settings(ctx), member_id, ctx.now())
    return None if found is None else MemberTier.of(found)


@strawberry.field(
    name="tierProgress",
    description="The member's metric in the current window, the next level and what it "
    "lacks, and what keeping the level takes; null until the tenant sets a ladder.",
)
async def member_tier_progress(
    root: Member, info: Info[RequestContext, None]
) -> TierProgress | None:
    member_id = uuid.UUID(str(root.id))
    if not may_read_member(info.context.principal, member_id):
        return None
    ctx = info.context
    async with ctx.read() as conn:
        found = await service.progress_of(conn, ctx.tenant_id, _settings(ctx), member_id, ctx.now())
    return None if found is None else TierProgress.of(found)


@strawberry.field(
    name="tierHistory", description="Every change of the member's level, newest first."
)
async def member_tier_history(
    root: Member,
    info: Info[RequestContext, None],
    first: int | None = None,
    after: str | None = None,
) -> Connection[TierChange]:
    member_id = uuid.UUID(str(root.id))
    size = page_size(first)
    ctx = info.context
    cursors = Cursors(ctx.tenant_id, f"tiers.history:{member_id}")
    position = cursors.decode(after)
    if not may_read_member(ctx.principal, member_id):
        return connection(cursors, [], size, lambda change: change.id, TierChange.of)
    async with ctx.read() as conn:
        found = await service.history_of(
            conn, ctx.tenant_id, member_id, before=position, limit=size + 1
        )
    return connection(cursors, found, size, lambda change: change.id, TierChange.of)


@strawberry.field(
    name="membership", description="The member's paid membership, its state and what it gives."
)
async def member_membership(root: Member, info: Info[RequestContext, None]) -> Membership | None:
    member_id = uuid.UUID(str(root.id))
    if not may_read_member(info.context.principal, member_id):
        return None
    ctx = info.context
    async with ctx.read() as conn:
        found = await subscriptions.membership_of(conn, ctx.tenant_id, member_id, ctx.now())
    return None if found is None else Membership.of(found)


def _ladder_data(value: TierLadderInput) -> dict[str, Any]:
    return {
        "levels": [
            {
                "name": level.name,
                "threshold": level.threshold,
                "benefits": level.benefits,
                "invitation_only": level.invitation_only,
            }
            for level in value.levels
        ],
        "metric": value.metric.value,
        "expression": value.expression,
        "visit_types": value.visit_types,
        "window": value.window.value,
        "months": value.months,
        "downgrade": value.downgrade.value,
        "grace_days": value.grace_days,
        "refunds_downgrade": value.refunds_downgrade,
    }


def _settings(ctx: RequestContext) -> TierSettings:
    settings = ctx.module_settings(NAME)
    if not isinstance(settings, TierSettings):  # the schema only has our fields when enabled
        raise RuntimeError("tiers are not enabled for this tenant")
    return settings


__all__ = [
    "NAME",
    "MemberTier",
    "TierChange",
    "TierLadder",
    "TierMutation",
    "TierQuery",
    "member_membership",
    "member_tier",
    "member_tier_history",
    "member_tier_progress",
]
