"""Member aggregates over windows (spend, purchases and events of the trigger's type in the
last 7, 30, 90 and 365 days) in conditions and segments, taken as of the event: live
processing and a backtest see the same numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from loyalty_core.rules import conditions, engine
from loyalty_core.rules.definition import parse
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp

from tests.test_rules_backtest import SIMULATE
from tests.test_rules_campaigns import Shop

# (days before the last purchase, amount in cents), oldest first
HISTORY = [(400, 100), (200, 200), (60, 400), (20, 800), (5, 1600), (0, 3200)]
AS_OF_LAST = {
    "spendLast7Days": 1600 + 3200,
    "spendLast30Days": 800 + 1600 + 3200,
    "spendLast90Days": 400 + 800 + 1600 + 3200,
    "spendLast365Days": 200 + 400 + 800 + 1600 + 3200,
    "totalSpend": 6300,
    "purchasesLast7Days": 2,
    "purchasesLast30Days": 3,
    "purchasesLast90Days": 4,
    "purchasesLast365Days": 5,
    "purchaseCount": 6,
    "eventsLast7Days": 2,
    "eventsLast30Days": 3,
    "eventsLast90Days": 4,
    "eventsLast365Days": 5,
    "eventCount": 6,
}


async def test_windowed_aggregates_as_of_each_event_live_and_in_a_backtest(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant, rate="0")
    condition = " && ".join(f"member.{name} == {value}" for name, value in AS_OF_LAST.items())
    campaign_id = await shop.campaign("Exactly this history", points=30, condition=condition)
    member = await shop.member()
    last = datetime.now(UTC) - timedelta(hours=1)
    for days, amount in HISTORY:
        await shop.event(member, amount, at=(last - timedelta(days=days)).isoformat())

    assert await shop.balance(member) == 30  # only the last purchase sees exactly this

    since = last - timedelta(days=365)
    data = await shop.admin_call(
        SIMULATE,
        {
            "input": {
                "id": campaign_id,
                "since": since.isoformat(),
                "until": (last + timedelta(minutes=1)).isoformat(),
            }
        },
    )
    simulation = data["campaignSimulate"]["simulation"]
    assert (simulation["awards"], simulation["points"]) == (1, 30)


async def test_a_segment_of_recent_regulars_and_events_of_another_type(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant, rate="0")
    created = await shop.admin_call(
        'mutation($c: String!) { segmentCreate(input: {name: "regulars", condition: $c})'
        " { errors { code field message } } }",
        {"c": "member.purchasesLast30Days >= 2 && member.spendLast90Days >= 1000"},
    )
    assert created["segmentCreate"]["errors"] == []
    await shop.campaign("Regulars", points=10, segments=["regulars"])
    regular, lapsed = await shop.member(), await shop.member()
    now = datetime.now(UTC)
    await shop.event(regular, 600, at=(now - timedelta(days=3)).isoformat())
    await shop.event(regular, 600)  # the second purchase in 30 days: now a regular
    await shop.event(lapsed, 600, at=(now - timedelta(days=45)).isoformat())
    await shop.event(lapsed, 600)  # the first in 30 days
    assert (await shop.balance(regular), await shop.balance(lapsed)) == (10, 0)


async def test_an_unknown_window_is_refused_when_saved(make_app: MakeApp, tenant: Tenant) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    [error] = await shop.try_campaign(condition="member.spendLast14Days > 0")
    assert error["code"] == "INVALID_CONDITION"
    assert "spendLast14Days" in error["message"]


def test_which_campaigns_read_the_members_history() -> None:
    assert conditions.member_fields('member.status == "active" && event.amount > 10') == frozenset(
        {"status"}
    )
    assert conditions.member_fields('member.attributes["tier"] == "gold"') == frozenset(
        {"attributes"}
    )
    assert conditions.member_fields('member["totalSpend"] > 5') is None
    assert conditions.member_fields('"member.totalSpend" == event.source') == frozenset()

    def needs(condition: str, segments: list[str] | None = None) -> bool:
        definition = parse(
            {
                "trigger": "purchase",
                "condition": condition,
                "segments": segments or [],
                "effects": [{"kind": "points", "params": {"points": 5}}],
            }
        )
        return engine.needs_history(definition)

    assert not needs("")
    assert not needs('member.status == "active" && member.enrolledAt < now')
    assert needs("member.purchaseCount >= 3")
    assert needs("member.spendLast30Days > 0 || event.amount > 0")
    assert needs('"vip" in member.segments')
    assert needs('member["status"] == "active"')
    assert needs("", segments=["regulars"])
