"""A retailer's misconfigured definition (a badge, streak or challenge whose condition fails
at run time, or whose reward cannot be posted) is skipped and counted for every event it
fails for, pauses itself after repeated consecutive failures with the reason shown, never
stops the ingestion, and counts again once fixed and resumed."""

from __future__ import annotations

from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_gamification.health import PAUSE_AFTER
from loyalty_testing import MakeApp, enable_for, graphql

from tests.gamification import Shop

HEALTH = "status health { failures consecutiveFailures lastError pausedReason }"
DEFINITIONS = f"""
query {{
  badges(first: 50) {{ edges {{ node {{ name {HEALTH} }} }} }}
  streaks {{ name {HEALTH} }}
  challenges {{ name {HEALTH} }}
}}
"""
STREAK_UPDATE = f"""
mutation($input: StreakUpdateInput!) {{
  streakUpdate(input: $input) {{ streak {{ name {HEALTH} }} errors {{ code field }} }}
}}
"""
CHALLENGE_UPDATE = f"""
mutation($input: ChallengeUpdateInput!) {{
  challengeUpdate(input: $input) {{ challenge {{ name {HEALTH} }} errors {{ code field }} }}
}}
"""
FAILS_AT_1000 = "100 / (event.amount - 1000) > 0"


async def definitions(shop: Shop) -> dict[str, dict[str, Any]]:
    body = await graphql(shop.gateway.client, DEFINITIONS, {}, token=shop.admin)
    assert "errors" not in body, body
    data = body["data"]
    found = [edge["node"] for edge in data["badges"]["edges"]]
    return {item["name"]: item for item in [*found, *data["streaks"], *data["challenges"]]}


async def mutate(shop: Shop, query: str, name: str, **fields: Any) -> dict[str, Any]:
    body = await graphql(shop.gateway.client, query, {"input": fields}, token=shop.admin)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"][name]
    return payload


async def test_a_badge_failing_again_and_again_pauses_itself_and_resumes_once_fixed(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    fragile = await shop.badge(name="Fragile", target=100, condition=FAILS_AT_1000)
    sturdy = await shop.badge(name="Sturdy", target=100)
    mia = await shop.member()
    for n in range(PAUSE_AFTER - 1):
        await shop.ingest(mia, f"zero-{n}", amount=1000)
    await shop.ingest(mia, "works", amount=1100)
    health = (await definitions(shop))["Fragile"]
    assert (health["status"], health["health"]["failures"]) == ("ACTIVE", PAUSE_AFTER - 1)
    assert health["health"]["consecutiveFailures"] == 0

    for n in range(PAUSE_AFTER + 2):
        await shop.ingest(mia, f"again-{n}", amount=1000)

    found = await definitions(shop)
    fragile_health = found["Fragile"]
    assert fragile_health["status"] == "PAUSED"
    assert fragile_health["health"]["consecutiveFailures"] == PAUSE_AFTER
    assert fragile_health["health"]["failures"] == 2 * PAUSE_AFTER - 1
    reason = fragile_health["health"]["pausedReason"]
    assert f"{PAUSE_AFTER} consecutive failures" in reason
    assert "division" in reason.lower()
    assert found["Sturdy"]["status"] == "ACTIVE"
    progress = await shop.member_badges(mia)
    assert progress["Sturdy"]["progress"] == 2 * PAUSE_AFTER + 2
    assert "Fragile" not in progress

    refused = await shop.badge_update(id=sturdy["id"], status="PAUSED")
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID_INPUT", "status")]
    fixed = await shop.badge_update(
        id=fragile["id"], condition="event.amount > 1000", status="ACTIVE"
    )
    assert fixed["errors"] == [], fixed
    health = (await definitions(shop))["Fragile"]
    assert health["status"] == "ACTIVE"
    assert health["health"]["consecutiveFailures"] == 0
    assert health["health"]["pausedReason"] is None
    await shop.ingest(mia, "counts-again", amount=1500)
    assert (await shop.member_badges(mia))["Fragile"]["progress"] == 2


async def test_streaks_and_challenges_pause_themselves_too_and_are_resumed(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    streak = (await shop.streak(name="Fragile run", condition=FAILS_AT_1000))["streak"]
    steps = [{"name": "Big", "eventType": "purchase", "target": 50, "condition": FAILS_AT_1000}]
    challenge = (await shop.challenge(name="Fragile mission", steps=steps))["challenge"]
    mia = await shop.member()
    for n in range(PAUSE_AFTER):
        await shop.ingest(mia, f"zero-{n}", amount=1000)

    found = await definitions(shop)
    for name in ("Fragile run", "Fragile mission"):
        assert found[name]["status"] == "PAUSED", found[name]
        assert found[name]["health"]["failures"] == PAUSE_AFTER
        assert "division" in found[name]["health"]["pausedReason"].lower()

    updated = await mutate(
        shop,
        STREAK_UPDATE,
        "streakUpdate",
        id=streak["id"],
        condition="event.amount > 1000",
        status="ACTIVE",
    )
    assert updated["errors"] == [], updated
    assert updated["streak"]["health"]["pausedReason"] is None
    updated = await mutate(
        shop, CHALLENGE_UPDATE, "challengeUpdate", id=challenge["id"], status="ACTIVE"
    )
    assert updated["errors"] == [], updated
    assert updated["challenge"]["status"] == "ACTIVE"
    await shop.ingest(mia, "runs", amount=1500)
    assert (await shop.member_streaks(mia))["Fragile run"]["length"] == 1
    await shop.ingest(mia, "still-broken", amount=1000)
    mission = (await definitions(shop))["Fragile mission"]
    assert (mission["status"], mission["health"]["consecutiveFailures"]) == ("ACTIVE", 1)


async def test_a_reward_that_cannot_be_posted_pauses_the_badge_and_the_event_goes_on(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    settings = {"currencies": ["EUR"], "max_balance": 10_000}
    await enable_for(db, shop.gateway.registry, tenant, "giftcards", settings)
    await shop.badge(
        name="Too generous",
        target=1,
        repeatable=True,
        rewardEffect={"effect": "giftcards.issue_gift_card", "params": {"amount": 99_999}},
    )
    await shop.badge(name="Fine", target=1, repeatable=True, rewardPoints=1)
    mia = await shop.member()
    for n in range(PAUSE_AFTER + 1):
        await shop.ingest(mia, f"p-{n}")

    found = await definitions(shop)
    assert found["Too generous"]["status"] == "PAUSED"
    assert found["Too generous"]["health"]["failures"] == PAUSE_AFTER
    assert found["Fine"]["health"]["failures"] == 0
    badges = await shop.member_badges(mia)
    assert badges["Fine"]["earned"] == PAUSE_AFTER + 1
