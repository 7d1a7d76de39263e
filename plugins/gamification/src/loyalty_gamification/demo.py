"""How the module shows itself in ``loyalty demo``: the coffee-and-books shop's badges.

"Coffee regular" (5 visits to the coffee bar this month, one a day, 50 points), "Bookworm"
(spend 60 EUR in the bookshop, all time, 200 points, revoked with a refund) and a secret
"Big spender" (one purchase of 50 EUR or more). The demo's purchases ran before the seed, so
a few more coffee-bar visits are ingested after it: Lukas completes "Coffee regular", Emma
is one visit short. A weekly coffee streak and a monthly "Coffee champions" board of visits
(Lukas shows under his first name, the others under pseudonyms) count the same visits. Mia,
whose credentials the demo prints, keeps the balance the core's demo gives her.
"""

from __future__ import annotations

from datetime import timedelta

from loyalty_core.sdk import DemoContext, events

from loyalty_gamification import badges, leaderboards, streaks
from loyalty_gamification.models import Measure, Period

SPECS = (
    badges.BadgeSpec(
        name="Coffee regular",
        description="Five visits in a month.",
        event_type="purchase",
        target=5,
        condition='event.payload.store == "coffee-bar"',
        period=Period.MONTH,
        daily_cap=1,
        reward_points=50,
    ),
    badges.BadgeSpec(
        name="Bookworm",
        description="Spend 60 EUR on books.",
        event_type="purchase",
        target=6000,
        measure=Measure.SUM,
        sum_field="amount",
        condition='event.payload.store == "bookshop"',
        reward_points=200,
        revoke_on_refund=True,
    ),
    badges.BadgeSpec(
        name="Big spender",
        description="One purchase of 50 EUR or more.",
        event_type="purchase",
        target=1,
        condition="event.amount >= 5000",
        secret=True,
    ),
)


STREAK = streaks.StreakSpec(
    name="Coffee every week",
    description="A coffee-bar visit every week; a freeze for every four weeks in a row.",
    event_type="purchase",
    unit=streaks.Unit.WEEK,
    condition='event.payload.store == "coffee-bar"',
    freeze_every=4,
    max_freezes=1,
    milestones=(streaks.Milestone(4, 100), streaks.Milestone(12, 400)),
)

BOARD = leaderboards.BoardSpec(
    name="Coffee champions",
    description="Most visits this month; the top three win points.",
    metric=leaderboards.Metric.VISITS,
    period=Period.MONTH,
    prizes=(leaderboards.Prize(1, 1, 200), leaderboards.Prize(2, 3, 50)),
)


async def seed(demo: DemoContext) -> None:
    for spec in SPECS:
        await badges.create(demo.conn, demo.tenant.id, spec, {}, now=demo.now)
    await streaks.create(demo.conn, demo.tenant.id, STREAK, {}, now=demo.now)
    await leaderboards.create(demo.conn, demo.tenant.id, BOARD, {}, now=demo.now)
    await leaderboards.set_player(
        demo.conn,
        demo.tenant.id,
        demo.members[0].id,
        display_name="Mia",
        hidden=False,
        now=demo.now,
    )
    for short, member in enumerate(demo.members[1:3]):
        for visit in range(5 - short):
            await demo.ingest(
                events.EventInput(
                    type="purchase",
                    source="pos-coffee-bar",
                    external_id=f"demo-coffee-{short}-{visit}",
                    member_id=member.id,
                    occurred_at=demo.now - timedelta(days=visit),
                    payload={"amount": 390, "currency": "EUR", "store": "coffee-bar"},
                )
            )


__all__ = ["BOARD", "SPECS", "STREAK", "seed"]
