"""Tiers in privacy requests: the export holds the member's standing, metric, history and
membership; erasure leaves no text an operator or the provider wrote about the member, and
keeps the figures."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, graphql

from tests.test_privacy_erasure import ERASE, EXPORT, _columns_containing
from tests.test_tiers_memberships import _event, _send, _shop


async def test_export_then_erasure_of_a_members_tier_data(
    make_app: MakeApp, db: Database, owner_db: Database, tenant: Tenant
) -> None:
    shop = await _shop(make_app, db, tenant)
    canary = f"canary{secrets.token_hex(6)}"
    member = await shop.member()
    await shop.event(member, 12_000)
    expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    await shop.override(
        memberId=member, level="gold", reason=f"Complaint {canary}", expiresAt=expires
    )
    assert (await _send(shop, _event(member, "started", 1, subscription=canary))).status_code == 200

    body = await graphql(shop.client, EXPORT, {"i": {"memberId": member}}, token=shop.admin)
    tiers = body["data"]["memberExport"]["data"]["modules"]["tiers"]
    assert tiers["standing"]["level"] == "silver"
    assert tiers["standing"]["override_level"] == "gold"
    assert [row["value"] for row in tiers["metric"]] == [12_000]
    assert {row["kind"] for row in tiers["history"]} == {"upgrade", "override"}
    assert tiers["membership"][0]["state"] == "active"
    assert len(tiers["membershipEvents"]) == 1
    assert await _columns_containing(owner_db, canary)

    body = await graphql(
        shop.client, ERASE, {"i": {"memberId": member}}, token=admin_token(tenant.id)
    )
    assert body["data"]["memberErase"]["errors"] == []
    assert body["data"]["memberErase"]["rows"]["tiers"] == 4
    assert await _columns_containing(owner_db, canary) == []
    body = await graphql(shop.client, EXPORT, {"i": {"memberId": member}}, token=shop.admin)
    after = body["data"]["memberExport"]["data"]["modules"]["tiers"]
    assert after["standing"]["level"] == "silver"
    assert after["standing"]["override_level"] is None
