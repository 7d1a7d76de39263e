"""Segments: CEL over member attributes and aggregates, computed on demand, used as campaign
targets and in conditions (``member.segments``)."""

from __future__ import annotations

import uuid
from typing import Any

from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, graphql, member_token

from tests.test_rules_campaigns import Shop

SEGMENT_CREATE = """
mutation($input: SegmentCreateInput!) {
  segmentCreate(input: $input) { segment { id name condition } errors { code field message } }
}
"""
SEGMENT_UPDATE = """
mutation($input: SegmentUpdateInput!) {
  segmentUpdate(input: $input) { segment { condition } errors { code field message } }
}
"""
SEGMENT_DELETE = """
mutation($id: ID!) { segmentDelete(id: $id) { deletedId errors { code } } }
"""


async def _segment(shop: Shop, name: str, condition: str) -> dict[str, Any]:
    data = await shop.admin_call(SEGMENT_CREATE, {"input": {"name": name, "condition": condition}})
    payload: dict[str, Any] = data["segmentCreate"]
    return payload


async def test_a_segment_targets_a_campaign_and_follows_the_member_s_spend(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant, rate="1")
    created = await _segment(shop, "big-spenders", "member.totalSpend >= 10000")
    assert created["errors"] == []
    await shop.campaign(
        "10% extra for big spenders",
        effects=[{"kind": "multiplier", "params": {"factor": "1.1"}}],
        segments=["big-spenders"],
    )
    member = await shop.member()
    await shop.event(member, 6000)  # spend 60: not yet in the segment
    await shop.event(member, 5000)  # spend 110 including this purchase: 10% of 50 extra
    assert await shop.balance(member) == 60 + 50 + 5

    segment_id = created["segment"]["id"]
    await shop.admin_call(
        SEGMENT_UPDATE, {"input": {"id": segment_id, "condition": "member.totalSpend >= 1000000"}}
    )
    await shop.event(member, 5000)
    assert await shop.balance(member) == 60 + 50 + 5 + 50
    data = await shop.admin_call(SEGMENT_DELETE, {"id": segment_id})
    assert data["segmentDelete"] == {"deletedId": segment_id, "errors": []}
    data = await shop.admin_call("{ segments { name } }")
    assert data["segments"] == []


async def test_conditions_see_the_member_s_segments(make_app: MakeApp, tenant: Tenant) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant, rate="0")
    await _segment(shop, "vip", 'member.attributes.tier == "gold"')
    await shop.campaign(points=15, condition='"vip" in member.segments')
    vip = await shop.member()
    await shop.admin_call(
        'mutation($id: ID!) { memberUpdate(input: {id: $id, attributes: {tier: "gold"}})'
        " { errors { code } } }",
        {"id": vip},
    )
    regular = await shop.member()
    await shop.event(vip)
    await shop.event(regular)
    assert (await shop.balance(vip), await shop.balance(regular)) == (15, 0)


async def test_bad_segments_are_refused(make_app: MakeApp, tenant: Tenant) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    assert (await _segment(shop, "ok", "member.purchaseCount > 2"))["errors"] == []
    cases = [
        ("ok", "member.purchaseCount > 3", "ALREADY_EXISTS", "name"),
        ("Bad Name", "true", "INVALID_INPUT", "name"),
        ("event-based", "event.amount > 3", "INVALID_CONDITION", "condition"),
        ("typo", "member.purchaseCont > 3", "INVALID_CONDITION", "condition"),
        ("broken", "member.totalSpend >", "INVALID_CONDITION", "condition"),
    ]
    for name, condition, code, field in cases:
        [error] = (await _segment(shop, name, condition))["errors"]
        assert (error["code"], error["field"]) == (code, field), name
    [unknown] = await shop.try_campaign(segments=["nobody"])
    assert (unknown["code"], unknown["field"]) == ("NOT_FOUND", "segments.0")


ACTIVE_CAMPAIGNS = "query($id: ID!) { member(id: $id) { activeCampaigns { name trigger endsAt } } }"


async def test_a_member_sees_the_campaigns_running_now_that_target_them(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant, rate="1")
    assert (await _segment(shop, "big-spenders", "member.totalSpend >= 10000"))["errors"] == []
    await shop.campaign("Birthday treat", trigger="schedule.birthday")
    await shop.campaign("Weekend", window={"endsAt": "2099-01-01T00:00:00Z"})
    await shop.campaign("Big spenders", segments=["big-spenders"])
    await shop.campaign("Draft", activate=False)
    await shop.campaign("Over", window={"endsAt": "2020-01-01T00:00:00Z"})
    await shop.campaign("Not yet", window={"startsAt": "2098-01-01T00:00:00Z"})
    member = await shop.member()

    async def offers() -> list[dict[str, Any]]:
        body = await graphql(gateway.client, ACTIVE_CAMPAIGNS, {"id": member}, api_key=shop.key)
        assert "errors" not in body, body
        found: list[dict[str, Any]] = body["data"]["member"]["activeCampaigns"]
        return found

    assert await offers() == [
        {"name": "Birthday treat", "trigger": "schedule.birthday", "endsAt": None},
        {"name": "Weekend", "trigger": "purchase", "endsAt": "2099-01-01T00:00:00+00:00"},
    ]
    await shop.event(member, 12000)  # now a big spender
    assert [offer["name"] for offer in await offers()] == [
        "Big spenders",
        "Birthday treat",
        "Weekend",
    ]
    own = await graphql(
        gateway.client,
        ACTIVE_CAMPAIGNS,
        {"id": member},
        token=member_token(tenant.id, uuid.UUID(member)),
    )
    assert len(own["data"]["member"]["activeCampaigns"]) == 3
