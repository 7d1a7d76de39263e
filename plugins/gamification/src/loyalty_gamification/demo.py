"""How the module shows itself in ``loyalty demo``: the coffee-and-books shop's badges.

"Coffee regular" (5 visits to the coffee bar this month, one a day, 50 points), "Bookworm"
(spend 60 EUR in the bookshop, all time, 200 points, revoked with a refund) and a secret
"Big spender" (one purchase of 50 EUR or more). The demo's purchases ran before the seed, so
a few more coffee-bar visits are ingested after it: Mia completes "Coffee regular", Lukas is
one visit short.
"""

from __future__ import annotations

from datetime import timedelta

from loyalty_core.sdk import DemoContext, events

from loyalty_gamification import badges
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


async def seed(demo: DemoContext) -> None:
    for spec in SPECS:
        await badges.create(demo.conn, demo.tenant.id, spec, {}, now=demo.now)
    for short, member in enumerate(demo.members[:2]):
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


__all__ = ["SPECS", "seed"]
