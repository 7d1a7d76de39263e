"""Partner offers in privacy requests: the export holds the member's activations (with the
terms it holds) and rewards; erasure deletes the activations and first purchases, and keeps
the rewards the ledger and partners' statements depend on."""

from __future__ import annotations

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, graphql

from tests.api import pos_key
from tests.partner_offers import ACTIVATE, Programme, offer_input
from tests.test_privacy_erasure import ERASE, EXPORT


async def test_export_then_erasure_of_a_members_offers(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Programme.start(make_app, db, tenant, with_clearing=False)
    clip = await town.create(
        offer_input("Welcome", activation="CLIP", value="30", requirements={"firstPurchase": True})
    )
    member = await town.member()
    activated = await town.as_member(member, ACTIVATE, {"input": {"offerId": clip["id"]}})
    assert activated["data"]["offerActivate"]["errors"] == []
    await town.till(await pos_key(town.gateway.client, tenant.id), member, 1_000, [])
    admin = admin_token(tenant.id)

    body = await graphql(town.gateway.client, EXPORT, {"i": {"memberId": member}}, token=admin)
    exported = body["data"]["memberExport"]["data"]["modules"]["partner_offers"]
    assert [(a["offerId"], a["redeemed"]) for a in exported["activations"]] == [(clip["id"], 1)]
    assert exported["activations"][0]["terms"]["value"] == "30"
    assert [r["points"] for r in exported["rewards"]] == [30]
    assert len(exported["firstPurchases"]) == 1

    body = await graphql(town.gateway.client, ERASE, {"i": {"memberId": member}}, token=admin)
    assert body["data"]["memberErase"]["errors"] == []
    assert body["data"]["memberErase"]["rows"]["partner_offers"] == 2
    body = await graphql(town.gateway.client, EXPORT, {"i": {"memberId": member}}, token=admin)
    after = body["data"]["memberExport"]["data"]["modules"]["partner_offers"]
    assert (after["activations"], after["firstPurchases"]) == ([], [])
    assert [r["points"] for r in after["rewards"]] == [30]
