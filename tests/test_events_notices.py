"""A purchase in a currency the tenant does not earn in is stored, earns no base points, and
its sender is told why (``CURRENCY_NOT_EARNED``), through ``eventIngest`` (new and replayed),
``eventIngestBatch`` and ``POST /events``; a purchase that earns carries no notice."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, create_test_tenant, graphql

from tests.test_rules_campaigns import Shop

INGEST = """
mutation($input: EventIngestInput!) {
  eventIngest(input: $input) {
    event { id } transactions { id } replayed notices { code message } errors { code }
  }
}
"""
BATCH = """
mutation($input: EventIngestBatchInput!) {
  eventIngestBatch(input: $input) {
    results { event { id } transactions { id } notices { code message } errors { code } }
  }
}
"""


def purchase(member_id: str, currency: str, external_id: str | None = None) -> dict[str, Any]:
    return {
        "type": "purchase",
        "source": "till",
        "externalId": external_id or uuid.uuid4().hex,
        "memberId": member_id,
        "payload": {"amount": 2500, "currency": currency},
    }


async def ingest(shop: Shop, event: dict[str, Any]) -> dict[str, Any]:
    body = await graphql(shop.client, INGEST, {"input": event}, api_key=shop.key)
    result: dict[str, Any] = body["data"]["eventIngest"]
    assert result["errors"] == [], result
    return result


NOT_EARNED = {
    "code": "CURRENCY_NOT_EARNED",
    "message": "purchases in USD earn no base points: points are earned in EUR",
}


async def test_a_purchase_in_a_currency_not_earned_says_so_and_is_stored(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    member = await shop.member()

    earned = await ingest(shop, purchase(member, "EUR"))
    dollars = purchase(member, "USD")
    first = await ingest(shop, dollars)
    replay = await ingest(shop, dollars)

    assert earned["notices"] == []
    assert len(earned["transactions"]) == 1
    assert first["notices"] == [NOT_EARNED]
    assert (first["event"] is not None, first["transactions"]) == (True, [])
    assert (replay["replayed"], replay["event"], replay["notices"]) == (
        True,
        first["event"],
        [NOT_EARNED],
    )
    assert await shop.balance(member) == 25


async def test_batches_and_ndjson_carry_the_notice_on_the_event_it_concerns(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    members = [await shop.member() for _ in range(3)]
    events = [purchase(m, c) for m in members for c in ("EUR", "USD")]

    body = await graphql(shop.client, BATCH, {"input": {"events": events}}, api_key=shop.key)
    results = body["data"]["eventIngestBatch"]["results"]
    response = await shop.client.post(
        "/events",
        content=b"\n".join(orjson.dumps(purchase(m, c)) for m in members for c in ("USD", "EUR")),
        headers={"Content-Type": "application/x-ndjson", "X-Api-Key": shop.key},
    )
    lines = [orjson.loads(line) for line in response.content.splitlines()]

    assert [r["notices"] for r in results] == [[], [NOT_EARNED]] * 3
    assert all(r["errors"] == [] and r["event"] for r in results)
    assert response.status_code == 200
    assert [line["notices"] for line in lines] == [[NOT_EARNED], []] * 3
    assert all(line["errors"] == [] for line in lines)
    assert {await shop.balance(m) for m in members} == {50}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rates=st.dictionaries(
        st.sampled_from(["EUR", "USD", "CHF", "GBP"]), st.sampled_from(["0", "0.5", "1", "2"])
    ),
    currency=st.sampled_from(["EUR", "USD", "CHF", "GBP", "JPY"]),
)
async def test_the_notice_comes_exactly_when_the_currency_has_no_rate(
    make_app: MakeApp, db: Database, rates: dict[str, str], currency: str
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, await create_test_tenant(db))
    await shop.admin_call(
        "mutation($r: JSON!) { tenantUpdate(input: {earnRates: $r}) { errors { code } } }",
        {"r": rates},
    )

    result = await ingest(shop, purchase(await shop.member(), currency))

    earns = rates.get(currency, "0") != "0"
    assert [n["code"] for n in result["notices"]] == ([] if earns else ["CURRENCY_NOT_EARNED"])
    assert len(result["transactions"]) == (1 if earns else 0)
    if not earns:
        earning = sorted(code for code, rate in rates.items() if rate != "0")
        assert result["notices"][0]["message"].endswith(
            f"points are earned in {', '.join(earning)}" if earning else "no currency earns points"
        )
