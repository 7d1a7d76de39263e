"""Helpers for tests that drive the public API: enrol members and seed points through it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, RunningGateway, admin_token, graphql

MEMBER_CREATE = """
mutation($input: MemberCreateInput!) {
  memberCreate(input: $input) { member { id } errors { code field message } }
}
"""

POINTS_ADJUST = """
mutation($input: PointsAdjustInput!) {
  pointsAdjust(input: $input) {
    transaction { id } member { balances { available } } replayed errors { code field }
  }
}
"""

API_KEY_CREATE = """
mutation($input: ApiKeyCreateInput!) {
  apiKeyCreate(input: $input) { secret errors { code } }
}
"""


async def enrol(client: httpx.AsyncClient, tenant_id: uuid.UUID, email: str) -> str:
    """A new member's id, enrolled by a tenant admin."""
    body = await graphql(
        client,
        MEMBER_CREATE,
        {"input": {"identifiers": [{"kind": "EMAIL", "value": email}]}},
        token=admin_token(tenant_id),
    )
    payload: dict[str, Any] = body["data"]["memberCreate"]
    assert payload["errors"] == [], payload
    return str(payload["member"]["id"])


async def credit(
    client: httpx.AsyncClient, tenant_id: uuid.UUID, member_id: str, points: int
) -> None:
    body = await graphql(
        client,
        POINTS_ADJUST,
        {
            "input": {
                "memberId": member_id,
                "amount": points,
                "reason": "opening balance",
                "idempotencyKey": f"seed-{uuid.uuid4()}",
            }
        },
        token=admin_token(tenant_id),
    )
    assert body["data"]["pointsAdjust"]["errors"] == [], body


async def pos_key(
    client: httpx.AsyncClient,
    tenant_id: uuid.UUID,
    scopes: tuple[str, ...] = ("EVENTS_WRITE", "MEMBERS_READ", "MEMBERS_WRITE", "POINTS_REDEEM"),
) -> str:
    body = await graphql(
        client,
        API_KEY_CREATE,
        {"input": {"name": "till", "scopes": list(scopes)}},
        token=admin_token(tenant_id),
    )
    secret: str = body["data"]["apiKeyCreate"]["secret"]
    return secret


@dataclass(frozen=True)
class Storefront:
    """A tenant's gateway with a till's key, a member (Ada) and a ``visit`` event type that
    takes any object: what tests of hostile input send their requests against."""

    gateway: RunningGateway
    tenant: Tenant
    key: str
    member: str


Front = TypeVar("Front", bound=Storefront)


async def storefront(make_app: MakeApp, tenant: Tenant, kind: type[Front]) -> Front:
    """A :class:`Storefront` (or a subclass: ``kind``, with a test's own ways of sending)."""
    gateway = await make_app()
    key = await pos_key(gateway.client, tenant.id)
    member = await enrol(gateway.client, tenant.id, "ada@example.com")
    saved = await graphql(
        gateway.client,
        "mutation($i: EventTypeSaveInput!) { eventTypeSave(input: $i) { errors { code } } }",
        {"i": {"name": "visit", "jsonSchema": {"type": "object"}}},
        token=admin_token(tenant.id),
    )
    assert saved["data"]["eventTypeSave"]["errors"] == []
    return kind(gateway, tenant, key, member)


async def available(client: httpx.AsyncClient, tenant_id: uuid.UUID, member_id: str) -> int:
    """The member's available points, as a tenant admin reads them."""
    body = await graphql(
        client,
        "query($id: ID!) { member(id: $id) { balances { available } } }",
        {"id": member_id},
        token=admin_token(tenant_id),
    )
    return int(body["data"]["member"]["balances"][0]["available"])


__all__ = [
    "API_KEY_CREATE",
    "MEMBER_CREATE",
    "POINTS_ADJUST",
    "available",
    "credit",
    "enrol",
    "pos_key",
]
