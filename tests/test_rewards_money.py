"""A reward priced in points plus money: the payment module collects the money at the till,
so without it the price is refused (MODULE_NOT_ENABLED) and so is a redemption; with it, a
redemption names the till's payment that collected the money, which the payment module
attests (the member's, captured, enough, in the currency) and which pays for one redemption
only; nothing is spent otherwise."""

from __future__ import annotations

import asyncio
import uuid

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, disable_for, enable_for, graphql, member_token

from tests.api import available
from tests.payments import SETTINGS, authorize, operate
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

    await enable_for(db, shop.gateway.registry, tenant, "payment", SETTINGS)
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

    payment = await _paid(shop, 500)
    paid = {
        "rewardId": ticket,
        "memberId": shop.member,
        "idempotencyKey": "till-3/receipt-2001",
        "paymentReference": payment,
    }
    refusals = {
        "NOT_FOUND": str(uuid.uuid4()),
        "INVALID_PAYMENT_STATE": await _paid(shop, 500, capture=False),
        "INVALID_INPUT": await _paid(shop, 499),
    }
    before = await available(shop.gateway.client, tenant.id, shop.member)
    for code, reference in refusals.items():
        refused = await shop.till(REDEEM, {"i": paid | {"paymentReference": reference}})
        error = refused["rewardRedeem"]["errors"][0]
        assert (error["code"], error["field"]) == (code, "paymentReference"), error
    assert await available(shop.gateway.client, tenant.id, shop.member) == before

    redeemed = (await shop.till(REDEEM, {"i": paid}))["rewardRedeem"]
    assert redeemed["errors"] == [], redeemed
    assert redeemed["redemption"] == {
        "points": 300,
        "moneyAmount": 500,
        "moneyCurrency": "EUR",
        "paymentReference": payment,
    }
    again = (await shop.till(REDEEM, {"i": paid}))["rewardRedeem"]
    assert again["replayed"] is True
    other = await shop.till(REDEEM, {"i": paid | {"paymentReference": refusals["NOT_FOUND"]}})
    assert other["rewardRedeem"]["errors"][0]["code"] == "IDEMPOTENCY_CONFLICT"
    twice = await shop.till(REDEEM, {"i": paid | {"idempotencyKey": "till-3/receipt-2003"}})
    assert [(e["code"], e["field"]) for e in twice["rewardRedeem"]["errors"]] == [
        ("PAYMENT_ALREADY_USED", "paymentReference")
    ]
    assert await available(shop.gateway.client, tenant.id, shop.member) == before - 300

    await disable_for(db, shop.gateway.registry, tenant, "payment")
    await shop.gateway.state.notifier.sync()
    later = await shop.till(REDEEM, {"i": paid | {"idempotencyKey": "till-3/receipt-2002"}})
    assert later["rewardRedeem"]["errors"][0]["code"] == "MODULE_NOT_ENABLED"
    assert await available(shop.gateway.client, tenant.id, shop.member) == before - 300
    await shop.reconciles()


async def _paid(shop: RewardShop, amount: int, *, capture: bool = True) -> str:
    """The id of a payment of ``amount`` EUR cents the till took for the member (a cent of
    it in points, the rest in cash), captured unless told."""
    points = [{"tender": "POINTS", "amount": 1}]
    authorized = await authorize(
        shop.gateway, shop.key, amount=amount, tenders=points, memberId=shop.member
    )
    assert authorized["errors"] == [], authorized
    payment = str(authorized["payment"]["id"])
    if capture:
        captured = await operate(
            shop.gateway, shop.key, "paymentCapture", paymentId=payment, idempotencyKey=payment
        )
        assert captured["errors"] == [], captured
    return payment


async def test_one_payment_pays_for_one_redemption_even_at_once_on_two_gateways(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant, points=3_000)
    await enable_for(db, shop.gateway.registry, tenant, "payment", SETTINGS)
    second = await make_app()
    ticket = await shop.reward(**TICKET)
    payment = await _paid(shop, 500)
    before = await available(shop.gateway.client, tenant.id, shop.member)

    answers = await asyncio.gather(
        *(
            graphql(
                (shop.gateway, second)[n % 2].client,
                REDEEM,
                {
                    "i": {
                        "rewardId": ticket,
                        "memberId": shop.member,
                        "idempotencyKey": f"till-{n}",
                        "paymentReference": payment,
                    }
                },
                api_key=shop.key,
            )
            for n in range(6)
        )
    )

    errors = [body["data"]["rewardRedeem"]["errors"] for body in answers]
    assert sorted(e[0]["code"] if e else "OK" for e in errors) == [
        "OK",
        *["PAYMENT_ALREADY_USED"] * 5,
    ]
    assert await available(shop.gateway.client, tenant.id, shop.member) == before - 300
    await shop.reconciles()
