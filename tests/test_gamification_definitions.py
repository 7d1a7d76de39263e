"""Badge definitions: what is refused (with a code naming the field, and nothing saved),
and a definition that fails at run time, which is skipped, counted and shown while the
ingestion goes on."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, create_test_tenant, graphql, member_token

from tests.gamification import BADGES, Shop

NOW = datetime.now(UTC)

BAD = [
    ({"condition": "event.amount >"}, "INVALID_CONDITION", "condition"),
    ({"condition": "event.payload.colour == 'red'"}, "INVALID_CONDITION", "condition"),
    ({"eventType": "teleport"}, "UNKNOWN_EVENT_TYPE", "eventType"),
    ({"target": 0}, "INVALID_INPUT", "target"),
    ({"target": -3}, "INVALID_INPUT", "target"),
    (
        {
            "period": "WINDOW",
            "startsAt": NOW.isoformat(),
            "endsAt": (NOW - timedelta(days=1)).isoformat(),
        },
        "INVALID_INPUT",
        "endsAt",
    ),
    ({"period": "WINDOW"}, "INVALID_INPUT", "startsAt"),
    ({"measure": "SUM"}, "INVALID_INPUT", "sumField"),
    ({"measure": "SUM", "sumField": "payload.weight"}, "INVALID_CONDITION", "sumField"),
    ({"sumField": "amount"}, "INVALID_INPUT", "sumField"),
    ({"dailyCap": 0}, "INVALID_INPUT", "dailyCap"),
    ({"rewardPoints": -1}, "INVALID_INPUT", "rewardPoints"),
    ({"rewardPoints": 5, "rewardAsset": "miles"}, "INVALID_INPUT", "rewardAsset"),
    ({"name": " "}, "INVALID_INPUT", "name"),
]


@pytest.mark.parametrize(("fields", "code", "field"), BAD)
async def test_a_bad_definition_is_refused_with_its_field_and_nothing_is_saved(
    make_app: MakeApp, db: Database, tenant: Tenant, fields: dict[str, Any], code: str, field: str
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    payload = await shop.badge_create(**fields)
    assert payload["badge"] is None
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == (code, field), error
    assert await shop.badges() == []


async def test_a_bad_update_changes_nothing_and_another_tenants_badge_is_not_found(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    badge = await shop.badge(name="Regular", target=3)
    payload = await shop.badge_update(id=badge["id"], target=0)
    assert [e["code"] for e in payload["errors"]] == ["INVALID_INPUT"]
    assert [b["target"] for b in await shop.badges()] == [3]

    other = await Shop.open(make_app, db, await create_test_tenant(db))
    payload = await other.badge_update(id=badge["id"], name="Mine now")
    assert [e["code"] for e in payload["errors"]] == ["NOT_FOUND"]
    assert [b["name"] for b in await shop.badges()] == ["Regular"]


async def test_a_condition_failing_at_run_time_is_skipped_counted_and_shown(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    await shop.badge(name="Fragile", target=2, condition="100 / (event.amount - 1000) > 0")
    await shop.badge(name="Sturdy", target=2)
    mia = await shop.member()
    await shop.ingest(mia, "breaks-it", amount=1000)
    await shop.ingest(mia, "fine", amount=1100)

    found = await shop.member_badges(mia)
    assert (found["Fragile"]["progress"], found["Sturdy"]["progress"]) == (1, 2)
    health = {b["name"]: b["health"] for b in await shop.badges()}
    assert health["Sturdy"] == {"failures": 0, "lastError": None}
    assert health["Fragile"]["failures"] == 1
    assert "division" in health["Fragile"]["lastError"].lower()


async def test_only_admins_define_badges_and_members_see_live_open_ones(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    await shop.badge(name="Open", target=1)
    await shop.badge(name="Hidden", target=1, secret=True)
    mia = await shop.member()
    token = member_token(tenant.id, uuid.UUID(mia))
    body = await graphql(shop.gateway.client, BADGES, {}, token=token)
    assert [e["node"]["name"] for e in body["data"]["badges"]["edges"]] == ["Open"]
    body = await graphql(
        shop.gateway.client,
        'mutation { badgeCreate(input: {name: "x", eventType: "purchase", target: 1})'
        " { errors { code } } }",
        {},
        token=token,
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
