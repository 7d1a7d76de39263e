"""A reward of kind GIFT_CARD, offered by the gift cards module through the rewards hook
(``loyalty_rewards_kinds``) without either module importing the other: redeemed for points it
issues the member a card in the same transaction, a replay finds the same card, cancelling
takes the card back and returns the points, and a card already spent from stays."""

from __future__ import annotations

import uuid
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, enable_for, graphql, member_token

from tests.rewards import REWARD_CREATE, RewardShop
from tests.test_giftcards_api import MOVES, SETTINGS
from tests.test_rewards_surprise import ACTIVATE, CAMPAIGN

CARDS = "query($id: ID!) { member(id: $id) { giftCards { id status balance currency } } }"
REVEAL = "mutation($id: ID!) { giftCardReveal(input: {id: $id}) { code errors { code message } } }"
ISSUED = {"name": "A 10 EUR gift card", "kind": "GIFT_CARD", "points": 500}
INGEST = """
mutation($input: EventIngestInput!) { eventIngest(input: $input) { errors { code message } } }
"""


async def _shop(make_app: MakeApp, db: Database, tenant: Tenant) -> RewardShop:
    shop = await RewardShop.open(make_app, db, tenant, points=1_200)
    await enable_for(db, shop.gateway.registry, tenant, "giftcards", SETTINGS)
    await shop.gateway.state.notifier.sync()
    return shop


async def _points(shop: RewardShop) -> int:
    """The member's available points (the card's euros are a balance of their own)."""
    body = await shop.admin(
        "query($id: ID!) { member(id: $id) { balances { asset { code } available } } }",
        {"id": shop.member},
    )
    found = body["member"]["balances"]
    return next(int(b["available"]) for b in found if b["asset"]["code"] == "points")


async def _cards(shop: RewardShop) -> list[dict[str, Any]]:
    return list((await shop.till(CARDS, {"id": shop.member}))["member"]["giftCards"])


async def test_a_gift_card_reward_issues_a_card_and_cancelling_takes_it_back(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await _shop(make_app, db, tenant)
    reward = await shop.reward(
        **ISSUED, params={"amount": 1_000, "currency": "EUR"}, cancelWindowMinutes=60
    )
    redeemed = await shop.redeem(reward, key="card-1")
    assert redeemed["errors"] == [], redeemed
    replay = await shop.redeem(reward, key="card-1")
    assert (replay["replayed"], replay["redemption"]["id"]) == (True, redeemed["redemption"]["id"])
    cards = await _cards(shop)
    assert [(c["status"], c["balance"], c["currency"]) for c in cards] == [("ACTIVE", 1_000, "EUR")]
    issued = await shop.admin(
        "query($id: ID!) { member(id: $id) { rewardRedemptions { issued } } }", {"id": shop.member}
    )
    assert issued["member"]["rewardRedemptions"][0]["issued"] == f"giftcard:{cards[0]['id']}"
    assert await _points(shop) == 700
    # The member sees the code, as with any card issued to them.
    token = member_token(tenant.id, uuid.UUID(shop.member))
    revealed = await graphql(shop.gateway.client, REVEAL, {"id": cards[0]["id"]}, token=token)
    assert revealed["data"]["giftCardReveal"]["code"]

    cancelled = await shop.cancel(redeemed["redemption"]["id"])
    assert (cancelled["errors"], cancelled["redemption"]["status"]) == ([], "CANCELLED")
    assert [(c["status"], c["balance"]) for c in await _cards(shop)] == [("CANCELLED", 0)]
    assert await _points(shop) == 1_200
    await shop.reconciles()


async def test_a_card_spent_from_cannot_be_taken_back(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await _shop(make_app, db, tenant)
    reward = await shop.reward(
        **ISSUED, params={"amount": 1_000, "currency": "EUR"}, cancelWindowMinutes=60
    )
    redeemed = await shop.redeem(reward)
    card = (await _cards(shop))[0]
    token = member_token(tenant.id, uuid.UUID(shop.member))
    code = (await graphql(shop.gateway.client, REVEAL, {"id": card["id"]}, token=token))["data"][
        "giftCardReveal"
    ]["code"]
    spent = await shop.till(
        MOVES["giftCardRedeem"], {"input": {"code": code, "amount": 250, "idempotencyKey": "t-1"}}
    )
    assert spent["giftCardRedeem"]["errors"] == []

    refused = await shop.cancel(redeemed["redemption"]["id"])
    assert refused["errors"][0]["code"] == "INVALID_FULFILMENT_STATE"
    assert "already used" in refused["errors"][0]["message"]
    assert [(c["status"], c["balance"]) for c in await _cards(shop)] == [("ACTIVE", 750)]
    assert await _points(shop) == 700
    await shop.reconciles()


async def test_the_kind_is_checked_on_save_and_offered_only_with_gift_cards(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant)
    unknown = await shop.admin(REWARD_CREATE, {"i": ISSUED | {"params": {"amount": 1_000}}})
    assert unknown["rewardCreate"]["errors"][0]["field"] == "kind"

    await enable_for(db, shop.gateway.registry, tenant, "giftcards", SETTINGS)
    await shop.gateway.state.notifier.sync()
    for params in ({"amount": 0}, {"amount": 1_000, "currency": "EURO"}, {}):
        bad = await shop.admin(REWARD_CREATE, {"i": ISSUED | {"params": params}})
        assert bad["rewardCreate"]["errors"][0]["field"] == "params", (params, bad)
    too_much = await shop.reward(**ISSUED, params={"amount": 1_000_000, "currency": "EUR"})
    refused = await shop.redeem(too_much)  # above the tenant's max_balance: nothing happens
    assert refused["errors"][0]["code"] == "INVALID_INPUT"
    assert await _cards(shop) == []
    assert await _points(shop) == 1_000


async def test_a_campaign_gives_a_gift_card_reward_on_the_spot(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await _shop(make_app, db, tenant)
    reward = await shop.reward(**{**ISSUED, "points": 0}, params={"amount": 500, "currency": "EUR"})
    definition = {
        "trigger": "purchase",
        "effects": [{"kind": "rewards.give_reward", "params": {"rewardId": reward}}],
    }
    made = await shop.admin(
        CAMPAIGN, {"input": {"name": "Card on the spot", "definition": definition}}
    )
    campaign = made["campaignCreate"]["campaign"]["id"]
    assert (await shop.admin(ACTIVATE, {"id": campaign}))["campaignActivate"]["errors"] == []
    purchase = {
        "type": "purchase",
        "source": "till-1",
        "externalId": "card-on-the-spot",
        "memberId": shop.member,
        "payload": {"amount": 2_000, "currency": "EUR"},
    }
    for _ in range(2):  # the replay gives nothing more
        ingested = await shop.till(INGEST, {"input": purchase})
        assert ingested["eventIngest"]["errors"] == []

    cards = await _cards(shop)
    assert [(c["status"], c["balance"], c["currency"]) for c in cards] == [("ACTIVE", 500, "EUR")]
