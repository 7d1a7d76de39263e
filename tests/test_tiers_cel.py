"""The member's tier as a CEL fact: "double points for gold" is an ordinary campaign, a
segment by tier targets campaigns, a scheduled campaign (run by the real job scheduler)
sees the tier as event-triggered ones do, status points that campaigns award qualify for
levels, and a tenant without tiers cannot name the fact."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from loyalty_core.db.engine import Database
from loyalty_core.ids import new_id
from loyalty_core.rules import repository as rules_repo
from loyalty_core.tenants.models import Tenant
from loyalty_gateway.jobs import run_jobs_once
from loyalty_testing import MakeApp

from tests.test_rules_campaigns import Shop, campaign_points
from tests.tiers import SPEND_LADDER, TierShop

SEGMENT = """
mutation($input: SegmentCreateInput!) {
  segmentCreate(input: $input) { segment { id name } errors { code field message } }
}
"""


async def test_double_points_for_gold_is_an_ordinary_campaign(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await TierShop.start(make_app, db, tenant, SPEND_LADDER)
    await shop.campaign(
        "Double points for gold",
        condition='member.tier == "gold"',
        effects=[{"kind": "multiplier", "params": {"factor": "2"}}],
    )
    member = await shop.member()

    reaching = await shop.event(member, 35_000)  # reaches gold on this purchase
    assert campaign_points(reaching) == []  # campaigns saw the member before the upgrade
    assert await shop.level(member) == "gold"
    doubled = await shop.event(member, 1_000)
    assert campaign_points(doubled) == ["Double points for gold (v1): 2x base on purchase r-17"]
    assert await shop.balance(member) == 350 + 10 + 10


async def test_a_segment_by_tier_targets_a_campaign(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await TierShop.start(make_app, db, tenant, SPEND_LADDER)
    data = await shop.admin_call(
        SEGMENT,
        {"input": {"name": "top-tiers", "condition": 'member.tier in ["gold", "platinum"]'}},
    )
    assert data["segmentCreate"]["errors"] == []
    await shop.campaign("Top tier bonus", points=50, segments=["top-tiers"])
    gold, silver = await shop.member(), await shop.member()
    await shop.event(gold, 30_000)
    await shop.event(silver, 10_000)

    assert campaign_points(await shop.event(gold, 500)) == [
        "Top tier bonus (v1): 50 points on purchase r-17"
    ]
    assert campaign_points(await shop.event(silver, 500)) == []


async def test_the_fact_is_read_with_the_members_aggregates_in_one_statement(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    """The fact adds a column to the aggregates statement: no read of its own."""
    shop = await TierShop.start(make_app, db, tenant, SPEND_LADDER)
    member = await shop.member()
    await shop.event(member, 12_000)
    facts = tuple(shop.gateway.registry.get("tiers").rule_conditions)  # type: ignore[union-attr]
    async with db.tenant_transaction(tenant.id) as conn:
        row = await rules_repo.member_aggregates(
            conn,
            tenant.id,
            uuid.UUID(member),
            event_type="purchase",
            upto=new_id(),
            at=datetime.now(UTC),
            facts=facts,
        )
    assert (row.total_spend, row.fact_tier) == (12_000, "silver")


async def test_a_scheduled_campaign_sees_the_tier_as_event_campaigns_do(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await TierShop.start(make_app, db, tenant, SPEND_LADDER)
    today = datetime.now(UTC).astimezone(ZoneInfo(tenant.timezone)).date().isoformat()
    await shop.campaign(
        "Gold members' day",
        trigger="schedule.date",
        onDate=today,
        condition='member.tier == "gold"',
    )
    await shop.campaign(
        "Segment of the gold",
        trigger="schedule.date",
        onDate=today,
        points=5,
        condition='member.tier in ["gold", "platinum"] && member.totalSpend > 0',
    )
    gold, silver = await shop.member(), await shop.member()
    await shop.event(gold, 35_000)
    await shop.event(silver, 12_000)
    before = (await shop.balance(gold), await shop.balance(silver))

    ran = await run_jobs_once(db, shop.gateway.registry)

    assert ran["core:rules.scheduled"] == 2
    assert await shop.balance(gold) == before[0] + 30 + 5
    assert await shop.balance(silver) == before[1]


async def test_status_points_awarded_by_a_campaign_qualify_for_a_level(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    ladder: dict[str, Any] = {**SPEND_LADDER, "metric": "STATUS_POINTS"}
    ladder["levels"] = [
        {"name": "silver", "threshold": 100},
        {"name": "gold", "threshold": 300},
    ]
    shop = await TierShop.start(make_app, db, tenant, ladder)
    await shop.campaign(
        "Status on every purchase",
        effects=[{"kind": "assetAward", "params": {"asset": "status", "amount": 120}}],
    )
    member = await shop.member()
    await shop.event(member, 1_000, external_id="p-1")
    assert await shop.level(member) == "silver"
    await shop.event(member, 1_000, external_id="p-2")
    await shop.event(member, 1_000, external_id="p-3")
    assert await shop.level(member) == "gold"
    assert await shop.balance(member, "status") == 360
    progress = await shop.progress(member)
    assert progress["value"] == 360
    # A full refund takes the purchase's status points back, and the metric with them.
    await shop.refund(member, "p-3", 1_000)
    assert (await shop.progress(member))["value"] == 240


async def test_without_tiers_a_campaign_cannot_name_the_tier(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    [error] = await shop.try_campaign(condition='member.tier == "gold"')
    assert error["code"] == "INVALID_CONDITION"
