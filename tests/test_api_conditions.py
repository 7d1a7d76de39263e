"""A retailer's console checks a CEL condition as it is typed: `conditionCheck` answers
every problem with its line and column and writes nothing, and the errors of saving one
(campaigns, segments, a module's definitions) carry the same line and column."""

from __future__ import annotations

import uuid
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, graphql, member_token

from tests.api import enrol, pos_key
from tests.rewards import RewardShop

CHECK = """
query($e: String!, $t: String) {
  conditionCheck(expression: $e, trigger: $t) {
    valid errors { code field message line column }
  }
}
"""
CAMPAIGN_CREATE = """
mutation($c: String!) {
  campaignCreate(input: {name: "Double Saturday", definition: {
    trigger: "purchase", condition: $c,
    effects: [{kind: "points", params: {points: 10}}]}}) {
    campaign { id } errors { code field line column }
  }
}
"""
SEGMENT_CREATE = """
mutation($c: String!) {
  segmentCreate(input: {name: "regulars", condition: $c}) {
    segment { id } errors { code field line column }
  }
}
"""
COUNTS = "{ campaigns { edges { node { id } } } segments { name } }"


def _places(errors: list[dict[str, Any]]) -> list[tuple[str, str, int | None, int | None]]:
    return [(e["code"], e["field"], e["line"], e["column"]) for e in errors]


async def test_condition_check_answers_every_problem_with_its_place(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    admin = admin_token(tenant.id)

    async def check(expression: str, trigger: str | None = "purchase") -> dict[str, Any]:
        body = await graphql(gateway.client, CHECK, {"e": expression, "t": trigger}, token=admin)
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]["conditionCheck"]
        assert result["valid"] == (result["errors"] == [])
        return result

    assert await check("event.amount >= 1000 && member.totalSpend > 50") == {
        "valid": True,
        "errors": [],
    }
    assert (await check(""))["valid"]  # an empty campaign condition holds for every event
    # a syntax error on the second line, where the library reports it
    broken = await check("event.amount >= 1000 &&\n  (member.totalSpend >")
    assert _places(broken["errors"]) == [("INVALID_CONDITION", "condition", 2, 23)]
    assert broken["errors"][0]["message"].startswith("condition does not compile at line 2")
    # every unknown field at once, in the order of the text
    unknown = await check('event.payload.skux == "latte" &&\nmember.favourite > 1 || shop')
    assert _places(unknown["errors"]) == [
        ("INVALID_CONDITION", "condition", 1, 15),
        ("INVALID_CONDITION", "condition", 2, 8),
        ("INVALID_CONDITION", "condition", 2, 25),
    ]
    # columns count characters, not bytes
    assert _places((await check('"Käsekuchen" == event.sorce'))["errors"]) == [
        ("INVALID_CONDITION", "condition", 1, 23)
    ]
    # the trigger's own payload: a tenant's event type
    saved = await graphql(
        gateway.client,
        'mutation($s: JSON!) { eventTypeSave(input: {name: "review", jsonSchema: $s})'
        " { errors { code } } }",
        {"s": {"type": "object", "properties": {"stars": {"type": "integer"}}}},
        token=admin,
    )
    assert saved["data"]["eventTypeSave"]["errors"] == []
    assert (await check("event.payload.stars >= 4", "review"))["valid"]
    assert _places((await check("event.payload.star >= 4", "review"))["errors"]) == [
        ("INVALID_CONDITION", "condition", 1, 15)
    ]
    assert _places((await check("true", "revue"))["errors"]) == [
        ("UNKNOWN_EVENT_TYPE", "trigger", None, None)
    ]
    # no trigger: a segment's condition, over the member and now, never empty
    assert (await check("member.totalSpend > 5000", None))["valid"]
    assert _places((await check("event.amount > 1", None))["errors"]) == [
        ("INVALID_CONDITION", "condition", 1, 1)
    ]
    assert _places((await check("  ", None))["errors"]) == [
        ("INVALID_CONDITION", "condition", None, None)
    ]
    too_long = await check("1 == 1 && " * 250 + "true")
    assert _places(too_long["errors"]) == [("INVALID_CONDITION", "condition", None, None)]
    # nothing was saved by any of it
    body = await graphql(gateway.client, COUNTS, token=admin)
    assert body["data"] == {"campaigns": {"edges": []}, "segments": []}


async def test_condition_check_is_for_tenant_admins(make_app: MakeApp, tenant: Tenant) -> None:
    gateway = await make_app()
    member = await enrol(gateway.client, tenant.id, "mia@example.com")
    key = await pos_key(gateway.client, tenant.id)
    for credentials in (
        {"token": member_token(tenant.id, uuid.UUID(member))},
        {"api_key": key},
        {},
    ):
        body = await graphql(gateway.client, CHECK, {"e": "true", "t": None}, **credentials)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] in {"FORBIDDEN", "UNAUTHENTICATED"}


async def test_saving_a_bad_condition_answers_its_place(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant, points=0)
    client, admin = shop.gateway.client, admin_token(tenant.id)
    body = await graphql(client, CAMPAIGN_CREATE, {"c": "event.amount >\n"}, token=admin)
    assert _places(body["data"]["campaignCreate"]["errors"]) == [
        ("INVALID_CONDITION", "condition", 2, 1)
    ]
    body = await graphql(client, CAMPAIGN_CREATE, {"c": "member.totalSpnd > 1"}, token=admin)
    assert _places(body["data"]["campaignCreate"]["errors"]) == [
        ("INVALID_CONDITION", "condition", 1, 8)
    ]
    body = await graphql(client, SEGMENT_CREATE, {"c": "now > member.joined"}, token=admin)
    assert _places(body["data"]["segmentCreate"]["errors"]) == [
        ("INVALID_CONDITION", "condition", 1, 14)
    ]
    # a module's definition, checked through the SDK, answers the same way
    body = await graphql(
        client,
        "mutation($i: RewardCreateInput!) { rewardCreate(input: $i) "
        "{ errors { code field line column } } }",
        {
            "i": {
                "name": "Coffee",
                "kind": "VOUCHER",
                "voucher": {"discount": "ITEM", "itemSku": "C"},
                "segment": "member.favouriteColour == 'red'",
            }
        },
        token=admin,
    )
    assert _places(body["data"]["rewardCreate"]["errors"]) == [
        ("INVALID_CONDITION", "segment", 1, 8)
    ]
    # any other error has no place in a text
    body = await graphql(
        client,
        CAMPAIGN_CREATE,
        {"c": "true"},
        token=member_token(tenant.id, uuid.UUID(shop.member)),
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
