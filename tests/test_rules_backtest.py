"""A backtest awards what live processing of the same events awarded: one evaluation path,
two sinks. A property over random event streams and campaign definitions, plus the
``campaignSimulate`` payload itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyalty_core.db.engine import Database
from loyalty_testing import MakeApp, create_test_tenant

from tests.test_rules_campaigns import Shop, campaign_points

START = datetime(2026, 10, 5, tzinfo=UTC)  # a Monday
RATE = "1.3"
SIMULATE = """
mutation($input: CampaignSimulateInput!) {
  campaignSimulate(input: $input) {
    simulation {
      points awards membersReached
      budgetByDay { day points }
      topMembers { memberId points }
    }
    errors { code field message }
  }
}
"""

effects = st.sampled_from(
    [
        [{"kind": "points", "params": {"points": 30}}],
        [{"kind": "multiplier", "params": {"factor": "1.5"}}],
        [{"kind": "pointsPerUnit", "params": {"points": "0.7", "rounding": "halfUp"}}],
        [
            {"kind": "points", "params": {"points": 5}},
            {"kind": "multiplier", "params": {"factor": "3"}},
        ],
    ]
)
campaigns = st.fixed_dictionaries(
    {"effects": effects},
    optional={
        "condition": st.sampled_from(
            [
                "event.amount >= 2000",
                "member.purchaseCount % 2 == 0",
                "member.spendLast30Days > 5000",
                "now.getDayOfWeek() == 0",
                "member.purchasesLast7Days >= 2",
                "member.spendLast7Days > 4000 && member.spendLast90Days < 30000",
                "member.eventsLast30Days % 3 == 1",
            ]
        ),
        "window": st.sampled_from([{"daysOfWeek": [6, 7]}, {"hoursFrom": 9, "hoursTo": 17}]),
        "budget": st.integers(0, 400),
        "limits": st.sampled_from(
            [
                [{"period": "DAY", "maxAwards": 1}],
                [{"period": "WEEK", "maxPoints": 100}],
                [{"period": "MONTH", "maxAwards": 3}, {"period": "CAMPAIGN", "maxPoints": 150}],
            ]
        ),
    },
)
events = st.lists(
    st.tuples(st.integers(0, 2), st.integers(100, 9000), st.integers(0, 24 * 30 - 1)),
    min_size=1,
    max_size=10,
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(campaign=campaigns, stream=events)
async def test_backtest_equals_live(
    make_app: MakeApp,
    db: Database,
    campaign: dict[str, Any],
    stream: list[tuple[int, int, int]],
) -> None:
    gateway = await make_app()
    tenant = await create_test_tenant(db)
    shop = await Shop.open(gateway.client, tenant, rate=RATE)
    campaign_id = await shop.campaign(**campaign)
    members = [await shop.member() for _ in range(3)]
    base = dict.fromkeys(members, 0)
    awards = 0
    for who, amount, hours in sorted(stream, key=lambda e: e[2]):
        at = (START + timedelta(hours=hours)).isoformat()
        result = await shop.event(members[who], amount, at=at)
        awards += 1 if campaign_points(result) else 0
        base[members[who]] += int(
            (Decimal(amount) / 100 * Decimal(RATE)).to_integral_value(ROUND_DOWN)
        )
    live = {m: await shop.balance(m) - base[m] for m in members}

    simulation = await _simulate(shop, {"id": campaign_id})

    spent = sum(live.values())
    assert simulation["points"] == spent
    if "budget" in campaign:
        assert (await shop.campaigns())[0]["budgetSpent"] == spent
    assert simulation["awards"] == awards
    assert {m["memberId"]: m["points"] for m in simulation["topMembers"]} == {
        m: p for m, p in live.items() if p > 0
    }
    assert sum(d["points"] for d in simulation["budgetByDay"]) == spent


async def _simulate(shop: Shop, target: dict[str, Any]) -> dict[str, Any]:
    until = START + timedelta(days=31)
    data = await shop.admin_call(
        SIMULATE,
        {"input": {**target, "since": START.isoformat(), "until": until.isoformat()}},
    )
    payload = data["campaignSimulate"]
    assert payload["errors"] == [], payload
    result: dict[str, Any] = payload["simulation"]
    return result


async def test_simulating_a_draft_reports_cost_by_day_and_top_members_and_writes_nothing(
    make_app: MakeApp, tenant: Any
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant, rate="0")
    ada, bob = await shop.member(), await shop.member()
    for who, day in [(ada, 0), (ada, 0), (bob, 1), (ada, 40)]:
        await shop.event(who, 1000, at=(START + timedelta(days=day, hours=10)).isoformat())
    draft: dict[str, Any] = {
        "trigger": "purchase",
        "effects": [{"kind": "points", "params": {"points": 30}}],
        "budget": 80,
    }

    result = await _simulate(shop, {"definition": draft})

    assert result == {
        "points": 60,
        "awards": 2,
        "membersReached": 1,
        "budgetByDay": [{"day": "2026-10-05", "points": 60}],
        "topMembers": [{"memberId": ada, "points": 60}],
    }
    assert await shop.campaigns() == []
    assert await shop.balance(ada) == 0
