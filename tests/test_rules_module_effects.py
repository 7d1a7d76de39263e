"""A rule effect contributed by a module works end to end: offered only to tenants that
enabled the module, applied in the ingestion transaction (or the scheduled campaigns' job),
counted against the budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from loyalty_core.db.engine import Database
from loyalty_core.modules.manager import build_registry
from loyalty_core.tenants.models import Tenant
from loyalty_gateway.jobs import run_jobs_once
from loyalty_testing import MakeApp, disable_for, enable_for

from tests.modules import bonus
from tests.test_rules_campaigns import Shop, campaign_points

BONUS = [{"kind": "bonus.points", "params": {"points": 15}}]


async def test_module_effect_awards_through_the_ledger_within_the_budget(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await make_app(build_registry(plugins=[bonus], load_entry_points=False))
    shop = await Shop.open(gateway.client, tenant, rate="0")
    [refused] = await shop.try_campaign(effects=BONUS)
    assert (refused["code"], refused["field"]) == ("UNKNOWN_EFFECT", "effects.0.kind")

    await enable_for(db, gateway.registry, tenant, bonus.NAME)
    [bad] = await shop.try_campaign(effects=[{"kind": "bonus.points", "params": {"points": 0}}])
    assert bad["field"] == "effects.0.params.points"
    await shop.campaign("Module bonus", effects=BONUS, budget=20)
    member = await shop.member()
    first = await shop.event(member)
    second = await shop.event(member)

    [reason] = campaign_points(first)
    assert reason.startswith("bonus of campaign")
    assert await shop.balance(member) == 15
    assert (await shop.campaigns())[0]["budgetSpent"] == 15
    assert second["errors"] == []

    await disable_for(db, gateway.registry, tenant, bonus.NAME)
    await shop.event(member)  # the campaign's effect is gone: ingestion still works
    assert await shop.balance(member) == 15


async def test_a_scheduled_campaign_applies_a_module_effect_through_the_job(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    registry = build_registry(plugins=[bonus], load_entry_points=False)
    gateway = await make_app(registry)
    shop = await Shop.open(gateway.client, tenant, rate="0")
    await enable_for(db, registry, tenant, bonus.NAME)
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo(tenant.timezone)).date().isoformat()
    await shop.campaign(
        "Module bonus today", trigger="schedule.date", onDate=today, effects=BONUS, budget=100
    )
    member = await shop.member()

    first = await run_jobs_once(db, registry, now, tenants=[tenant])
    again = await run_jobs_once(db, registry, now + timedelta(minutes=5), tenants=[tenant])

    assert (first["core:rules.scheduled"], again["core:rules.scheduled"]) == (1, 0)
    assert await shop.balance(member) == 15
    assert (await shop.campaigns())[0]["budgetSpent"] == 15
