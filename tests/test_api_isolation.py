"""Tenant isolation through the API: another tenant's objects are simply not there.

Every lookup with another tenant's id answers exactly as for an id that never existed, and
every mutation naming one answers NOT_FOUND and writes nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import (
    MakeApp,
    RunningGateway,
    admin_token,
    create_test_tenant,
    graphql,
    member_token,
)

from tests.api import credit, enrol, pos_key

PURCHASE = """
mutation($input: EventIngestInput!) {
  eventIngest(input: $input) { event { id } errors { code field } }
}
"""


@pytest.fixture
def missing_id() -> str:
    return str(uuid.uuid4())


async def _other_tenant(gateway: RunningGateway, db: Database) -> dict[str, Any]:
    """Tenant B with a member holding points, a purchase and an API key."""
    other = await create_test_tenant(db)
    member_id = await enrol(gateway.client, other.id, "bob@example.com")
    await credit(gateway.client, other.id, member_id, 100)
    key = await pos_key(gateway.client, other.id)
    purchase = {
        "type": "purchase",
        "source": "pos-b",
        "externalId": "b-receipt-1",
        "memberId": member_id,
        "payload": {"amount": 5000, "currency": "EUR"},
    }
    body = await graphql(gateway.client, PURCHASE, {"input": purchase}, api_key=key)
    assert body["data"]["eventIngest"]["errors"] == []
    keys = await graphql(gateway.client, "{ apiKeys { id } }", token=admin_token(other.id))
    return {"tenant": other, "member": member_id, "key_id": keys["data"]["apiKeys"][0]["id"]}


LOOKUPS = [
    ("query($id: ID!) { member(id: $id) { id } }", "member"),
    (
        "query($id: ID!) { member(id: $id) { id ledger { edges { node { id } } } } }",
        "member",
    ),
]


async def test_lookups_of_another_tenants_member_match_a_member_that_never_existed(
    make_app: MakeApp, tenant: Tenant, db: Database, missing_id: str
) -> None:
    gateway = await make_app()
    other = await _other_tenant(gateway, db)
    admin = admin_token(tenant.id)
    for query, field in LOOKUPS:
        theirs = await graphql(gateway.client, query, {"id": other["member"]}, token=admin)
        never = await graphql(gateway.client, query, {"id": missing_id}, token=admin)
        assert theirs == never == {"data": {field: None}}
    by_identifier = await graphql(
        gateway.client,
        '{ memberByIdentifier(kind: EMAIL, value: "bob@example.com") { id } }',
        token=admin,
    )
    assert by_identifier == {"data": {"memberByIdentifier": None}}
    search = await graphql(
        gateway.client, '{ members(search: "bob") { edges { node { id } } } }', token=admin
    )
    assert search == {"data": {"members": {"edges": []}}}
    viewer = await graphql(
        gateway.client,
        "{ viewer { member { id } } }",
        token=member_token(tenant.id, uuid.UUID(other["member"])),
    )
    assert viewer == {"data": {"viewer": {"member": None}}}


def _mutations(other: dict[str, Any], own_member: str) -> list[tuple[str, str, dict[str, Any]]]:
    theirs = other["member"]
    return [
        (
            "memberUpdate",
            "mutation($i: MemberUpdateInput!) { memberUpdate(input: $i) { errors { code } } }",
            {"id": theirs, "profile": {"firstName": "Mallory"}},
        ),
        (
            "pointsAdjust",
            "mutation($i: PointsAdjustInput!) { pointsAdjust(input: $i) { errors { code } } }",
            {"memberId": theirs, "amount": 10, "reason": "x", "idempotencyKey": "iso-1"},
        ),
        (
            "pointsRedeem",
            "mutation($i: PointsRedeemInput!) { pointsRedeem(input: $i) { errors { code } } }",
            {"memberId": theirs, "amount": 10, "idempotencyKey": "iso-2"},
        ),
        (
            "pointsTransfer",
            "mutation($i: PointsTransferInput!) { pointsTransfer(input: $i) { errors { code } } }",
            {
                "senderId": theirs,
                "recipientId": own_member,
                "amount": 10,
                "idempotencyKey": "iso-3",
            },
        ),
        (
            "pointsTransfer",
            "mutation($i: PointsTransferInput!) { pointsTransfer(input: $i) { errors { code } } }",
            {
                "senderId": own_member,
                "recipientId": theirs,
                "amount": 10,
                "idempotencyKey": "iso-4",
            },
        ),
        (
            "eventIngest",
            "mutation($i: EventIngestInput!) { eventIngest(input: $i) { errors { code } } }",
            {
                "type": "purchase",
                "source": "pos-a",
                "externalId": "iso-5",
                "memberId": theirs,
                "payload": {"amount": 100, "currency": "EUR"},
            },
        ),
        (
            "eventIngest",
            "mutation($i: EventIngestInput!) { eventIngest(input: $i) { errors { code } } }",
            {
                "type": "purchase",
                "source": "pos-a",
                "externalId": "iso-6",
                "identifier": {"kind": "EMAIL", "value": "bob@example.com"},
                "payload": {"amount": 100, "currency": "EUR"},
            },
        ),
        (
            "eventIngest",
            "mutation($i: EventIngestInput!) { eventIngest(input: $i) { errors { code } } }",
            {
                "type": "refund",
                "source": "pos-b",
                "externalId": "iso-7",
                "memberId": own_member,
                "payload": {"amount": 100, "currency": "EUR", "purchaseExternalId": "b-receipt-1"},
            },
        ),
        (
            "apiKeyRevoke",
            "mutation($i: ApiKeyRevokeInput!) { apiKeyRevoke(input: $i) { errors { code } } }",
            {"id": other["key_id"]},
        ),
    ]


async def test_every_mutation_naming_another_tenants_object_is_not_found(
    make_app: MakeApp, tenant: Tenant, db: Database
) -> None:
    gateway = await make_app()
    other = await _other_tenant(gateway, db)
    own_member = await enrol(gateway.client, tenant.id, "ada@example.com")
    await credit(gateway.client, tenant.id, own_member, 100)
    admin = admin_token(tenant.id)
    for name, mutation, variables in _mutations(other, own_member):
        body = await graphql(gateway.client, mutation, {"i": variables}, token=admin)
        assert body["data"][name]["errors"] == [{"code": "NOT_FOUND"}], (name, variables, body)
    untouched = await graphql(
        gateway.client,
        "query($id: ID!) { member(id: $id) { firstName balances { available } } }",
        {"id": other["member"]},
        token=admin_token(other["tenant"].id),
    )
    # 100 credited plus 50 earned by the 50.00 EUR purchase: nothing more, nothing less
    assert untouched["data"]["member"] == {"firstName": None, "balances": [{"available": 150}]}
