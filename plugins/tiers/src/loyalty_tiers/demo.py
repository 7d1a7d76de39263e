"""How tiers show in ``loyalty demo``: the coffee-and-books shop's four-level ladder on
spend in a calendar year, members who reached silver and gold with this year's purchases,
a platinum invitation for the shop's book-club host, with its reason and expiry, and a
paid membership plan (Bücherwurm Prime: gold, free delivery) for the provider to bill. The
member whose credentials the demo prints (the first) is left as the demo's history made
her, so her tierProgress shows what silver would take."""

from __future__ import annotations

from datetime import timedelta

from loyalty_core.sdk import DemoContext, DemoSeed, events

from loyalty_tiers import service, subscriptions
from loyalty_tiers.memberships import Period
from loyalty_tiers.settings import TierSettings

LADDER = {
    "levels": [
        {"name": "bronze", "threshold": 0, "benefits": ["Birthday coffee"]},
        {
            "name": "silver",
            "threshold": 15_000,
            "benefits": ["Birthday coffee", "Free refill on filter coffee"],
        },
        {
            "name": "gold",
            "threshold": 40_000,
            "benefits": ["Birthday coffee", "Free refills", "Double points on books"],
        },
        {
            "name": "platinum",
            "invitation_only": True,
            "benefits": ["Everything in gold", "Signed first editions reserved for you"],
        },
    ],
    "metric": "spend",
    "window": "calendar_year",
    "downgrade": "one_level",
}
SPEND = ((1, 18_000), (2, 45_000))
"""(member index, EUR cents) bought this year on top of the demo's history: silver, gold."""


async def seed(demo: DemoContext) -> None:
    settings = TierSettings()
    ladder = service.parse_ladder(LADDER)
    await service.set_ladder(
        demo.conn, demo.tenant.id, settings, ladder, actor=demo.actor, now=demo.now
    )
    for index, amount in SPEND:
        if index < len(demo.members):
            await demo.ingest(
                events.EventInput(
                    type=events.PURCHASE,
                    source="till-kreuzberg",
                    external_id=f"tiers-demo-{index}",
                    payload={"amount": amount, "currency": "EUR", "store": "kreuzberg"},
                    member_id=demo.members[index].id,
                    occurred_at=demo.now - timedelta(hours=2 + index),
                )
            )
    await subscriptions.create_plan(
        demo.conn,
        demo.tenant.id,
        code="buecherwurm",
        name="Bücherwurm Prime",
        price=499,
        currency="EUR",
        period=Period.MONTH,
        trial_days=14,
        level="gold",
        benefits=["Free delivery of books", "Early access to signed editions"],
        levels=[level.name for level in ladder.levels],
    )
    if len(demo.members) > 3:
        await service.override(
            demo.conn,
            demo.tenant.id,
            settings,
            demo.members[3].id,
            level="platinum",
            reason="Hosts the Thursday book club",
            expires_at=demo.now + timedelta(days=180),
            actor=demo.actor,
            now=demo.now,
        )


DEMO = DemoSeed(settings={}, seed=seed)

__all__ = ["DEMO", "LADDER", "seed"]
