"""A campaign that fails at run time never fails an ingestion: it is skipped for the event,
which earns its base points (and every other campaign's) as usual; the failure is counted on
the campaign (``Campaign.health``), logged and measured; after its threshold of failures in
a row the campaign pauses itself. Through ``eventIngest``, ``eventIngestBatch`` and
``POST /events``, for conditions that divide by zero, overflow, mix types, index past a list
or call a function with a value it cannot take, for effects whose amounts leave the ledger's
range and for a module effect whose write the database refuses. Backtests report failures as
data, and amounts beyond range are refused when a campaign is saved."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from loyalty_core.db.engine import Database
from loyalty_core.modules.manager import build_registry
from loyalty_core.rules.definition import MAX_AWARD
from loyalty_core.rules.schedules import run_scheduled_at
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, create_test_tenant, enable_for, graphql

from tests.modules import bonus
from tests.test_rules_campaigns import CAMPAIGN_ACTIVATE, CAMPAIGN_UPDATE, Shop, campaign_points
from tests.test_rules_schedules import BIRTHDAY_NOW, _member_born

HEALTH = """
query($id: ID!) {
  campaign(id: $id) {
    status version
    health {
      failures consecutiveFailures lastError lastErrorClass lastFailureAt lastFailureVersion
      pausedReason
    }
  }
}
"""
BATCH = """
mutation($input: EventIngestBatchInput!) {
  eventIngestBatch(input: $input) {
    results { event { id } transactions { reason cause { ruleId } } errors { code field } }
    errors { code }
  }
}
"""
SIMULATE = """
mutation($input: CampaignSimulateInput!) {
  campaignSimulate(input: $input) {
    simulation { points awards failures sampleErrors }
    errors { code field message }
  }
}
"""
DIVIDES_BY_ZERO = "event.amount / 0 > 1"
BASE = 10
"""Base points of the default purchase (10.00 EUR at 1 point per euro)."""


async def health(shop: Shop, campaign_id: str) -> dict[str, Any]:
    data = await shop.admin_call(HEALTH, {"id": campaign_id})
    found: dict[str, Any] = data["campaign"]
    return found


def purchase(
    external_id: str, member_id: str, amount: int = 1000, **payload: Any
) -> dict[str, Any]:
    return {
        "type": "purchase",
        "source": "till",
        "externalId": external_id,
        "memberId": member_id,
        "payload": {"amount": amount, "currency": "EUR", **payload},
    }


def failures_metric(text: str, stage: str) -> int:
    found = re.search(rf'^loyalty_campaign_failures_total{{stage="{stage}"}} (\S+)$', text, re.M)
    return int(float(found[1])) if found else 0


async def test_a_condition_dividing_by_zero_fails_no_purchase_and_pauses_its_campaign(
    make_app: MakeApp, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    broken = await shop.campaign("Broken", condition=DIVIDES_BY_ZERO)
    await shop.campaign("Healthy", points=5)
    members = await asyncio.gather(*(shop.member() for _ in range(100)))
    before = failures_metric((await gateway.client.get("/metrics")).text, "condition")

    with caplog.at_level(logging.WARNING, logger="loyalty_core.rules.health"):
        results = await asyncio.gather(*(shop.event(m) for m in members))

    assert all(r["errors"] == [] for r in results)
    assert all(len(campaign_points(r)) == 1 for r in results)  # the healthy one, every time
    assert {await shop.balance(m) for m in members} == {BASE + 5}
    found = await health(shop, broken)
    assert found["status"] == "PAUSED"
    recorded = found["health"]
    assert 10 <= recorded["failures"] <= 100
    assert recorded["consecutiveFailures"] == recorded["failures"]  # it never succeeded
    assert recorded["lastError"] == "condition: division by zero in CEL expression"
    assert (recorded["lastErrorClass"], recorded["lastFailureVersion"]) == ("ZeroDivisionError", 1)
    assert recorded["lastFailureAt"] is not None
    assert recorded["pausedReason"].startswith("paused after 10 consecutive failures; the last:")
    logged = [r for r in caplog.records if r.getMessage().startswith("campaign failed")]
    assert len(logged) == recorded["failures"]
    assert {(r.tenant, r.campaign, r.version, r.errorClass) for r in logged} == {  # type: ignore[attr-defined]
        (str(tenant.id), broken, 1, "ZeroDivisionError")
    }
    assert sum(r.paused for r in logged) == 1  # type: ignore[attr-defined]
    after = failures_metric((await gateway.client.get("/metrics")).text, "condition")
    assert after - before == recorded["failures"]

    paused = await shop.event(members[0])  # a paused campaign is not evaluated at all
    assert len(campaign_points(paused)) == 1
    assert (await health(shop, broken))["health"]["failures"] == recorded["failures"]

    await shop.admin_call(CAMPAIGN_ACTIVATE, {"id": broken})
    again = await health(shop, broken)
    assert again["status"] == "ACTIVE"
    assert (again["health"]["consecutiveFailures"], again["health"]["pausedReason"]) == (0, None)
    assert again["health"]["failures"] == recorded["failures"]


async def test_a_success_restarts_the_count_and_the_threshold_is_the_campaigns(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    # Fails for purchases of 10.00 EUR or more, awards below.
    campaign = await shop.campaign(
        "Small baskets", condition="event.amount < 1000 || event.amount / 0 > 1",
        pauseAfterFailures=3,
    )  # fmt: skip
    member = await shop.member()
    for amount in (1000, 1000, 500, 1000, 1000):
        await shop.event(member, amount)
    assert (await health(shop, campaign))["health"]["consecutiveFailures"] == 2
    assert (await health(shop, campaign))["status"] == "ACTIVE"

    await shop.event(member, 1000)

    found = await health(shop, campaign)
    assert (found["status"], found["health"]["failures"]) == ("PAUSED", 5)
    assert found["health"]["pausedReason"].startswith("paused after 3 consecutive failures")


async def test_a_field_missing_from_one_event_skips_the_campaign_for_that_event_alone(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    by_store = await shop.campaign("Berlin", condition='event.payload.store == "berlin-1"')
    by_item = await shop.campaign(
        "Coffee first", points=7, condition='event.payload.items[0].sku == "coffee"'
    )
    member = await shop.member()
    item = {"sku": "coffee", "quantity": 1, "unitPrice": 300}

    with_both = await shop.event(
        member, payload={"amount": 1000, "currency": "EUR", "store": "berlin-1", "items": [item]}
    )
    without_store = await shop.event(
        member, payload={"amount": 1000, "currency": "EUR", "items": [item]}
    )
    empty_items = await shop.event(
        member, payload={"amount": 1000, "currency": "EUR", "store": "berlin-1", "items": []}
    )

    assert len(campaign_points(with_both)) == 2
    assert len(campaign_points(without_store)) == 1  # an absent optional field: not for it
    assert len(campaign_points(empty_items)) == 1  # no first item: a failure of that campaign
    assert await shop.balance(member) == 3 * BASE + 2 * 30 + 2 * 7
    assert (await health(shop, by_store))["health"]["failures"] == 0
    item_health = (await health(shop, by_item))["health"]
    assert (item_health["failures"], item_health["lastErrorClass"]) == (1, "IndexError")


FAILING_CONDITIONS = st.one_of(
    st.builds(
        "event.amount {} {} > 1".format,
        st.sampled_from(["/", "%"]),
        st.sampled_from(["0", "(event.amount - event.amount)", "(size(event.currency) - 3)"]),
    ),
    st.builds("event.amount * {} > 0".format, st.integers(2**63 // 1000 + 1, 2**62)),
    st.builds("{} + event.amount > 0".format, st.integers(2**63 - 1000, 2**63 - 1)),
    st.builds("event.amount > {}".format, st.sampled_from(['"a"', "true", "[1]"])),
    st.builds("event.currency + {} == 1".format, st.integers(-5, 5)),
    st.builds("event.payload.items[{}].quantity > 0".format, st.integers(3, 9)),  # 0-3 items
    st.sampled_from(
        [
            "int(event.currency) > 0",
            "timestamp(event.currency) > now",
            "uint(event.amount) - 99999999u > 0u",
            'event.currency.matches("(")',
        ]
    ),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(condition=FAILING_CONDITIONS, amount=st.integers(1000, 10**6), items=st.integers(0, 3))
@example(condition="9223372036854775807 + event.amount > 0", amount=1000, items=0)  # overflow
@example(condition='event.amount > "a"', amount=1000, items=0)  # a type mismatch
@example(condition="event.payload.items[2].quantity > 0", amount=1000, items=2)  # past the end
async def test_any_failing_condition_is_counted_and_the_purchase_earns_as_usual(
    make_app: MakeApp, db: Database, condition: str, amount: int, items: int
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, await create_test_tenant(db))
    campaign = await shop.campaign(condition=condition)
    member = await shop.member()
    lines = [{"sku": f"s{i}", "quantity": 1, "unitPrice": 100} for i in range(items)]

    result = await shop.event(member, payload={"amount": amount, "currency": "EUR", "items": lines})

    assert campaign_points(result) == []
    assert await shop.balance(member) == amount // 100
    recorded = (await health(shop, campaign))["health"]
    assert recorded["failures"] == 1, (condition, recorded)
    assert recorded["lastError"].startswith("condition: ")


async def test_effect_amounts_beyond_range_fail_at_run_time_and_module_writes_roll_back(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await make_app(build_registry(plugins=[bonus], load_entry_points=False))
    await enable_for(db, gateway.registry, tenant, bonus.NAME)
    shop = await Shop.open(gateway.client, tenant)
    per_euro = await shop.campaign(
        "Per euro", effects=[{"kind": "pointsPerUnit", "params": {"points": "100000000"}}]
    )  # 10**8 a euro: 21.47 EUR or more computes more than an award may give
    huge_bonus = await shop.campaign(
        "Huge bonus", effects=[{"kind": "bonus.points", "params": {"points": 2**63 - 1}}]
    )  # accepted by the module's model, refused by the database (a balance beyond bigint)
    member = await shop.member()

    small = await shop.event(member, 1000)
    large = await shop.event(member, 5000)

    assert campaign_points(small) == ["Per euro (v1): 100000000 points per unit on purchase r-17"]
    assert campaign_points(large) == []
    assert await shop.balance(member) == 10**9 + BASE + 50
    per_euro_health = (await health(shop, per_euro))["health"]
    assert (per_euro_health["failures"], per_euro_health["lastErrorClass"]) == (
        1,
        "AwardOutOfRange",
    )
    assert per_euro_health["lastError"].startswith("effect: effects.0 (pointsPerUnit) computed")
    bonus_health = (await health(shop, huge_bonus))["health"]
    assert bonus_health["failures"] == 2
    assert "out of range" in bonus_health["lastError"]


async def test_batches_and_ndjson_skip_a_failing_campaign_and_store_every_valid_event(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    broken = await shop.campaign("Broken", condition=DIVIDES_BY_ZERO)
    members = [await shop.member() for _ in range(6)]
    events = [purchase(uuid.uuid4().hex, members[i % 6]) for i in range(12)]

    body = await graphql(shop.client, BATCH, {"input": {"events": events}}, api_key=shop.key)
    results = body["data"]["eventIngestBatch"]["results"]
    assert [r["errors"] for r in results] == [[]] * 12
    assert all(campaign_points(r) == [] for r in results)
    found = await health(shop, broken)
    assert (found["status"], found["health"]["failures"]) == ("PAUSED", 12)

    await shop.admin_call(CAMPAIGN_ACTIVATE, {"id": broken})
    lines = [orjson.dumps(purchase(uuid.uuid4().hex, m)) for m in members] + [b"{not json"]
    response = await shop.client.post(
        "/events",
        content=b"\n".join(lines),
        headers={"Content-Type": "application/x-ndjson", "X-Api-Key": shop.key},
    )
    assert response.status_code == 200, response.text
    answers = [orjson.loads(line) for line in response.content.splitlines()]
    assert [a["errors"] for a in answers[:6]] == [[]] * 6
    assert answers[6]["errors"][0]["code"] == "INVALID_INPUT"
    assert {await shop.balance(m) for m in members} == {3 * BASE}
    assert (await health(shop, broken))["health"]["failures"] == 18


async def test_a_scheduled_campaign_that_fails_leaves_the_occurrence_for_a_later_run(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    campaign = await shop.campaign(
        "Birthday", trigger="schedule.birthday", points=250,
        condition="member.purchaseCount / member.purchaseCount > 0",
    )  # fmt: skip
    member = await _member_born(shop, "ada@example.com", "1990-11-23")

    failed = await run_scheduled_at(db, tenant, BIRTHDAY_NOW)
    await shop.admin_call(
        CAMPAIGN_UPDATE,
        {"input": {"id": campaign, "definition": {**definition_of(250), "condition": ""}}},
    )
    fixed = await run_scheduled_at(db, tenant, BIRTHDAY_NOW + timedelta(hours=1))

    assert (failed, fixed) == (0, 1)
    assert await shop.balance(member) == 250
    found = (await health(shop, campaign))["health"]
    assert (found["failures"], found["consecutiveFailures"]) == (1, 0)
    assert found["lastErrorClass"] == "ZeroDivisionError"


def definition_of(points: int) -> dict[str, Any]:
    return {
        "trigger": "schedule.birthday",
        "effects": [{"kind": "points", "params": {"points": points}}],
    }


async def test_a_backtest_reports_failures_as_data(make_app: MakeApp, tenant: Tenant) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    member = await shop.member()
    for amount in (500, 1000, 2000):
        await shop.event(member, amount)
    since = datetime.now(UTC) - timedelta(days=1)

    data = await shop.admin_call(
        SIMULATE,
        {
            "input": {
                "definition": {
                    "trigger": "purchase",
                    "condition": "event.amount < 1000 || event.amount / 0 > 1",
                    "effects": [{"kind": "points", "params": {"points": 30}}],
                },
                "since": since.isoformat(),
                "until": (since + timedelta(days=2)).isoformat(),
            }
        },
    )

    payload = data["campaignSimulate"]
    assert payload["errors"] == []
    assert payload["simulation"] == {
        "points": 30,
        "awards": 1,
        "failures": 2,
        "sampleErrors": ["condition: division by zero in CEL expression"],
    }


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    effect=st.sampled_from(
        [("points", "points"), ("assetAward", "amount"), ("pointsPerUnit", "points")]
    ),
    amount=st.integers(MAX_AWARD + 1, 2**80),
    update=st.booleans(),
)
async def test_effect_amounts_beyond_range_are_refused_when_saved_and_nothing_is_saved(
    make_app: MakeApp, db: Database, effect: tuple[str, str], amount: int, update: bool
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, await create_test_tenant(db))
    kind, name = effect
    params: dict[str, Any] = {name: amount if kind != "pointsPerUnit" else str(amount)}
    if kind == "assetAward":
        params["asset"] = "points"
    definition = {"trigger": "purchase", "effects": [{"kind": kind, "params": params}]}
    existing = await shop.campaign("Existing") if update else None

    if existing is None:
        query = "mutation($i: CampaignCreateInput!) { campaignCreate(input: $i) { %s } }"
        variables: dict[str, Any] = {"i": {"name": "Too much", "definition": definition}}
    else:
        query = "mutation($i: CampaignUpdateInput!) { campaignUpdate(input: $i) { %s } }"
        variables = {"i": {"id": existing, "definition": definition}}
    data = await shop.admin_call(query % "campaign { id } errors { code field }", variables)

    [payload] = data.values()
    assert payload == {
        "campaign": None,
        "errors": [{"code": "INVALID_INPUT", "field": f"effects.0.params.{name}"}],
    }
    assert [c["version"] for c in await shop.campaigns()] == ([1] if update else [])
