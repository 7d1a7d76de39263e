"""A reward priced in points plus money: the payment module collects the money at the till,
so without it the price is refused (MODULE_NOT_ENABLED) and so is a redemption; with it, a
redemption names the till's payment that collected the money, and nothing is spent without."""

from __future__ import annotations

import uuid

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, disable_for, enable_for, graphql, member_token

from tests.api import available
from tests.rewards import REWARD_CREATE, RewardShop

TICKET = {
    "name": "Cinema ticket",
    "kind": "PHYSICAL",
    "points": 300,
    "moneyAmount": 500,
    "moneyCurrency": "EUR",
}
REDEEM = (
    "mutation($i: RewardRedeemInput!) { rewardRedeem(input: $i) { redemption { points "
    "moneyAmount moneyCurrency paymentReference } replayed errors { code field message } } }"
)


async def test_money_needs_the_payment_module_and_the_tills_payment(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant, points=1_000)
    refused = await shop.admin(REWARD_CREATE, {"i": TICKET})
    assert [(e["code"], e["field"]) for e in refused["rewardCreate"]["errors"]] == [
        ("MODULE_NOT_ENABLED", "moneyAmount")
    ]

    await enable_for(db, shop.gateway.registry, tenant, "payment", {})
    await shop.gateway.state.notifier.sync()
    ticket = await shop.reward(**TICKET)
    token = member_token(tenant.id, uuid.UUID(shop.member))
    alone = await graphql(
        shop.gateway.client,
        REDEEM,
        {"i": {"rewardId": ticket, "idempotencyKey": "app-1"}},
        token=token,
    )
    error = alone["data"]["rewardRedeem"]["errors"][0]
    assert (error["code"], error["field"]) == ("INVALID_INPUT", "paymentReference")
    assert "500 EUR" in error["message"]
    attesting = await graphql(
        shop.gateway.client,
        REDEEM,
        {"i": {"rewardId": ticket, "idempotencyKey": "app-2", "paymentReference": "mine"}},
        token=token,
    )
    assert attesting["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await available(shop.gateway.client, tenant.id, shop.member) == 1_000

    paid = {
        "rewardId": ticket,
        "memberId": shop.member,
        "idempotencyKey": "till-3/receipt-2001",
        "paymentReference": "payment-7f3a",
    }
    redeemed = (await shop.till(REDEEM, {"i": paid}))["rewardRedeem"]
    assert redeemed["errors"] == [], redeemed
    assert redeemed["redemption"] == {
        "points": 300,
        "moneyAmount": 500,
        "moneyCurrency": "EUR",
        "paymentReference": "payment-7f3a",
    }
    again = (await shop.till(REDEEM, {"i": paid}))["rewardRedeem"]
    assert again["replayed"] is True
    other = await shop.till(REDEEM, {"i": paid | {"paymentReference": "payment-8"}})
    assert other["rewardRedeem"]["errors"][0]["code"] == "IDEMPOTENCY_CONFLICT"
    assert await available(shop.gateway.client, tenant.id, shop.member) == 700

    await disable_for(db, shop.gateway.registry, tenant, "payment")
    await shop.gateway.state.notifier.sync()
    later = await shop.till(REDEEM, {"i": paid | {"idempotencyKey": "till-3/receipt-2002"}})
    assert later["rewardRedeem"]["errors"][0]["code"] == "MODULE_NOT_ENABLED"
    assert await available(shop.gateway.client, tenant.id, shop.member) == 700
    await shop.reconciles()
