"""A reward for a segment: a condition over the member (CEL, the SDK's conditions) checked
on save, shown and redeemable only to the members it holds for, and a condition that fails
at run time hides the reward and is counted on it, never failing the request."""

from __future__ import annotations

import uuid
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, graphql, member_token

from tests.api import available, credit
from tests.rewards import REWARD_CREATE, REWARD_REDEEM, RewardShop

MEMBER = (
    "mutation($i: MemberCreateInput!) { memberCreate(input: $i) { member { id } errors { code } } }"
)
SEGMENT = (
    "mutation($i: SegmentCreateInput!) { segmentCreate(input: $i) { errors { code message } } }"
)
BATCH = (
    "mutation($i: EventIngestBatchInput!) { eventIngestBatch(input: $i) "
    "{ results { errors { code } } } }"
)
LIST = (
    "query($first: Int, $m: ID) { rewards(first: $first, memberId: $m) "
    "{ edges { node { name segment } } pageInfo { hasNextPage } } }"
)
UPDATE = (
    "mutation($i: RewardUpdateInput!) { rewardUpdate(input: $i) "
    "{ reward { segment } errors { code field message } } }"
)
FAILING = "member.totalSpend / (member.purchaseCount - member.purchaseCount) > 0"


async def _member(shop: RewardShop, name: str, city: str) -> str:
    body = await shop.admin(
        MEMBER,
        {
            "i": {
                "identifiers": [{"kind": "EMAIL", "value": f"{name}@example.com"}],
                "attributes": {"city": city},
            }
        },
    )
    member = str(body["memberCreate"]["member"]["id"])
    await credit(shop.gateway.client, shop.tenant.id, member, 1_000)
    return member


async def _as_member(shop: RewardShop, member: str, query: str, variables: Any = None) -> Any:
    token = member_token(shop.tenant.id, uuid.UUID(member))
    body = await graphql(shop.gateway.client, query, variables, token=token)
    assert "errors" not in body, body
    return body["data"]


def _names(listed: Any) -> list[str]:
    return [edge["node"]["name"] for edge in listed["rewards"]["edges"]]


async def test_a_reward_for_a_segment_is_seen_and_redeemed_only_by_its_members(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant, points=0)
    segment = await shop.admin(
        SEGMENT, {"i": {"name": "regulars", "condition": "member.purchaseCount >= 2"}}
    )
    assert segment["segmentCreate"]["errors"] == []
    mia = await _member(shop, "mia", "Berlin")
    lukas = await _member(shop, "lukas", "Hamburg")
    purchases = [
        {
            "type": "purchase",
            "source": "pos-1",
            "externalId": f"p-{n}",
            "memberId": mia,
            "payload": {"amount": 450, "currency": "EUR"},
        }
        for n in range(2)
    ]
    ingested = await shop.till(BATCH, {"i": {"events": purchases}})
    assert all(r["errors"] == [] for r in ingested["eventIngestBatch"]["results"])
    regulars = await shop.reward(name="Regulars", segment='"regulars" in member.segments')
    await shop.reward(name="Berliners", segment='member.attributes.city == "Berlin"')
    await shop.reward(name="Everyone")
    broken = await shop.reward(name="Broken", segment=FAILING)

    assert _names(await _as_member(shop, mia, LIST)) == ["Everyone", "Berliners", "Regulars"]
    lukas_sees = await _as_member(shop, lukas, LIST, {"first": 1})
    assert _names(lukas_sees) == ["Everyone"]
    assert lukas_sees["rewards"]["pageInfo"]["hasNextPage"] is False
    assert _names(await shop.till(LIST, {"m": mia})) == ["Everyone", "Berliners", "Regulars"]
    assert _names(await shop.till(LIST)) == ["Everyone"]  # a till for no member in particular
    edges = (await shop.till(LIST, {"m": mia}))["rewards"]["edges"]
    assert [edge["node"]["segment"] for edge in edges] == [None] * 3  # admins' business
    one = "query($id: ID!) { reward(id: $id) { name } }"
    assert (await _as_member(shop, lukas, one, {"id": regulars}))["reward"] is None
    assert (await _as_member(shop, mia, one, {"id": regulars}))["reward"]["name"] == "Regulars"

    refused = await _as_member(
        shop, lukas, REWARD_REDEEM, {"i": {"rewardId": regulars, "idempotencyKey": "l-1"}}
    )
    assert refused["rewardRedeem"]["errors"][0]["code"] == "REWARD_UNAVAILABLE"
    assert await available(shop.gateway.client, tenant.id, lukas) == 1_000
    by_till = await shop.till(
        REWARD_REDEEM, {"i": {"rewardId": regulars, "memberId": lukas, "idempotencyKey": "l-2"}}
    )
    assert by_till["rewardRedeem"]["errors"][0]["code"] == "REWARD_UNAVAILABLE"
    redeemed = await _as_member(
        shop, mia, REWARD_REDEEM, {"i": {"rewardId": regulars, "idempotencyKey": "m-1"}}
    )
    assert redeemed["rewardRedeem"]["errors"] == []

    # The broken condition hid its reward from every member who looked, counted each time.
    seen = await shop.admin(
        "query($id: ID!) { reward(id: $id) { segment segmentFailures segmentError } }",
        {"id": broken},
    )
    assert seen["reward"]["segment"] == FAILING
    assert seen["reward"]["segmentFailures"] == 4
    assert "ivision" in seen["reward"]["segmentError"]
    assert len(_names(await shop.admin(LIST))) == 4
    await shop.reconciles()


async def test_a_segment_is_checked_when_a_reward_is_saved(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant)
    spec = {"name": "Coffee", "kind": "VOUCHER", "voucher": {"discount": "ITEM", "itemSku": "C"}}
    for condition in (
        "member.",  # does not compile
        "member.favouriteColour == 'red'",  # no such field
        "member.eventCount > 3",  # counts a trigger's events: there is none
        "event.amount > 1000",  # no event either
    ):
        body = await graphql(
            shop.gateway.client,
            REWARD_CREATE,
            {"i": spec | {"segment": condition}},
            token=admin_token(tenant.id),
        )
        errors = body["data"]["rewardCreate"]["errors"]
        assert [(e["code"], e["field"]) for e in errors] == [("INVALID_CONDITION", "segment")], (
            condition,
            errors,
        )
    reward = await shop.reward(segment="member.totalSpend >= 5000")
    bad = await shop.admin(UPDATE, {"i": {"id": reward, "segment": "member.totalSpend >="}})
    assert bad["rewardUpdate"]["errors"][0]["code"] == "INVALID_CONDITION"
    cleared = await shop.admin(UPDATE, {"i": {"id": reward, "segment": "  "}})
    assert cleared["rewardUpdate"] == {"reward": {"segment": None}, "errors": []}
