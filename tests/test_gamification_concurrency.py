"""Badges under real concurrency on real PostgreSQL: 50 events at once through two gateway
instances complete a badge once and pay its reward once, and a badge defined through one
instance counts at the next event through the other."""

from __future__ import annotations

import asyncio

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp

from tests.gamification import Shop, reward_transactions


async def test_fifty_concurrent_events_on_two_instances_award_and_reward_once(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    second = await make_app()
    mia = await shop.member()
    await shop.ingest(mia, "warm-up", gateway=second)  # the second instance caches no badge
    await shop.badge(name="Fifty", target=50, rewardPoints=500)
    await shop.badge(name="Every ten", target=10, repeatable=True, rewardPoints=10)

    await asyncio.gather(
        *(shop.ingest(mia, f"rush-{n}", gateway=second if n % 2 else None) for n in range(50))
    )

    found = await shop.member_badges(mia)
    fifty, tens = found["Fifty"], found["Every ten"]
    assert (fifty["progress"], fifty["earned"], len(fifty["awards"])) == (50, 1, 1)
    assert (tens["progress"], tens["earned"], len(tens["awards"])) == (50, 5, 5)
    assert len({a["eventId"] for a in tens["awards"]}) == 5
    assert len(fifty["contributions"]) == 50
    assert await reward_transactions(db, tenant) == {"earn": 6}
