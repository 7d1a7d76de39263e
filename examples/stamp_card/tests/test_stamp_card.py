"""The stamp card through the real gateway, enabled for one tenant only."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from loyalty_core.sdk import Tenant
from loyalty_testing import (
    EnableModule,
    MakeApp,
    RunningGateway,
    TillKey,
    admin_token,
    create_test_tenant,
    graphql,
    member_token,
)

INGEST = """
mutation($input: EventIngestInput!) {
  eventIngest(input: $input) { replayed transactions { id } errors { code } }
}
"""
CARD = """
query($id: ID!) {
  member(id: $id) {
    stampCard { stamps stampsPerCard completed }
    balances { available }
  }
}
"""
RESET = """
mutation($id: ID!) { stampCardReset(input: {memberId: $id}) { reset errors { code } } }
"""
SETTINGS = {"minimumAmount": 1000, "currency": "EUR", "stampsPerCard": 3, "rewardPoints": 50}


def _purchase(member: uuid.UUID, amount: int, currency: str = "EUR") -> dict[str, Any]:
    payload = {"amount": amount, "currency": currency}
    return {
        "type": "purchase",
        "source": "till-1",
        "externalId": uuid.uuid4().hex,
        "memberId": str(member),
        "payload": payload,
    }


async def _ingest(gateway: RunningGateway, key: str, event: dict[str, Any]) -> dict[str, Any]:
    body = await graphql(gateway.client, INGEST, {"input": event}, api_key=key)
    result: dict[str, Any] = body["data"]["eventIngest"]
    assert result["errors"] == [], body
    return result


async def _card(gateway: RunningGateway, tenant: Tenant, member: uuid.UUID) -> dict[str, Any]:
    body = await graphql(gateway.client, CARD, {"id": str(member)}, token=admin_token(tenant.id))
    found: dict[str, Any] = body["data"]["member"]
    return found


@pytest.fixture
async def enabled(enable_module: EnableModule, tenant: Tenant) -> Tenant:
    await enable_module(tenant, "stamp_card", SETTINGS)
    return tenant


async def test_a_full_card_earns_points_and_starts_a_new_card(
    make_app: MakeApp, enabled: Tenant, member: uuid.UUID, till_key: TillKey
) -> None:
    gateway = await make_app()
    key = await till_key(enabled)
    for amount in (1000, 2500):
        await _ingest(gateway, key, _purchase(member, amount))
    before = await _card(gateway, enabled, member)
    assert before["stampCard"] == {"stamps": 2, "stampsPerCard": 3, "completed": 0}
    filled = await _ingest(gateway, key, _purchase(member, 1200))
    assert len(filled["transactions"]) == 2  # the tenant's base earn and the card's reward
    after = await _card(gateway, enabled, member)
    assert after["stampCard"] == {"stamps": 0, "stampsPerCard": 3, "completed": 1}
    earned = after["balances"][0]["available"] - before["balances"][0]["available"]
    assert earned == 12 + 50  # a point per euro (the tenant's default rate), and the reward


async def test_small_purchases_other_currencies_and_replays_earn_no_stamp(
    make_app: MakeApp, enabled: Tenant, member: uuid.UUID, till_key: TillKey
) -> None:
    gateway = await make_app()
    key = await till_key(enabled)
    counted = _purchase(member, 1000)
    await _ingest(gateway, key, counted)
    await _ingest(gateway, key, _purchase(member, 999))
    await _ingest(gateway, key, _purchase(member, 5000, currency="USD"))
    assert (await _ingest(gateway, key, counted))["replayed"] is True
    card = await _card(gateway, enabled, member)
    assert card["stampCard"]["stamps"] == 1


async def test_an_admin_resets_a_card_and_a_member_sees_only_its_own(
    make_app: MakeApp, enabled: Tenant, member: uuid.UUID, till_key: TillKey
) -> None:
    gateway = await make_app()
    await _ingest(gateway, await till_key(enabled), _purchase(member, 1000))
    own = await graphql(
        gateway.client, CARD, {"id": str(member)}, token=member_token(enabled.id, member)
    )
    assert own["data"]["member"]["stampCard"]["stamps"] == 1
    refused = await graphql(
        gateway.client, RESET, {"id": str(member)}, token=member_token(enabled.id, member)
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    reset = await graphql(gateway.client, RESET, {"id": str(member)}, token=admin_token(enabled.id))
    assert reset["data"]["stampCardReset"] == {"reset": True, "errors": []}
    assert (await _card(gateway, enabled, member))["stampCard"]["stamps"] == 0


async def test_a_tenant_that_has_not_enabled_it_sees_no_stamp_card(
    make_app: MakeApp, enabled: Tenant, db: Any
) -> None:
    gateway = await make_app()
    other = await create_test_tenant(db)
    body = await graphql(
        gateway.client, CARD, {"id": str(uuid.uuid4())}, token=admin_token(other.id)
    )
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
