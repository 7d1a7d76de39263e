"""The worked examples of docs/campaigns.md, run as written: every ``graphql`` block after an
``<!-- example: name -->`` marker is sent as a tenant admin, campaigns it creates are
activated, and each example's promise is checked."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from loyalty_core.db.engine import Database
from loyalty_core.rules.schedules import run_scheduled_at
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, graphql

from tests.test_rules_campaigns import CAMPAIGN_ACTIVATE, SATURDAY, Shop

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "campaigns.md"
EXAMPLE = re.compile(
    r"^<!-- example: (?P<name>[a-z-]+) -->\n```graphql\n(?P<body>.*?)^```",
    re.MULTILINE | re.DOTALL,
)


def examples() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for match in EXAMPLE.finditer(GUIDE.read_text(encoding="utf-8")):
        found.setdefault(match["name"], []).append(match["body"])
    return found


async def _run(shop: Shop, name: str) -> None:
    for block in examples()[name]:
        body = await graphql(shop.client, block, token=admin_token(shop.tenant_id))
        assert "errors" not in body, body
        [payload] = body["data"].values()
        assert payload["errors"] == [], payload
        if "campaign" in payload:
            await shop.admin_call(CAMPAIGN_ACTIVATE, {"id": payload["campaign"]["id"]})


def test_the_guide_has_the_four_worked_examples() -> None:
    assert set(examples()) == {"double-weekend", "fifth-purchase", "birthday", "segment-extra"}


async def test_double_points_on_weekends(make_app: MakeApp, tenant: Tenant) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    await _run(shop, "double-weekend")
    member = await shop.member()
    await shop.event(member, 2550, at=SATURDAY)
    assert await shop.balance(member) == 50


async def test_five_hundred_points_on_the_fifth_purchase(make_app: MakeApp, tenant: Tenant) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant, rate="0")
    await _run(shop, "fifth-purchase")
    member = await shop.member()
    for _ in range(7):
        await shop.event(member)
    assert await shop.balance(member) == 500


async def test_birthday_bonus(make_app: MakeApp, db: Database, tenant: Tenant) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    await _run(shop, "birthday")
    body = await graphql(
        shop.client,
        'mutation { memberCreate(input: {identifiers: [{kind: EMAIL, value: "b@example.com"}],'
        ' profile: {birthDate: "1988-03-14"}}) { member { id } } }',
        token=shop.admin,
    )
    member = body["data"]["memberCreate"]["member"]["id"]
    assert await run_scheduled_at(db, tenant, datetime(2027, 3, 14, 8, tzinfo=UTC)) == 1
    assert await run_scheduled_at(db, tenant, datetime(2027, 3, 14, 9, tzinfo=UTC)) == 0
    assert await shop.balance(member) == 250


async def test_ten_percent_extra_for_a_segment(make_app: MakeApp, tenant: Tenant) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    await _run(shop, "segment-extra")
    member = await shop.member()
    await shop.event(member, 90000)  # 900 EUR: not a big spender yet
    await shop.event(member, 20000)  # 1,100 EUR in all: 200 base + 20
    assert await shop.balance(member) == 900 + 200 + 20
