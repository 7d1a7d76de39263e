"""Gamification on the ingest path, as a busy coffee-and-books retailer runs it: twenty live
badges (fourteen count purchases: all time, per week, per month, three capped at one a day,
two with a condition on the amount, one repeatable; four sum the amount; two count a custom
event type the purchases never touch), two streaks (daily visits with freezes and
milestones, weekly book purchases), three leaderboards (monthly spend with prizes, weekly
visits, badges earned all time) and five challenges (three automatic, one of them ordered,
and two opt-in). One badge rewards a member's first purchase, so
the check before measuring sees the module post (a third ledger transaction)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from loyalty_core.db.engine import Database
from loyalty_core.events.service import save_event_type
from loyalty_core.modules.manager import build_registry
from loyalty_core.modules.service import enable_module
from loyalty_core.tenants.service import get_tenant
from loyalty_gamification import badges, challenges, leaderboards, streaks
from loyalty_gamification.models import Measure, Period

from bench.loads import LoadSetup, ModuleLoad
from bench.seed import SEED_ACTOR, BenchTenant

PERIODS = (Period.ALL_TIME, Period.WEEK, Period.MONTH)


def badge_specs() -> list[badges.BadgeSpec]:
    welcome = badges.BadgeSpec(name="Welcome", event_type="purchase", target=1, reward_points=5)
    visits = [
        badges.BadgeSpec(
            name=f"Visits {n}",
            event_type="purchase",
            target=5 + n,
            period=PERIODS[n % 3],
            daily_cap=1 if n < 3 else None,
            condition="event.amount >= 500" if n in (4, 5) else "",
            repeatable=n == 6,
            reward_points=10 * (n + 1),
        )
        for n in range(13)
    ]
    spend = [
        badges.BadgeSpec(
            name=f"Spend {n}",
            event_type="purchase",
            target=100_000 * (n + 1),
            measure=Measure.SUM,
            sum_field="amount",
            period=PERIODS[n % 3],
            revoke_on_refund=n % 2 == 0,
            reward_points=100,
        )
        for n in range(4)
    ]
    app = [
        badges.BadgeSpec(
            name=f"App fan {n}",
            event_type="app_open",
            target=10 * (n + 1),
            condition='event.payload.screen == "menu"' if n else "",
            period=Period.WEEK,
        )
        for n in range(2)
    ]
    return [welcome, *visits, *spend, *app]


STREAKS = (
    streaks.StreakSpec(
        name="Daily coffee",
        event_type="purchase",
        freeze_every=7,
        max_freezes=2,
        milestones=(streaks.Milestone(7, 50), streaks.Milestone(30, 300)),
    ),
    streaks.StreakSpec(
        name="Weekly reader",
        event_type="purchase",
        unit=streaks.Unit.WEEK,
        condition='event.payload.store == "bookshop"',
        milestones=(streaks.Milestone(4, 100),),
    ),
)

BOARDS = (
    leaderboards.BoardSpec(
        name="Top spenders",
        metric=leaderboards.Metric.SPEND,
        prizes=(leaderboards.Prize(1, 1, 500), leaderboards.Prize(2, 10, 100)),
    ),
    leaderboards.BoardSpec(
        name="Most visits", metric=leaderboards.Metric.VISITS, period=Period.WEEK
    ),
    leaderboards.BoardSpec(
        name="Badge collectors", metric=leaderboards.Metric.BADGES, period=Period.ALL_TIME
    ),
)


def challenge_specs(now: datetime) -> list[challenges.ChallengeSpec]:
    """Five live challenges: three automatic (one ordered), two opt-in nobody joined."""
    coffee = challenges.Step("Coffee", "purchase", 3, 'event.payload.store == "coffee-bar"')
    book = challenges.Step("A book", "purchase", 1, 'event.payload.store == "bookshop"')
    big = challenges.Step("A big basket", "purchase", 1, "event.amount >= 5000")
    visits = challenges.Step("Visits", "purchase", 10)
    steps = ((coffee, book), (book, coffee), (visits,), (big, visits), (coffee, big))
    return [
        challenges.ChallengeSpec(
            name=f"Mission {n}",
            starts_at=now - timedelta(days=7),
            ends_at=now + timedelta(days=30),
            steps=chosen,
            ordered=n == 1,
            opt_in=n >= 3,
            reward_points=100,
        )
        for n, chosen in enumerate(steps)
    ]


async def configure(database: Database, tenant: BenchTenant) -> LoadSetup:
    async with database.tenant_transaction(tenant.tenant_id) as conn:
        found = await get_tenant(conn, tenant.tenant_id)
        await enable_module(conn, found, build_registry(), "gamification", {}, actor=SEED_ACTOR)
        now = datetime.now(UTC)
        await save_event_type(
            conn,
            tenant.tenant_id,
            name="app_open",
            json_schema={"type": "object", "properties": {"screen": {"type": "string"}}},
            description="The member opened the app.",
            module_types={},
            actor=SEED_ACTOR,
        )
        for spec in badge_specs():
            await badges.create(conn, tenant.tenant_id, spec, {}, now=now)
        for streak in STREAKS:
            await streaks.create(conn, tenant.tenant_id, streak, {}, now=now)
        for board in BOARDS:
            await leaderboards.create(conn, tenant.tenant_id, board, {}, now=now)
        for mission in challenge_specs(now):
            await challenges.create(conn, tenant.tenant_id, mission, {}, now=now)
    return LoadSetup(
        "gamification: 20 live badges (counts, sums, weekly and monthly periods, daily caps, "
        "conditions), 5 challenges, 2 streaks, 3 leaderboards; the first purchase of a "
        "member completes a badge",
        transactions=3,
    )


LOAD = ModuleLoad("gamification", configure)
