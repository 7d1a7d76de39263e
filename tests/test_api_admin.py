"""What tenant admins, members and tills can do through the API beyond the ledger basics."""

from __future__ import annotations

import uuid

from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, graphql, member_token

from tests.api import available, credit, enrol, pos_key

INGEST = """
mutation($i: EventIngestInput!) {
  eventIngest(input: $i) { transactions { kind } errors { code field } }
}
"""


def _purchase(member_id: str, external_id: str, amount: int) -> dict[str, object]:
    return {
        "i": {
            "type": "purchase",
            "source": "pos-1",
            "externalId": external_id,
            "memberId": member_id,
            "payload": {"amount": amount, "currency": "EUR"},
        }
    }


async def test_changed_earn_rate_applies_to_the_next_purchase(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    admin = admin_token(tenant.id)
    member = await enrol(gateway.client, tenant.id, "ada@example.com")
    key = await pos_key(gateway.client, tenant.id)
    await graphql(gateway.client, INGEST, _purchase(member, "r-1", 1000), api_key=key)
    body = await graphql(
        gateway.client,
        'mutation { tenantUpdate(input: {earnRates: {EUR: "2.5"}, name: "Cafe"}) '
        "{ tenant { name settings } errors { code } } }",
        token=admin,
    )
    assert body["data"]["tenantUpdate"]["tenant"]["settings"] == {"earnRates": {"EUR": "2.5"}}
    await graphql(gateway.client, INGEST, _purchase(member, "r-2", 1000), api_key=key)
    assert await available(gateway.client, tenant.id, member) == 10 + 25


async def test_an_extra_asset_can_be_defined_and_its_policy_changed(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    admin = admin_token(tenant.id)
    created = await graphql(
        gateway.client,
        'mutation { assetCreate(input: {code: "stamps", name: "Coffee stamps", expiryDays: 90})'
        " { asset { code kind expiryDays pendingDays } errors { code field } } }",
        token=admin,
    )
    assert created["data"]["assetCreate"] == {
        "asset": {"code": "stamps", "kind": "POINTS", "expiryDays": 90, "pendingDays": 0},
        "errors": [],
    }
    again = await graphql(
        gateway.client,
        'mutation { assetCreate(input: {code: "stamps", name: "Again"})'
        " { errors { code field } } }",
        token=admin,
    )
    assert again["data"]["assetCreate"]["errors"] == [{"code": "ALREADY_EXISTS", "field": "code"}]
    updated = await graphql(
        gateway.client,
        'mutation { assetUpdate(input: {code: "stamps", expiryDays: null, pendingDays: 14})'
        " { asset { expiryDays pendingDays } errors { code } } }",
        token=admin,
    )
    assert updated["data"]["assetUpdate"]["asset"] == {"expiryDays": None, "pendingDays": 14}
    assets = await graphql(gateway.client, "{ tenant { assets { code } } }", token=admin)
    assert [a["code"] for a in assets["data"]["tenant"]["assets"]] == ["points", "stamps"]


async def test_a_revoked_api_key_stops_working_at_once(make_app: MakeApp, tenant: Tenant) -> None:
    gateway = await make_app()
    admin = admin_token(tenant.id)
    key = await pos_key(gateway.client, tenant.id)
    listed = await graphql(gateway.client, "{ apiKeys { id } }", token=admin)
    key_id = listed["data"]["apiKeys"][0]["id"]
    assert (await graphql(gateway.client, "{ tenant { slug } }", api_key=key))["data"]
    revoked = await graphql(
        gateway.client,
        "mutation($id: ID!) { apiKeyRevoke(input: {id: $id})"
        " { apiKey { revokedAt } errors { code } } }",
        {"id": key_id},
        token=admin,
    )
    assert revoked["data"]["apiKeyRevoke"]["apiKey"]["revokedAt"]
    response = await gateway.client.post(
        "/graphql", json={"query": "{ tenant { slug } }"}, headers={"X-Api-Key": key}
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_member_changes_their_own_profile_but_not_their_status(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    member = await enrol(gateway.client, tenant.id, "ada@example.com")
    own = member_token(tenant.id, uuid.UUID(member))
    changed = await graphql(
        gateway.client,
        "mutation($i: MemberUpdateInput!) { memberUpdate(input: $i) "
        "{ member { firstName attributes } errors { code } } }",
        {"i": {"id": member, "profile": {"firstName": "Ada"}, "attributes": {"newsletter": True}}},
        token=own,
    )
    assert changed["data"]["memberUpdate"]["member"] == {
        "firstName": "Ada",
        "attributes": {"newsletter": True},
    }
    refused = await graphql(
        gateway.client,
        "mutation($i: MemberUpdateInput!) { memberUpdate(input: $i) { errors { code } } }",
        {"i": {"id": member, "status": "BLOCKED"}},
        token=own,
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_member_gives_points_to_a_friend_and_sees_only_their_own_account(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    giver = await enrol(gateway.client, tenant.id, "ada@example.com")
    friend = await enrol(gateway.client, tenant.id, "bob@example.com")
    await credit(gateway.client, tenant.id, giver, 50)
    own = member_token(tenant.id, uuid.UUID(giver))
    body = await graphql(
        gateway.client,
        "mutation($i: PointsTransferInput!) { pointsTransfer(input: $i) "
        "{ sender { balances { available } } recipient { id } errors { code } } }",
        {"i": {"recipientId": friend, "amount": 20, "idempotencyKey": "gift-1"}},
        token=own,
    )
    payload = body["data"]["pointsTransfer"]
    assert payload["errors"] == []
    assert payload["sender"] == {"balances": [{"available": 30}]}
    assert payload["recipient"] is None  # the friend's account is not the giver's to see
    assert await available(gateway.client, tenant.id, friend) == 20
    listing = await graphql(gateway.client, "{ members { edges { node { id } } } }", token=own)
    assert listing["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_blocked_member_neither_earns_nor_redeems(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    member = await enrol(gateway.client, tenant.id, "ada@example.com")
    await credit(gateway.client, tenant.id, member, 50)
    key = await pos_key(gateway.client, tenant.id)
    await graphql(
        gateway.client,
        "mutation($i: MemberUpdateInput!) { memberUpdate(input: $i) { errors { code } } }",
        {"i": {"id": member, "status": "BLOCKED"}},
        token=admin_token(tenant.id),
    )
    earn = await graphql(gateway.client, INGEST, _purchase(member, "r-1", 1000), api_key=key)
    assert earn["data"]["eventIngest"]["errors"] == [
        {"code": "MEMBER_NOT_ACTIVE", "field": "memberId"}
    ]
    redeem = await graphql(
        gateway.client,
        "mutation($i: PointsRedeemInput!) { pointsRedeem(input: $i) { errors { code } } }",
        {"i": {"memberId": member, "amount": 5, "idempotencyKey": "k"}},
        api_key=key,
    )
    assert redeem["data"]["pointsRedeem"]["errors"] == [{"code": "MEMBER_NOT_ACTIVE"}]
