"""Surprise rewards: the draw wins with its stated probability, within a statistical bound,
over many events ingested through the real gateway, is the same on a replayed trigger, and
never gives more than its budget however many events race for the last awards."""

from __future__ import annotations

import asyncio
import math
import secrets
import uuid
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_rewards.effects import draw
from loyalty_rewards.tables import budgets, redemptions
from loyalty_testing import MakeApp, graphql
from sqlalchemy import func, select

from tests.api import enrol
from tests.rewards import RewardShop

CAMPAIGN = """
mutation($input: CampaignCreateInput!) {
  campaignCreate(input: $input) { campaign { id } errors { code field message } }
}
"""
ACTIVATE = "mutation($id: ID!) { campaignActivate(id: $id) { errors { code } } }"
BATCH = """
mutation($input: EventIngestBatchInput!) {
  eventIngestBatch(input: $input) { results { replayed errors { code } } errors { code } }
}
"""


def _bound(trials: int, p: float) -> tuple[float, float]:
    """Five standard deviations either side of the binomial mean: a correct draw falls
    outside about once in two million runs."""
    spread = 5 * math.sqrt(trials * p * (1 - p))
    return trials * p - spread, trials * p + spread


def test_the_draw_is_uniform_for_any_key_and_the_same_for_a_trigger() -> None:
    key = secrets.token_bytes(32)
    triggers = [uuid.uuid4().hex for _ in range(20_000)]
    drawn = [draw(key, trigger) for trigger in triggers]
    assert all(0 <= value < 1 for value in drawn)
    for p in (0.02, 0.25, 0.5, 0.9):
        low, high = _bound(len(drawn), p)
        assert low <= sum(value < p for value in drawn) <= high, p
    assert drawn[:100] == [draw(key, trigger) for trigger in triggers[:100]]
    assert drawn[:100] != [draw(secrets.token_bytes(32), t) for t in triggers[:100]]


async def _surprise(shop: RewardShop, probability: float, budget: int) -> str:
    reward = await shop.reward(name="Surprise croissant", points=0)
    effect = {"rewardId": reward, "probability": probability, "budget": budget}
    definition = {
        "trigger": "purchase",
        "effects": [{"kind": "rewards.surprise_reward", "params": effect}],
    }
    made = await shop.admin(CAMPAIGN, {"input": {"name": "Surprise", "definition": definition}})
    campaign = made["campaignCreate"]["campaign"]["id"]
    assert (await shop.admin(ACTIVATE, {"id": campaign}))["campaignActivate"]["errors"] == []
    return reward


def _purchases(name: str, members: list[str], count: int) -> dict[str, Any]:
    events = [
        {
            "type": "purchase",
            "source": "pos-surprise",
            "externalId": f"{name}-{n}",
            "memberId": members[n % len(members)],
            "payload": {"amount": 450, "currency": "EUR"},
        }
        for n in range(count)
    ]
    return {"input": {"events": events}}


async def _ingest(shop: RewardShop, clients: list[Any], batches: list[dict[str, Any]]) -> None:
    answers = await asyncio.gather(
        *(
            graphql(clients[n % len(clients)], BATCH, batch, api_key=shop.key)
            for n, batch in enumerate(batches)
        )
    )
    results = [r for body in answers for r in body["data"]["eventIngestBatch"]["results"]]
    assert all(r["errors"] == [] for r in results)


async def _given(db: Database, tenant: Tenant, reward: str) -> int:
    async with db.tenant_transaction(tenant.id) as conn:
        found = await conn.scalar(
            select(func.count()).where(
                redemptions.c.tenant_id == tenant.id,
                redemptions.c.reward_id == uuid.UUID(reward),
            )
        )
    return int(found or 0)


async def test_a_quarter_of_four_hundred_purchases_win_within_the_bound_and_replays_add_none(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant, points=0)
    second = await make_app()
    reward = await _surprise(shop, probability=0.25, budget=10_000)
    members = [await enrol(shop.gateway.client, tenant.id, f"s{n}@example.com") for n in range(8)]
    batches = [_purchases(f"b{n}", members, 200) for n in range(2)]
    await _ingest(shop, [shop.gateway.client, second.client], batches)

    won = await _given(db, tenant, reward)
    low, high = _bound(400, 0.25)
    assert low <= won <= high, won
    await _ingest(shop, [second.client, shop.gateway.client], batches)  # the tills send again
    assert await _given(db, tenant, reward) == won


async def test_racing_events_never_win_more_than_the_budget(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant, points=0)
    second = await make_app()
    reward = await _surprise(shop, probability=0.5, budget=7)
    members = [await enrol(shop.gateway.client, tenant.id, f"r{n}@example.com") for n in range(8)]
    batches = [_purchases(f"r{n}", members[n * 2 : n * 2 + 2], 40) for n in range(4)]
    await _ingest(shop, [shop.gateway.client, second.client], batches)

    assert await _given(db, tenant, reward) == 7  # of about 80 winning draws
    async with db.tenant_transaction(tenant.id) as conn:
        awarded = await conn.scalar(
            select(budgets.c.awarded).where(budgets.c.tenant_id == tenant.id)
        )
    assert awarded == 7
