"""Reporting to a partner: the money it owes per offer and day, as clearing charged it (fees
included) net of what refunds credited back, equals its account's lines for the offer; the
same in the CSV, also as a download with the partner's key; the retailer's own offers owe
nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, graphql

from tests.api import pos_key
from tests.clearing import INGEST
from tests.partner_offers import Programme, offer_input

REPORT = """query($since: Date!, $until: Date!) {
  offerPerformance(since: $since, until: $until) {
    rows { offerId day redemptions pointsAwarded pointsReversed moneyOwed currency } csv } }"""
MOVEMENTS = """query($id: ID!) { partner(id: $id) {
  movements(first: 100) { edges { node { kind points amount currency } } } } }"""


async def _ingest(town: Programme, till: str, event: dict[str, Any]) -> None:
    body = await graphql(town.gateway.client, INGEST, {"input": event}, api_key=till)
    assert body["data"]["eventIngest"]["errors"] == [], body


async def test_the_money_a_partner_owes_per_offer_and_day_equals_its_account_net_of_refunds(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Programme.start(make_app, db, tenant)
    cinema = await town.partner("Cinema", issue="0.02")
    drugstore = await town.partner("Drugstore", issue="0.013")
    await town.rate(  # a later card with a 10 % fee on each movement's money
        drugstore, "0.013", "0", effective_from=datetime(2021, 1, 1, tzinfo=UTC), feePercent="10"
    )
    tickets = await town.create(offer_input("Tickets", value="90"), partnerId=cinema)
    shampoo = await town.create(offer_input("Shampoo", value="41"), partnerId=drugstore)
    own = await town.create(offer_input("Our own", value="7"))
    member = await town.member()
    till = await pos_key(town.gateway.client, tenant.id)  # the retailer's: no base charged
    now = datetime.now(UTC)
    purchase = {"type": "purchase", "source": "till-1", "memberId": member,
                "occurredAt": now.isoformat()}  # fmt: skip
    await _ingest(town, till, {**purchase, "externalId": "basket-1",
                               "payload": {"amount": 3_000, "currency": "EUR"}})  # fmt: skip
    await _ingest(town, till, {**purchase, "type": "refund", "externalId": uuid.uuid4().hex,
                               "payload": {"amount": 1_000, "currency": "EUR",
                                           "purchaseExternalId": "basket-1"}})  # fmt: skip

    day = now.astimezone(ZoneInfo(tenant.timezone)).date().isoformat()
    report = await town.admin(REPORT, {"since": day, "until": day})
    rows = {r["offerId"]: r for r in report["data"]["offerPerformance"]["rows"]}
    for offer, partner in ((tickets, cinema), (shampoo, drugstore)):
        lines = await town.admin(MOVEMENTS, {"id": partner})
        account = [e["node"] for e in lines["data"]["partner"]["movements"]["edges"]]
        assert {line["kind"] for line in account} <= {"FUNDED", "FEE", "REVERSAL"}
        row = rows[offer["id"]]
        assert row["pointsReversed"] == row["pointsAwarded"] // 3  # a third refunded
        assert row["moneyOwed"] == -sum(line["amount"] for line in account)
        assert row["currency"] == "EUR"
    # 90 points at 2 cents, a third credited back: 180 - 60
    assert rows[tickets["id"]]["moneyOwed"] == 120
    # 41 points at 1.3 cents (53.3 -> 53) and its 10 % fee (5), 13 points back with theirs
    assert rows[shampoo["id"]]["moneyOwed"] == 53 + 5 - 17 - 2
    assert (rows[own["id"]]["moneyOwed"], rows[own["id"]]["currency"]) == (0, None)
    csv = report["data"]["offerPerformance"]["csv"].splitlines()
    assert csv[0].endswith(",money_owed,currency")
    assert any(line.endswith(",1.20,EUR") and tickets["id"] in line for line in csv)

    partner_view = await town.as_partner("Cinema", REPORT, {"since": day, "until": day})
    assert [r["moneyOwed"] for r in partner_view["data"]["offerPerformance"]["rows"]] == [120]

    # the same as a download, with the partner's key: its own offer's rows only
    url = f"/modules/partner_offers/performance.csv?since={day}&until={day}"
    client = town.gateway.client
    download = await client.get(url, headers={"X-Api-Key": town.keys["Cinema"]})
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert download.text == partner_view["data"]["offerPerformance"]["csv"]
    assert len(download.text.splitlines()) == 2
    assert ",1.20,EUR" in download.text
    everything = await client.get(
        url, headers={"Authorization": f"Bearer {admin_token(tenant.id)}"}
    )
    assert everything.text == report["data"]["offerPerformance"]["csv"]
    one = await client.get(f"{url}&offerId={shampoo['id']}", headers={
        "Authorization": f"Bearer {admin_token(tenant.id)}"})  # fmt: skip
    assert len(one.text.splitlines()) == 2
    assert shampoo["id"] in one.text
    bad = await client.get(url.replace(day, "yesterday", 1), headers={
        "X-Api-Key": town.keys["Cinema"]})  # fmt: skip
    assert (bad.status_code, bad.json()["field"]) == (400, "since")
    assert (await client.get(url)).status_code == 401
