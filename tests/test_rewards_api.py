"""Rewards through the real gateway: the catalogue, a redemption paid in points, the voucher it
issues used at a till, cancellation, fulfilment and entitlements."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from loyalty_core.db.engine import Database
from loyalty_core.ledger.tables import ledger_lots
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, graphql, member_token
from sqlalchemy import select

from tests.api import available, credit
from tests.rewards import REWARD_CREATE, REWARD_REDEEM, RewardShop


async def test_a_tenant_without_the_module_sees_none_of_it(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    body = await graphql(
        gateway.client, "{ rewards { edges { node { id } } } }", token=admin_token(tenant.id)
    )
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_a_free_coffee_voucher_bought_with_points_is_used_at_the_till(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant, points=250)
    reward = await shop.reward(stock=10)
    redeemed = await shop.redeem(reward, key="coffee-1")
    assert redeemed["errors"] == [], redeemed
    assert redeemed["redemption"]["points"] == 100
    assert await available(shop.gateway.client, tenant.id, shop.member) == 150
    code = redeemed["code"]

    checked = await shop.validate(code)
    assert (checked["valid"], checked["discount"]) == (True, 350)
    no_coffee = await shop.validate(code, {"amount": 500, "currency": "EUR", "items": []})
    assert (no_coffee["valid"], no_coffee["refusal"]) == (False, "ITEM_MISSING")

    used = await shop.use(code, key="till-7")
    assert (used["errors"], used["discount"], used["voucher"]["status"]) == ([], 350, "REDEEMED")
    again = await shop.use(code, key="till-7")
    assert (again["replayed"], again["discount"]) == (True, 350)
    second = await shop.use(code, key="till-8")
    assert second["errors"][0]["code"] == "VOUCHER_NOT_USABLE"
    after = await shop.validate(code)
    assert (after["valid"], after["refusal"]) == (False, "USED_UP")

    replay = await shop.redeem(reward, key="coffee-1")
    assert (replay["replayed"], replay["code"]) == (True, code)
    other = await shop.redeem(
        reward, key="coffee-1", deliveryAddress=None, memberId=await _other(shop)
    )
    assert other["errors"][0]["code"] == "IDEMPOTENCY_CONFLICT"
    await shop.reconciles()


async def _other(shop: RewardShop) -> str:
    from tests.api import enrol

    return await enrol(shop.gateway.client, shop.tenant.id, f"{uuid.uuid4().hex}@example.com")


async def test_cancel_returns_points_to_lots_with_their_expiry_and_the_stock(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant, points=0)
    await credit(shop.gateway.client, tenant.id, shop.member, 60)
    await credit(shop.gateway.client, tenant.id, shop.member, 60)
    soon = datetime.now(UTC) + timedelta(days=3)
    async with db.tenant_transaction(tenant.id) as conn:  # the first lot expires first
        first = (
            (
                await conn.execute(
                    select(ledger_lots.c.id)
                    .where(ledger_lots.c.tenant_id == tenant.id)
                    .order_by(ledger_lots.c.id)
                )
            )
            .scalars()
            .first()
        )
        await conn.execute(
            ledger_lots.update().where(ledger_lots.c.id == first).values(expires_at=soon)
        )
    reward = await shop.reward(stock=2, cancelWindowMinutes=30)
    redeemed = await shop.redeem(reward)
    assert redeemed["errors"] == [], redeemed
    stock = await shop.admin("query($id: ID!) { reward(id: $id) { stock } }", {"id": reward})
    assert stock["reward"]["stock"] == 1

    cancelled = await shop.cancel(redeemed["redemption"]["id"])
    assert cancelled["errors"] == [], cancelled
    assert (cancelled["redemption"]["status"], cancelled["replayed"]) == ("CANCELLED", False)
    assert cancelled["voucher"]["status"] == "CANCELLED"
    twice = await shop.cancel(redeemed["redemption"]["id"])
    assert (twice["replayed"], twice["redemption"]["giveBackTransactionId"]) == (
        True,
        cancelled["redemption"]["giveBackTransactionId"],
    )
    assert await available(shop.gateway.client, tenant.id, shop.member) == 120
    stock = await shop.admin("query($id: ID!) { reward(id: $id) { stock } }", {"id": reward})
    assert stock["reward"]["stock"] == 2
    async with db.tenant_transaction(tenant.id) as conn:
        lots = (
            await conn.execute(
                select(ledger_lots.c.remaining, ledger_lots.c.expires_at).where(
                    ledger_lots.c.tenant_id == tenant.id, ledger_lots.c.remaining > 0
                )
            )
        ).all()
    # 100 points came from the lot expiring soon (60) and the other (40); they came back to
    # lots expiring when those did: 60 expiring soon again, never later.
    soon_back = sum(lot.remaining for lot in lots if lot.expires_at == soon)
    assert soon_back == 60
    assert sum(lot.remaining for lot in lots) == 120
    voucher_code = redeemed["code"]
    refused = await shop.use(voucher_code)
    assert refused["errors"][0]["code"] == "VOUCHER_NOT_USABLE"
    await shop.reconciles()


async def test_the_window_limits_and_stock_refuse_with_clear_codes(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant, points=1_000)
    limited = await shop.reward(memberLimit=1, memberLimitDays=30)
    assert (await shop.redeem(limited))["errors"] == []
    assert (await shop.redeem(limited))["errors"][0]["code"] == "REWARD_LIMIT_REACHED"
    none_left = await shop.reward(stock=0)
    assert (await shop.redeem(none_left))["errors"][0]["code"] == "OUT_OF_STOCK"
    dear = await shop.reward(points=5_000)
    assert (await shop.redeem(dear))["errors"][0]["code"] == "INSUFFICIENT_BALANCE"
    later = await shop.reward(validFrom=(datetime.now(UTC) + timedelta(days=1)).isoformat())
    assert (await shop.redeem(later))["errors"][0]["code"] == "REWARD_UNAVAILABLE"
    no_cancel = await shop.reward()
    done = await shop.redeem(no_cancel)
    assert (await shop.cancel(done["redemption"]["id"]))["errors"][0][
        "code"
    ] == "CANCEL_WINDOW_CLOSED"
    bad = await shop.admin(
        REWARD_CREATE, {"i": {"name": "Odd", "kind": "VOUCHER", "voucher": {"discount": "AMOUNT"}}}
    )
    assert bad["rewardCreate"]["errors"][0]["field"] == "voucher"
    unknown = await shop.admin(REWARD_CREATE, {"i": {"name": "Odd", "kind": "SPACESHIP"}})
    assert unknown["rewardCreate"]["errors"][0]["field"] == "kind"
    assert await available(shop.gateway.client, tenant.id, shop.member) == 800
    await shop.reconciles()


async def test_a_member_redeems_an_entitlement_and_touchpoints_see_it_unlocked(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant, points=500)
    reward = await shop.reward(
        name="Free delivery",
        kind="ENTITLEMENT",
        points=300,
        entitlement={"name": "free_delivery", "days": 30},
    )
    member = uuid.UUID(shop.member)
    body = await graphql(
        shop.gateway.client,
        REWARD_REDEEM,
        {"i": {"rewardId": reward, "idempotencyKey": "mine"}},
        token=member_token(tenant.id, member),
    )
    payload = body["data"]["rewardRedeem"]
    assert payload["errors"] == [], body
    assert payload["entitlement"]["name"] == "free_delivery"
    seen = await shop.till(
        'query($id: ID!) { member(id: $id) { entitlements(name: "free_delivery") '
        "{ name expiresAt } rewardRedemptions { status } } }",
        {"id": shop.member},
    )
    assert [e["name"] for e in seen["member"]["entitlements"]] == ["free_delivery"]
    assert [r["status"] for r in seen["member"]["rewardRedemptions"]] == ["ISSUED"]


async def test_a_physical_reward_moves_through_its_fulfilment(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant, points=1_000)
    reward = await shop.reward(name="Tote bag", kind="PHYSICAL", points=800, stock=5)
    redeemed = await shop.redeem(reward, deliveryAddress="Oranienstr. 1, Berlin")
    assert redeemed["redemption"]["fulfilment"] == "PENDING"
    update = (
        "mutation($i: RewardFulfilmentUpdateInput!) { rewardFulfilmentUpdate(input: $i) "
        "{ redemption { fulfilment } errors { code } } }"
    )
    rid = redeemed["redemption"]["id"]
    early = await shop.admin(update, {"i": {"id": rid, "status": "DELIVERED"}})
    assert early["rewardFulfilmentUpdate"]["errors"][0]["code"] == "INVALID_FULFILMENT_STATE"
    for status in ("SHIPPED", "SHIPPED", "DELIVERED"):
        moved = await shop.admin(update, {"i": {"id": rid, "status": status, "tracking": "DHL-1"}})
        assert moved["rewardFulfilmentUpdate"]["redemption"]["fulfilment"] == status, moved
