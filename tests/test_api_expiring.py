"""What a member's app shows as "expiring soon": `Balance.expiring` reads the ledger's lots,
so it follows what redemptions spend (first-expiring first) and every asset's own policy."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, graphql, member_token

from tests.api import credit, enrol
from tests.test_gateway_ws import initialised, receive, subscribe

ASSET_UPDATE = """
mutation($days: Int!) {
  assetUpdate(input: {code: "points", expiryDays: $days}) { errors { code } }
}
"""
REDEEM = """
mutation($id: ID!) {
  pointsRedeem(input: {memberId: $id, amount: 30, idempotencyKey: "coffee-1"}) {
    errors { code }
  }
}
"""
EXPIRING = """
query($id: ID!) {
  member(id: $id) {
    balances {
      asset { code }
      available
      expiring { amount on at }
      later: expiring(withinDays: 90) { amount }
    }
  }
}
"""


async def _earn(gateway: Any, tenant: Tenant, member: str, points: int, days: int) -> None:
    """Credit ``points`` that expire ``days`` days after earn."""
    body = await graphql(gateway.client, ASSET_UPDATE, {"days": days}, token=admin_token(tenant.id))
    assert body["data"]["assetUpdate"]["errors"] == []
    await credit(gateway.client, tenant.id, member, points)


async def test_expiring_points_are_grouped_by_day_and_follow_redemptions(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    admin = admin_token(tenant.id)
    mia = await enrol(gateway.client, tenant.id, "mia@example.com")
    lukas = await enrol(gateway.client, tenant.id, "lukas@example.com")
    before = datetime.now(UTC)
    await _earn(gateway, tenant, mia, 100, 10)
    await _earn(gateway, tenant, mia, 20, 10)
    await _earn(gateway, tenant, mia, 50, 20)
    await _earn(gateway, tenant, mia, 70, 60)
    await _earn(gateway, tenant, lukas, 5, 3)
    created = await graphql(
        gateway.client,
        'mutation { assetCreate(input: {code: "stamps", name: "Stamps", expiryDays: 5}) '
        "{ errors { code } } }",
        token=admin,
    )
    assert created["data"]["assetCreate"]["errors"] == []
    adjust = await graphql(
        gateway.client,
        'mutation($id: ID!) { pointsAdjust(input: {memberId: $id, amount: 3, reason: "visit", '
        'idempotencyKey: "stamp-1", assetCode: "stamps"}) { errors { code } } }',
        {"id": mia},
        token=admin,
    )
    assert adjust["data"]["pointsAdjust"]["errors"] == []
    redeemed = await graphql(gateway.client, REDEEM, {"id": mia}, token=admin)
    assert redeemed["data"]["pointsRedeem"]["errors"] == []
    after = datetime.now(UTC)

    body = await graphql(gateway.client, EXPIRING, {"id": mia}, token=admin)
    balances = {b["asset"]["code"]: b for b in body["data"]["member"]["balances"]}
    points = balances["points"]
    assert points["available"] == 210
    # the redemption took 30 of the first-expiring lot; the 60-day lot is outside 30 days
    assert [group["amount"] for group in points["expiring"]] == [90, 50]
    for group, days in zip(points["expiring"], (10, 20), strict=True):
        at = datetime.fromisoformat(group["at"])
        assert before + timedelta(days=days) <= at <= after + timedelta(days=days)
        assert group["on"] == at.date().isoformat()  # the test tenant's time zone is UTC
    assert [group["amount"] for group in points["later"]] == [90, 50, 70]
    # each asset answers its own lots; Lukas's points are not Mia's
    assert [group["amount"] for group in balances["stamps"]["expiring"]] == [3]

    # a member reads its own, through the viewer
    own = await graphql(
        gateway.client,
        "{ viewer { member { balances { asset { code } expiring(withinDays: 5) { amount } } } } }",
        token=member_token(tenant.id, uuid.UUID(lukas)),
    )
    found = {b["asset"]["code"]: b["expiring"] for b in own["data"]["viewer"]["member"]["balances"]}
    assert found == {"points": [{"amount": 5}], "stamps": []}


async def test_points_that_never_expire_and_a_bad_window(make_app: MakeApp, tenant: Tenant) -> None:
    gateway = await make_app()
    admin = admin_token(tenant.id)
    mia = await enrol(gateway.client, tenant.id, "mia@example.com")
    await credit(gateway.client, tenant.id, mia, 40)
    body = await graphql(gateway.client, EXPIRING, {"id": mia}, token=admin)
    assert body["data"]["member"]["balances"][0]["expiring"] == []
    for days in (0, -1, 3661):
        bad = await graphql(
            gateway.client,
            "query($id: ID!, $d: Int!) { member(id: $id) { balances { expiring(withinDays: $d)"
            " { amount } } } }",
            {"id": mia, "d": days},
            token=admin,
        )
        assert bad["errors"][0]["extensions"]["code"] == "INVALID_INPUT", bad


async def test_a_portal_s_live_balance_shows_what_expires(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    mia = await enrol(gateway.client, tenant.id, "mia@example.com")
    await _earn(gateway, tenant, mia, 100, 10)
    query = "subscription { balanceChanged { available expiring { amount } } }"
    async with initialised(gateway, member_token(tenant.id, uuid.UUID(mia))) as session:
        await session.send_json(subscribe("b", query))
        first = await receive(session)
        await _earn(gateway, tenant, mia, 20, 40)  # beyond the 30 days asked for
        await _earn(gateway, tenant, mia, 5, 2)  # before the first ones
        second = await receive(session)
        while second["payload"]["data"]["balanceChanged"][0]["available"] != 125:
            second = await receive(session)  # notifications may come one per change
        await session.send_json({"id": "b", "type": "complete"})
    assert first["payload"]["data"]["balanceChanged"] == [
        {"available": 100, "expiring": [{"amount": 100}]}
    ]
    assert second["payload"]["data"]["balanceChanged"] == [
        {"available": 125, "expiring": [{"amount": 5}, {"amount": 100}]}
    ]
