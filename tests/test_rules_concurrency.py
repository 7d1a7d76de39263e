"""Budgets and per-member limits under concurrency: concurrent qualifying events never award
past a budget or a limit, because each award reserves with a conditional update."""

from __future__ import annotations

import asyncio

from loyalty_core.db.engine import Database
from loyalty_core.rules.tables import rule_awards
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp
from sqlalchemy import func, select

from tests.test_rules_campaigns import Shop, campaign_points


async def _awards(db: Database, tenant: Tenant) -> int:
    async with db.tenant_transaction(tenant.id) as conn:
        count = await conn.scalar(select(func.count()).where(rule_awards.c.tenant_id == tenant.id))
    return int(count or 0)


async def test_a_hundred_concurrent_events_against_a_budget_of_1000_award_33_times(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await make_app(pool_size=10)
    shop = await Shop.open(gateway.client, tenant, rate="1")
    await shop.campaign(points=30, budget=1000)
    members = [await shop.member() for _ in range(10)]

    # Half the purchases earn no base points: the base earn then locks nothing before the
    # campaign does, which must not change the lock order (no deadlock).
    results = await asyncio.gather(
        *(shop.event(members[n % 10], 50 if n % 2 else 1000) for n in range(100))
    )

    assert sum(len(campaign_points(r)) for r in results) == 33
    assert (await shop.campaigns())[0]["budgetSpent"] == 990
    assert await _awards(db, tenant) == 33
    assert sum([await shop.balance(m) for m in members]) == 990 + 50 * 10


async def test_concurrent_events_of_one_member_stop_at_the_member_limit(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app(pool_size=10)
    shop = await Shop.open(gateway.client, tenant, rate="0")
    await shop.campaign(points=30, limits=[{"period": "CAMPAIGN", "maxPoints": 300}])
    await shop.campaign(points=1, limits=[{"period": "DAY", "maxAwards": 7}])
    member = await shop.member()

    results = await asyncio.gather(
        *(shop.event(member, at="2026-11-16T10:00:00Z") for _ in range(50))
    )

    assert sum(len(campaign_points(r)) for r in results) == 10 + 7
    assert await shop.balance(member) == 300 + 7
