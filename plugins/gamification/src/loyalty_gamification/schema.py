"""GraphQL of badges: the definition type, members' progress with its explanation, the
queries and the mutations.

Who may do what: tenant admins define badges (``badgeCreate``, ``badgeUpdate``) and see
every badge with its health; any caller of the tenant lists the badges that are live and
not secret (``badges``); a member sees its own badges on ``Member.badges`` (a secret one
only once earned), a tenant admin any member's, with the events each progress counted.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import strawberry
from loyalty_core.sdk import (
    Connection,
    Cursors,
    Forbidden,
    Member,
    RequestContext,
    Role,
    UserError,
    ValidationFailed,
    conditions,
    connection,
    may_read_member,
    members,
    page_size,
    require_admin,
    require_id,
    require_tenant,
    run_mutation,
    tenants,
)
from loyalty_core.sdk.effects import module_effects
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON
from strawberry.types import Info

from loyalty_gamification import badges as service
from loyalty_gamification import challenges, health, leaderboards, models, streaks
from loyalty_gamification import repository as repo
from loyalty_gamification.catalogue import live

BadgeMeasure = models.Measure
BadgePeriod = models.Period
BadgeStatus = models.Status
strawberry.enum(BadgeMeasure, name="BadgeMeasure", description="What a qualifying event brings.")
strawberry.enum(
    BadgePeriod,
    name="BadgePeriod",
    description="The period progress counts in: all time, the tenant's local calendar week "
    "(from Monday) or month, or a fixed window.",
)
strawberry.enum(
    BadgeStatus,
    name="BadgeStatus",
    description="Whether a definition (badge, streak, challenge, leaderboard) counts events: "
    "ACTIVE, ARCHIVED, or PAUSED by its own repeated failures (see `health.pausedReason`; "
    "set ACTIVE again once fixed).",
)


@strawberry.type(
    description="How a badge, streak or challenge fared at run time: events it failed for."
)
class BadgeHealth:
    failures: int = strawberry.field(
        description="Events the definition was skipped for because its condition (or summed "
        "field) could not be evaluated, or whose reward could not be posted; the ingestion "
        "went on without it."
    )
    consecutive_failures: int = strawberry.field(
        description="Failures since the definition last worked for an event; at "
        f"{health.PAUSE_AFTER} it pauses itself."
    )
    last_error: str | None
    last_failure_at: datetime | None
    paused_reason: str | None = strawberry.field(
        description="Why the definition paused itself, while it is PAUSED."
    )

    @classmethod
    def of(cls, found: models.Badge | streaks.Streak | challenges.Challenge) -> BadgeHealth:
        return cls(
            failures=found.failures,
            consecutive_failures=found.consecutive_failures,
            last_error=found.last_error,
            last_failure_at=found.last_failure_at,
            paused_reason=found.status_reason if found.status is models.Status.PAUSED else None,
        )


@strawberry.type(description="What completing a badge pays.")
class BadgeReward:
    points: int
    asset: str
    effect: str | None = strawberry.field(
        default=None, description="Another module's rule effect, as <module>.<effect>."
    )
    params: dict[str, Any] | None = strawberry.field(
        default=None, graphql_type=JSON | None, description="The effect's parameters."
    )

    @classmethod
    def of(cls, points: int, asset: str, effect: Mapping[str, Any] | None) -> BadgeReward:
        if effect is None:
            return cls(points=points, asset=asset)
        return cls(points=points, asset=asset, effect=effect["effect"], params=effect["params"])


@strawberry.input(description="A rule effect of an enabled module to apply on completion.")
class BadgeRewardEffectInput:
    effect: str = strawberry.field(description="<module>.<effect>, e.g. giftcards.issue_gift_card")
    params: dict[str, Any] | None = strawberry.field(
        default=None, graphql_type=JSON | None, description="The effect's parameters."
    )


@strawberry.type(description="An achievement: qualifying events counted or summed to a target.")
class Badge:
    id: strawberry.ID
    name: str
    description: str
    event_type: str = strawberry.field(description="The event type whose events count.")
    condition: str = strawberry.field(
        description="CEL over event, member and now; empty: every event of the type counts."
    )
    measure: BadgeMeasure
    sum_field: str | None = strawberry.field(
        description="For a SUM: the event field summed (amount, payload.cups)."
    )
    target: int
    period: BadgePeriod
    starts_at: datetime | None
    ends_at: datetime | None
    repeatable: bool = strawberry.field(
        description="Earned again each time progress reaches another target in the period."
    )
    secret: bool = strawberry.field(description="Shown to a member only once earned.")
    revoke_on_refund: bool = strawberry.field(
        description="A refund that takes progress below the target revokes the badge and "
        "reverses its reward; otherwise an earned badge stays."
    )
    daily_cap: int | None = strawberry.field(
        description="At most this much progress per member per local day."
    )
    reward: BadgeReward
    status: BadgeStatus
    health: BadgeHealth
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, badge: models.Badge) -> Badge:
        return cls(
            id=strawberry.ID(str(badge.id)),
            name=badge.name,
            description=badge.description,
            event_type=badge.event_type,
            condition=badge.condition,
            measure=badge.measure,
            sum_field=badge.sum_field,
            target=badge.target,
            period=badge.period,
            starts_at=badge.starts_at,
            ends_at=badge.ends_at,
            repeatable=badge.repeatable,
            secret=badge.secret,
            revoke_on_refund=badge.revoke_on_refund,
            daily_cap=badge.daily_cap,
            reward=BadgeReward.of(badge.reward_points, badge.reward_asset, badge.reward_effect),
            status=badge.status,
            health=BadgeHealth.of(badge),
            created_at=badge.created_at,
            updated_at=badge.updated_at,
        )


@strawberry.type(description="A completion of a badge by a member.")
class BadgeAward:
    id: strawberry.ID
    period_key: str
    earned_at: datetime
    event_id: strawberry.ID = strawberry.field(description="The event that completed it.")
    transaction_id: strawberry.ID | None = strawberry.field(
        description="The ledger transaction that paid its reward."
    )
    revoked_at: datetime | None
    revoked_by: strawberry.ID | None = strawberry.field(description="The refund that took it back.")

    @classmethod
    def of(cls, award: models.Award) -> BadgeAward:
        return cls(
            id=strawberry.ID(str(award.id)),
            period_key=award.period_key,
            earned_at=award.earned_at,
            event_id=strawberry.ID(str(award.event_id)),
            transaction_id=_id(award.transaction_id),
            revoked_at=award.revoked_at,
            revoked_by=_id(award.revoked_by),
        )


@strawberry.type(description="An event's part in a progress: why the progress is what it is.")
class BadgeContribution:
    event_id: strawberry.ID
    amount: int = strawberry.field(
        description="What it counted (negative: a refund took this much back)."
    )
    offered: int = strawberry.field(
        description="What the event brought before the daily cap (0 for a refund)."
    )
    occurred_at: datetime
    refund_of: strawberry.ID | None = strawberry.field(
        description="For a refund: the purchase it took progress back from."
    )


@strawberry.type(description="A badge as a member sees it: progress now and completions.")
class MemberBadge:
    badge: Badge
    period_key: str | None = strawberry.field(
        description="The period progress counts in now (null: outside the badge's window)."
    )
    progress: int
    target: int
    earned: int = strawberry.field(description="Completions held in the current period.")
    awards: list[BadgeAward] = strawberry.field(description="Every completion, oldest first.")
    member_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="The events that counted toward the current period.")
    async def contributions(self, info: Info[RequestContext, None]) -> list[BadgeContribution]:
        if self.period_key is None:
            return []
        async with info.context.read() as conn:
            rows = await repo.progress_contributions(
                conn,
                info.context.tenant_id,
                self.member_id,
                uuid.UUID(str(self.badge.id)),
                self.period_key,
            )
        return [
            BadgeContribution(
                event_id=strawberry.ID(str(row.event_id)),
                amount=row.amount,
                offered=row.offered,
                occurred_at=row.occurred_at,
                refund_of=_id(row.purchase_event_id),
            )
            for row in rows
        ]


@strawberry.input(description="A new badge. Nothing is saved unless all of it is valid.")
class BadgeCreateInput:
    name: str
    event_type: str = strawberry.field(
        description="purchase, refund, a tenant's own type or a module's."
    )
    target: int = strawberry.field(description="Progress that completes the badge (> 0).")
    measure: BadgeMeasure = models.Measure.COUNT
    sum_field: str | None = None
    condition: str = ""
    period: BadgePeriod = models.Period.ALL_TIME
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    repeatable: bool = False
    secret: bool = False
    revoke_on_refund: bool = False
    daily_cap: int | None = None
    reward_points: int = 0
    reward_asset: str = "points"
    reward_effect: BadgeRewardEffectInput | None = None
    description: str = ""


@strawberry.input(description="Changes to a badge: the fields given, checked as a whole.")
class BadgeUpdateInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    event_type: str | None = strawberry.UNSET
    target: int | None = strawberry.UNSET
    measure: BadgeMeasure | None = strawberry.UNSET
    sum_field: str | None = strawberry.UNSET
    condition: str | None = strawberry.UNSET
    period: BadgePeriod | None = strawberry.UNSET
    starts_at: datetime | None = strawberry.UNSET
    ends_at: datetime | None = strawberry.UNSET
    repeatable: bool | None = strawberry.UNSET
    secret: bool | None = strawberry.UNSET
    revoke_on_refund: bool | None = strawberry.UNSET
    daily_cap: int | None = strawberry.UNSET
    reward_points: int | None = strawberry.UNSET
    reward_asset: str | None = strawberry.UNSET
    reward_effect: BadgeRewardEffectInput | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    status: BadgeStatus | None = strawberry.UNSET


@strawberry.type
class BadgePayload:
    badge: Badge | None
    errors: list[UserError]


NULLABLE = frozenset({"sum_field", "starts_at", "ends_at", "daily_cap", "reward_effect"})
"""Fields of a badge that ``badgeUpdate`` may set to null; the others keep their value."""


StreakUnit = streaks.Unit
strawberry.enum(
    StreakUnit, name="StreakUnit", description="Local calendar days, or ISO weeks (Monday on)."
)


@strawberry.type(description="A streak milestone: reaching this many units in a row pays.")
class StreakMilestone:
    length: int
    points: int
    reward: BadgeReward = strawberry.field(
        description="What reaching it pays: its points, and any module's rule effect."
    )


@strawberry.input
class StreakMilestoneInput:
    length: int
    points: int = 0
    effect: BadgeRewardEffectInput | None = strawberry.field(
        default=None, description="A rule effect of an enabled module paid with the points."
    )


@strawberry.type(description="Consecutive days or weeks with qualifying activity.")
class Streak:
    id: strawberry.ID
    name: str
    description: str
    event_type: str
    condition: str
    unit: StreakUnit
    freeze_every: int | None = strawberry.field(
        description="A member earns a freeze each time the run reaches a multiple of this."
    )
    max_freezes: int = strawberry.field(description="Most freezes a member holds.")
    milestones: list[StreakMilestone]
    reward_asset: str
    status: BadgeStatus
    health: BadgeHealth

    @classmethod
    def of(cls, streak: streaks.Streak) -> Streak:
        return cls(
            id=strawberry.ID(str(streak.id)),
            name=streak.name,
            description=streak.description,
            event_type=streak.event_type,
            condition=streak.condition,
            unit=streak.unit,
            freeze_every=streak.freeze_every,
            max_freezes=streak.max_freezes,
            milestones=[
                StreakMilestone(
                    length=m.length,
                    points=m.points,
                    reward=BadgeReward.of(m.points, streak.reward_asset, m.effect),
                )
                for m in streak.milestones
            ],
            reward_asset=streak.reward_asset,
            status=streak.status,
            health=BadgeHealth.of(streak),
        )


@strawberry.type(description="A member's run of a streak, as of now.")
class MemberStreak:
    streak: Streak
    length: int = strawberry.field(
        description="Units in a row, the current one included; 0 once the run broke."
    )
    best: int
    freezes: int = strawberry.field(description="Freezes held: each covers one missed unit.")
    freezes_spent: int
    last_active_on: date | None = strawberry.field(
        description="The last local day (or the Monday of the last week) that counted."
    )


@strawberry.input(description="A new streak. Nothing is saved unless all of it is valid.")
class StreakCreateInput:
    name: str
    event_type: str
    unit: StreakUnit = streaks.Unit.DAY
    condition: str = ""
    freeze_every: int | None = None
    max_freezes: int = 0
    milestones: list[StreakMilestoneInput] = strawberry.field(default_factory=list)
    reward_asset: str = "points"
    description: str = ""


@strawberry.input(description="Changes to a streak (its unit stays): the fields given.")
class StreakUpdateInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    event_type: str | None = strawberry.UNSET
    condition: str | None = strawberry.UNSET
    freeze_every: int | None = strawberry.UNSET
    max_freezes: int | None = strawberry.UNSET
    milestones: list[StreakMilestoneInput] | None = strawberry.UNSET
    reward_asset: str | None = strawberry.UNSET
    status: BadgeStatus | None = strawberry.UNSET


@strawberry.type
class StreakPayload:
    streak: Streak | None
    errors: list[UserError]


LeaderboardMetric = leaderboards.Metric
strawberry.enum(
    LeaderboardMetric,
    name="LeaderboardMetric",
    description="SPEND: purchase amounts less refunds; VISITS: purchases; BADGES: badge "
    "completions held; EVENT_FIELD: the sum of a field of one event type; POINTS: points "
    "(the tenant's default asset) an event earned the member, less what refunds took back.",
)


@strawberry.type(description="Points paid at a window's end to the members ranked in a range.")
class LeaderboardPrize:
    from_rank: int
    to_rank: int
    points: int


@strawberry.input
class LeaderboardPrizeInput:
    from_rank: int
    to_rank: int
    points: int


@strawberry.type(description="Members ranked by a metric over a window.")
class Leaderboard:
    id: strawberry.ID
    name: str
    description: str
    metric: LeaderboardMetric
    event_type: str | None
    field: str | None
    period: BadgePeriod
    prizes: list[LeaderboardPrize]
    reward_asset: str
    status: BadgeStatus
    segment: str | None = strawberry.field(
        description="Only members of this segment are ranked (when an event counts)."
    )

    @classmethod
    def of(cls, board: leaderboards.Board) -> Leaderboard:
        return cls(
            id=strawberry.ID(str(board.id)),
            name=board.name,
            description=board.description,
            metric=board.metric,
            event_type=board.event_type,
            field=board.field,
            period=board.period,
            prizes=[
                LeaderboardPrize(from_rank=p.from_rank, to_rank=p.to_rank, points=p.points)
                for p in board.prizes
            ],
            reward_asset=board.reward_asset,
            status=board.status,
            segment=board.segment,
        )


@strawberry.type(description="A member's place on a board. Same score, same rank.")
class LeaderboardEntry:
    rank: int
    score: int
    display_name: str = strawberry.field(description="The name the member chose, else a pseudonym.")
    reached_at: datetime = strawberry.field(
        description="When the member reached this score: the earlier is listed first."
    )
    member_id: strawberry.ID | None = strawberry.field(
        description="Shown to tenant admins, and to the member on its own entries."
    )


@strawberry.type(description="A board in one window: the top, and a member's neighbourhood.")
class LeaderboardStandings:
    leaderboard: Leaderboard
    window_key: str
    top: list[LeaderboardEntry]
    member: LeaderboardEntry | None = strawberry.field(
        description="The member's entry; null while it has no score in the window."
    )
    above: list[LeaderboardEntry]
    below: list[LeaderboardEntry]


@strawberry.input(description="A new leaderboard. Nothing is saved unless all of it is valid.")
class LeaderboardCreateInput:
    name: str
    metric: LeaderboardMetric
    period: BadgePeriod = models.Period.MONTH
    event_type: str | None = None
    field: str | None = strawberry.field(
        default=None, description="For EVENT_FIELD: payload.<name> (a whole number)."
    )
    prizes: list[LeaderboardPrizeInput] = strawberry.field(default_factory=list)
    reward_asset: str = "points"
    description: str = ""
    segment: str | None = strawberry.field(
        default=None,
        description="Rank only the members of this segment (as campaigns see segments) when "
        "an event counts; none: everyone.",
    )


@strawberry.type
class LeaderboardPayload:
    leaderboard: Leaderboard | None
    errors: list[UserError]


@strawberry.input(description="How the calling member appears on leaderboards.")
class LeaderboardPlayerSetInput:
    display_name: str | None = None
    hidden: bool = False
    member_id: strawberry.ID | None = strawberry.field(
        default=None, description="Tenant admins only: the member to set (a member: itself)."
    )


@strawberry.type
class LeaderboardPlayerPayload:
    display_name: str | None
    hidden: bool
    errors: list[UserError]


@strawberry.type(description="A step of a challenge: events of a type, to a count.")
class ChallengeStep:
    name: str
    event_type: str
    condition: str
    target: int


@strawberry.input
class ChallengeStepInput:
    name: str
    event_type: str
    target: int = 1
    condition: str = ""


@strawberry.type(description="A mission: steps to complete in a time box, for a reward.")
class Challenge:
    id: strawberry.ID
    name: str
    description: str
    starts_at: datetime
    ends_at: datetime
    ordered: bool = strawberry.field(description="Steps count one after the other.")
    opt_in: bool = strawberry.field(description="Only members who join (challengeJoin) take part.")
    segment: str | None = strawberry.field(description="Only members of this segment.")
    steps: list[ChallengeStep]
    reward: BadgeReward
    status: BadgeStatus
    health: BadgeHealth

    @classmethod
    def of(cls, challenge: challenges.Challenge) -> Challenge:
        return cls(
            id=strawberry.ID(str(challenge.id)),
            name=challenge.name,
            description=challenge.description,
            starts_at=challenge.starts_at,
            ends_at=challenge.ends_at,
            ordered=challenge.ordered,
            opt_in=challenge.opt_in,
            segment=challenge.segment,
            steps=[
                ChallengeStep(
                    name=s.name, event_type=s.event_type, condition=s.condition, target=s.target
                )
                for s in challenge.steps
            ],
            reward=BadgeReward.of(
                challenge.reward_points, challenge.reward_asset, challenge.reward_effect
            ),
            status=challenge.status,
            health=BadgeHealth.of(challenge),
        )


@strawberry.type(description="A member's progress in one step of a challenge.")
class ChallengeStepProgress:
    name: str
    count: int
    target: int
    done: bool


@strawberry.type(description="A challenge as a member sees it.")
class MemberChallenge:
    challenge: Challenge
    joined: bool = strawberry.field(description="Taking part (always, unless opt-in).")
    joined_at: datetime | None
    steps: list[ChallengeStepProgress]
    completed_at: datetime | None
    transaction_id: strawberry.ID | None = strawberry.field(
        description="The ledger transaction that paid the reward."
    )
    member_id: strawberry.Private[uuid.UUID]

    @strawberry.field(
        description="The events that counted toward the steps, and the refunds that took "
        "some back, oldest first."
    )
    async def contributions(self, info: Info[RequestContext, None]) -> list[ChallengeContribution]:
        async with info.context.read() as conn:
            rows = await challenges.contributions(
                conn, info.context.tenant_id, self.member_id, uuid.UUID(str(self.challenge.id))
            )
        names = [step.name for step in self.challenge.steps]
        return [
            ChallengeContribution(
                event_id=strawberry.ID(str(row.event_id)),
                steps=[names[i] for i in row.steps if i < len(names)],
                occurred_at=row.occurred_at,
                refund_of=_id(row.refund_of),
            )
            for row in rows
        ]


@strawberry.type(description="An event's part in a member's challenge.")
class ChallengeContribution:
    event_id: strawberry.ID
    steps: list[str] = strawberry.field(
        description="The steps it counted one toward (for a refund: took one back from; none "
        "when the challenge was already completed, which stays)."
    )
    occurred_at: datetime
    refund_of: strawberry.ID | None = strawberry.field(
        description="For a refund: the purchase whose steps it took back."
    )


@strawberry.input(description="A new challenge. Nothing is saved unless all of it is valid.")
class ChallengeCreateInput:
    name: str
    starts_at: datetime
    ends_at: datetime
    steps: list[ChallengeStepInput]
    ordered: bool = False
    opt_in: bool = False
    segment: str | None = None
    reward_points: int = 0
    reward_asset: str = "points"
    reward_effect: BadgeRewardEffectInput | None = None
    description: str = ""


@strawberry.input(description="Changes to a challenge (its steps keep their number).")
class ChallengeUpdateInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    starts_at: datetime | None = strawberry.UNSET
    ends_at: datetime | None = strawberry.UNSET
    steps: list[ChallengeStepInput] | None = strawberry.UNSET
    ordered: bool | None = strawberry.UNSET
    opt_in: bool | None = strawberry.UNSET
    segment: str | None = strawberry.UNSET
    reward_points: int | None = strawberry.UNSET
    reward_asset: str | None = strawberry.UNSET
    reward_effect: BadgeRewardEffectInput | None = strawberry.UNSET
    status: BadgeStatus | None = strawberry.UNSET


@strawberry.input(description="Join an opt-in challenge: a member itself, or an admin for one.")
class ChallengeJoinInput:
    challenge_id: strawberry.ID
    member_id: strawberry.ID | None = None


@strawberry.type
class ChallengePayload:
    challenge: Challenge | None
    errors: list[UserError]


@strawberry.type
class GamificationQuery:
    @strawberry.field(
        description="The tenant's badges by creation: every one with its health for tenant "
        "admins, the live ones that are not secret for anyone else of the tenant."
    )
    async def badges(
        self, info: Info[RequestContext, None], first: int | None = None, after: str | None = None
    ) -> Connection[Badge]:
        principal = info.context.principal
        tenant_id = require_tenant(principal)
        admin = principal is not None and principal.role is Role.ADMIN
        size = page_size(first)
        cursors = Cursors(tenant_id, "gamification.badges")
        async with info.context.read() as conn:
            rows = await repo.list_badges(
                conn, tenant_id, after=cursors.decode(after), limit=size + 1, with_secret=admin
            )
        found = [models.Badge.of(row) for row in rows]
        return connection(cursors, found, size, lambda badge: badge.id, Badge.of)

    @strawberry.field(
        description="The tenant's challenges, oldest first: all of them for tenant admins, "
        "the live ones for anyone else of the tenant."
    )
    async def challenges(self, info: Info[RequestContext, None]) -> list[Challenge]:
        principal = info.context.principal
        tenant_id = require_tenant(principal)
        admin = principal is not None and principal.role is Role.ADMIN
        async with info.context.read() as conn:
            found = await challenges.list_challenges(conn, tenant_id)
        return [Challenge.of(c) for c in found if admin or c.status is models.Status.ACTIVE]

    @strawberry.field(
        description="The tenant's streaks: all of them with their health for tenant admins, "
        "the live ones for anyone else of the tenant."
    )
    async def streaks(self, info: Info[RequestContext, None]) -> list[Streak]:
        principal = info.context.principal
        tenant_id = require_tenant(principal)
        admin = principal is not None and principal.role is Role.ADMIN
        async with info.context.read() as conn:
            found = await streaks.list_streaks(conn, tenant_id)
        return [Streak.of(s) for s in found if admin or s.status is models.Status.ACTIVE]

    @strawberry.field(description="The tenant's leaderboards, oldest first.")
    async def leaderboards(self, info: Info[RequestContext, None]) -> list[Leaderboard]:
        tenant_id = require_tenant(info.context.principal)
        async with info.context.read() as conn:
            return [Leaderboard.of(b) for b in await leaderboards.list_boards(conn, tenant_id)]

    @strawberry.field(
        description="A board's standings in a window (the current one unless windowKey "
        "names another, like month:2026-11): the top `first`, and for `memberId` (a member: "
        "itself by default) its entry with `neighbours` entries above and below."
    )
    async def leaderboard(
        self,
        info: Info[RequestContext, None],
        id: strawberry.ID,
        window_key: str | None = None,
        first: int = 10,
        member_id: strawberry.ID | None = None,
        neighbours: int = 2,
    ) -> LeaderboardStandings:
        ctx = info.context
        principal = ctx.principal
        tenant_id = require_tenant(principal)
        board_id = require_id(id)
        if not 0 <= first <= 100:
            raise ValidationFailed("first: 0 to 100", field="first")
        if not 0 <= neighbours <= 25:
            raise ValidationFailed("neighbours: 0 to 25", field="neighbours")
        if window_key is not None and len(window_key) > 40:
            raise ValidationFailed("windowKey: at most 40 characters", field="windowKey")
        whose = None if member_id is None else require_id(member_id, field="memberId")
        assert principal is not None
        if principal.member_id is not None:
            if whose not in (None, principal.member_id):
                raise Forbidden("a member sees its own neighbourhood only")
            whose = principal.member_id
        tenant = ctx.tenant
        assert tenant is not None
        async with ctx.read() as conn:
            found = await leaderboards.standings(
                conn,
                tenant_id,
                board_id,
                window_key=window_key,
                now=ctx.now(),
                zone=tenants.zone_of(tenant),
                first=first,
                member_id=whose,
                neighbours=neighbours,
            )
        admin = principal.role is Role.ADMIN

        def entry(item: leaderboards.Entry) -> LeaderboardEntry:
            shown = admin or item.member_id == principal.member_id
            return LeaderboardEntry(
                rank=item.rank,
                score=item.score,
                display_name=item.display_name,
                reached_at=item.reached_at,
                member_id=_id(item.member_id) if shown else None,
            )

        return LeaderboardStandings(
            leaderboard=Leaderboard.of(found.board),
            window_key=found.window_key,
            top=[entry(e) for e in found.top],
            member=None if found.member is None else entry(found.member),
            above=[entry(e) for e in found.above],
            below=[entry(e) for e in found.below],
        )


@strawberry.type
class GamificationMutation:
    @strawberry.mutation(description="Define a badge (tenant admins); it counts from now on.")
    async def badge_create(
        self, info: Info[RequestContext, None], input: BadgeCreateInput
    ) -> BadgePayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        types = conditions.event_types(ctx)
        spec = service.BadgeSpec(
            **{**_fields(input), "reward_effect": _effect(input.reward_effect)}
        )
        effects = module_effects(ctx.registry, ctx.enabled_modules)

        async def work(conn: AsyncConnection, _: object) -> models.Badge:
            return await service.create(
                conn, tenant_id, spec, types, now=ctx.now(), effects=effects
            )

        badge, errors = await run_mutation(info, work)
        return BadgePayload(badge=None if badge is None else Badge.of(badge), errors=errors)

    @strawberry.mutation(description="Define a challenge (tenant admins).")
    async def challenge_create(
        self, info: Info[RequestContext, None], input: ChallengeCreateInput
    ) -> ChallengePayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        types = conditions.event_types(ctx)
        spec = challenges.ChallengeSpec(
            name=input.name,
            starts_at=input.starts_at,
            ends_at=input.ends_at,
            steps=_steps(input.steps),
            ordered=input.ordered,
            opt_in=input.opt_in,
            segment=input.segment,
            reward_points=input.reward_points,
            reward_asset=input.reward_asset,
            reward_effect=_effect(input.reward_effect),
            description=input.description,
        )
        effects = module_effects(ctx.registry, ctx.enabled_modules)

        async def work(conn: AsyncConnection, _: object) -> challenges.Challenge:
            return await challenges.create(
                conn, tenant_id, spec, types, now=ctx.now(), effects=effects
            )

        found, errors = await run_mutation(info, work)
        return ChallengePayload(
            challenge=None if found is None else Challenge.of(found), errors=errors
        )

    @strawberry.mutation(
        description="Change a challenge (tenant admins); progress so far stays. Archive it "
        "with status ARCHIVED."
    )
    async def challenge_update(
        self, info: Info[RequestContext, None], input: ChallengeUpdateInput
    ) -> ChallengePayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        types = conditions.event_types(ctx)
        changes: dict[str, Any] = {
            name: value
            for name, value in _fields(input).items()
            if name not in ("id", "steps")
            and value is not strawberry.UNSET
            and (value is not None or name in ("segment", "reward_effect"))
        }
        if input.steps is not None and input.steps is not strawberry.UNSET:
            changes["steps"] = _steps(input.steps)
        if "reward_effect" in changes:
            changes["reward_effect"] = _effect(changes["reward_effect"])
        effects = module_effects(ctx.registry, ctx.enabled_modules)

        async def work(conn: AsyncConnection, _: object) -> challenges.Challenge:
            challenge_id = require_id(input.id)
            return await challenges.update_challenge(
                conn, tenant_id, challenge_id, changes, types, now=ctx.now(), effects=effects
            )

        found, errors = await run_mutation(info, work)
        return ChallengePayload(
            challenge=None if found is None else Challenge.of(found), errors=errors
        )

    @strawberry.mutation(
        description="Join an opt-in challenge: events from now on count. A member joins "
        "itself; a tenant admin or a till names the member."
    )
    async def challenge_join(
        self, info: Info[RequestContext, None], input: ChallengeJoinInput
    ) -> ChallengePayload:
        ctx = info.context
        principal = ctx.principal
        tenant_id = require_tenant(principal)
        assert principal is not None

        async def work(conn: AsyncConnection, _: object) -> challenges.Challenge:
            challenge = await challenges.get(conn, tenant_id, require_id(input.challenge_id))
            if principal.member_id is not None:
                if input.member_id is not None and (
                    require_id(input.member_id, field="memberId") != principal.member_id
                ):
                    raise Forbidden("a member joins for itself")
                member_id = principal.member_id
            elif input.member_id is not None:
                member_id = require_id(input.member_id, field="memberId")
            else:
                raise ValidationFailed("name the member who joins", field="memberId")
            await members.require_active(conn, tenant_id, member_id)
            await challenges.join(conn, tenant_id, challenge, member_id, now=ctx.now())
            return challenge

        found, errors = await run_mutation(info, work)
        return ChallengePayload(
            challenge=None if found is None else Challenge.of(found), errors=errors
        )

    @strawberry.mutation(description="Define a leaderboard (tenant admins); live from now on.")
    async def leaderboard_create(
        self, info: Info[RequestContext, None], input: LeaderboardCreateInput
    ) -> LeaderboardPayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        types = conditions.event_types(ctx)
        spec = leaderboards.BoardSpec(
            name=input.name,
            metric=input.metric,
            period=input.period,
            event_type=input.event_type,
            field=input.field,
            prizes=tuple(
                leaderboards.Prize(p.from_rank, p.to_rank, p.points) for p in input.prizes
            ),
            reward_asset=input.reward_asset,
            description=input.description,
            segment=input.segment,
        )

        async def work(conn: AsyncConnection, _: object) -> leaderboards.Board:
            return await leaderboards.create(conn, tenant_id, spec, types, now=ctx.now())

        board, errors = await run_mutation(info, work)
        return LeaderboardPayload(
            leaderboard=None if board is None else Leaderboard.of(board), errors=errors
        )

    @strawberry.mutation(
        description="Choose the name the member shows on leaderboards, or opt out (hidden: "
        "its scores are removed and no longer kept). A member sets its own; an admin any."
    )
    async def leaderboard_player_set(
        self, info: Info[RequestContext, None], input: LeaderboardPlayerSetInput
    ) -> LeaderboardPlayerPayload:
        ctx = info.context
        principal = ctx.principal
        tenant_id = require_tenant(principal)
        assert principal is not None

        async def work(conn: AsyncConnection, _: object) -> None:
            if principal.member_id is not None:
                member_id = principal.member_id
            elif principal.role is Role.ADMIN and input.member_id is not None:
                member_id = require_id(input.member_id, field="memberId")
                await members.require_active(conn, tenant_id, member_id)
            else:
                raise Forbidden("a member sets its own name; an admin names the member")
            await leaderboards.set_player(
                conn,
                tenant_id,
                member_id,
                display_name=input.display_name,
                hidden=input.hidden,
                now=ctx.now(),
            )

        _, errors = await run_mutation(info, work)
        return LeaderboardPlayerPayload(
            display_name=None if errors else input.display_name,
            hidden=input.hidden and not errors,
            errors=errors,
        )

    @strawberry.mutation(description="Define a streak (tenant admins); it counts from now on.")
    async def streak_create(
        self, info: Info[RequestContext, None], input: StreakCreateInput
    ) -> StreakPayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        types = conditions.event_types(ctx)
        spec = streaks.StreakSpec(
            name=input.name,
            event_type=input.event_type,
            unit=input.unit,
            condition=input.condition,
            freeze_every=input.freeze_every,
            max_freezes=input.max_freezes,
            milestones=_milestones(input.milestones),
            reward_asset=input.reward_asset,
            description=input.description,
        )

        effects = module_effects(ctx.registry, ctx.enabled_modules)

        async def work(conn: AsyncConnection, _: object) -> streaks.Streak:
            return await streaks.create(
                conn, tenant_id, spec, types, now=ctx.now(), effects=effects
            )

        streak, errors = await run_mutation(info, work)
        return StreakPayload(streak=None if streak is None else Streak.of(streak), errors=errors)

    @strawberry.mutation(
        description="Change a streak (tenant admins); members' runs stay. Archive it with "
        "status ARCHIVED, resume it with ACTIVE after it paused itself."
    )
    async def streak_update(
        self, info: Info[RequestContext, None], input: StreakUpdateInput
    ) -> StreakPayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        types = conditions.event_types(ctx)
        changes: dict[str, Any] = {
            name: value
            for name, value in _fields(input).items()
            if name not in ("id", "milestones")
            and value is not strawberry.UNSET
            and (value is not None or name == "freeze_every")
        }
        if input.milestones is not None and input.milestones is not strawberry.UNSET:
            changes["milestones"] = _milestones(input.milestones)

        effects = module_effects(ctx.registry, ctx.enabled_modules)

        async def work(conn: AsyncConnection, _: object) -> streaks.Streak:
            streak_id = require_id(input.id)
            return await streaks.update_streak(
                conn, tenant_id, streak_id, changes, types, now=ctx.now(), effects=effects
            )

        streak, errors = await run_mutation(info, work)
        return StreakPayload(streak=None if streak is None else Streak.of(streak), errors=errors)

    @strawberry.mutation(
        description="Change a badge (tenant admins); progress so far stays, events count by "
        "the new definition from now on. Archive it with status ARCHIVED."
    )
    async def badge_update(
        self, info: Info[RequestContext, None], input: BadgeUpdateInput
    ) -> BadgePayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        types = conditions.event_types(ctx)
        changes = {
            name: value
            for name, value in _fields(input).items()
            if name != "id"
            and value is not strawberry.UNSET
            and (value is not None or name in NULLABLE)
        }
        if "reward_effect" in changes:
            changes["reward_effect"] = _effect(changes["reward_effect"])
        effects = module_effects(ctx.registry, ctx.enabled_modules)

        async def work(conn: AsyncConnection, _: object) -> models.Badge:
            badge_id = require_id(input.id)
            return await service.update(
                conn, tenant_id, badge_id, changes, types, now=ctx.now(), effects=effects
            )

        badge, errors = await run_mutation(info, work)
        return BadgePayload(badge=None if badge is None else Badge.of(badge), errors=errors)


@strawberry.field(
    name="badges",
    description="The member's badges: progress toward each live badge in its current period, "
    "the completions earned, and the events counted (a secret badge once earned).",
)
async def member_badges(root: Member, info: Info[RequestContext, None]) -> list[MemberBadge]:
    member_id = uuid.UUID(str(root.id))
    if not may_read_member(info.context.principal, member_id):
        return []
    found = await _member_badges(info.context).load(member_id)
    return [
        MemberBadge(
            badge=Badge.of(item.badge),
            period_key=item.period_key,
            progress=item.value,
            target=item.badge.target,
            earned=item.earned,
            awards=[BadgeAward.of(award) for award in item.awards],
            member_id=member_id,
        )
        for item in found
    ]


@strawberry.field(
    name="streaks",
    description="The member's runs of every live streak, as of now (0: no run, or it broke).",
)
async def member_streaks(root: Member, info: Info[RequestContext, None]) -> list[MemberStreak]:
    member_id = uuid.UUID(str(root.id))
    if not may_read_member(info.context.principal, member_id):
        return []
    found = await _member_streaks(info.context).load(member_id)
    return [
        MemberStreak(
            streak=Streak.of(item.streak),
            length=item.length,
            best=item.best,
            freezes=item.freezes,
            freezes_spent=item.freezes_spent,
            last_active_on=_unit_date(item.streak, item.last_unit),
        )
        for item in found
    ]


@strawberry.field(
    name="challenges",
    description="The member's progress in every live challenge, step by step.",
)
async def member_challenges(
    root: Member, info: Info[RequestContext, None]
) -> list[MemberChallenge]:
    member_id = uuid.UUID(str(root.id))
    if not may_read_member(info.context.principal, member_id):
        return []
    found = await _member_challenges(info.context).load(member_id)
    return [
        MemberChallenge(
            challenge=Challenge.of(item.challenge),
            joined=not item.challenge.opt_in or item.joined_at is not None,
            joined_at=item.joined_at,
            steps=[
                ChallengeStepProgress(
                    name=step.name, count=count, target=step.target, done=count >= step.target
                )
                for step, count in zip(item.challenge.steps, item.counts, strict=True)
            ],
            completed_at=item.completed_at,
            transaction_id=_id(item.transaction_id),
            member_id=member_id,
        )
        for item in found
    ]


def _member_challenges(
    ctx: RequestContext,
) -> DataLoader[uuid.UUID, list[challenges.MemberChallenge]]:
    async def load(
        conn: AsyncConnection, ids: list[uuid.UUID]
    ) -> list[list[challenges.MemberChallenge]]:
        catalogue = await live(conn, ctx.tenant_id)
        return await challenges.member_challenges(conn, ctx.tenant_id, ids, catalogue.challenges)

    return ctx.loader("gamification.member_challenges", load)


def _steps(steps: list[ChallengeStepInput]) -> tuple[challenges.Step, ...]:
    return tuple(challenges.Step(s.name, s.event_type, s.target, s.condition) for s in steps)


def _unit_date(streak: streaks.Streak, unit: int | None) -> date | None:
    if unit is None:
        return None
    # A week's unit is its Monday's ordinal // 7, and Mondays are the ordinals 7k + 1.
    return date.fromordinal(unit if streak.unit is streaks.Unit.DAY else unit * 7 + 1)


def _member_streaks(ctx: RequestContext) -> DataLoader[uuid.UUID, list[streaks.MemberStreak]]:
    async def load(conn: AsyncConnection, ids: list[uuid.UUID]) -> list[list[streaks.MemberStreak]]:
        tenant = ctx.tenant
        assert tenant is not None
        catalogue = await live(conn, ctx.tenant_id)
        return await streaks.member_streaks(
            conn,
            ctx.tenant_id,
            ids,
            catalogue.streaks,
            now=ctx.now(),
            zone=tenants.zone_of(tenant),
        )

    return ctx.loader("gamification.member_streaks", load)


def _member_badges(ctx: RequestContext) -> DataLoader[uuid.UUID, list[service.MemberBadge]]:
    principal = ctx.principal
    admin = principal is not None and principal.role is Role.ADMIN

    async def load(conn: AsyncConnection, ids: list[uuid.UUID]) -> list[list[service.MemberBadge]]:
        tenant = ctx.tenant
        assert tenant is not None
        return await service.member_badges(
            conn,
            ctx.tenant_id,
            ids,
            now=ctx.now(),
            zone=tenants.zone_of(tenant),
            with_secret=admin,
        )

    return ctx.loader("gamification.member_badges", load)


def _effect(value: BadgeRewardEffectInput | None) -> dict[str, Any] | None:
    return None if value is None else {"effect": value.effect, "params": value.params or {}}


def _fields(input: object) -> dict[str, Any]:
    return {name: getattr(input, name) for name in vars(input) if not name.startswith("_")}


def _milestones(given: list[StreakMilestoneInput]) -> tuple[streaks.Milestone, ...]:
    return tuple(streaks.Milestone(m.length, m.points, _effect(m.effect)) for m in given)


def _id(value: uuid.UUID | None) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


__all__ = [
    "Badge",
    "GamificationMutation",
    "GamificationQuery",
    "member_badges",
    "member_challenges",
    "member_streaks",
]
