"""Races, with real concurrent transactions on real PostgreSQL across two gateway instances:
the stock of a reward, a single-use voucher at two tills, a reservation against another
checkout."""

from __future__ import annotations

import asyncio
import uuid

from loyalty_core.db.engine import Database
from loyalty_core.ledger.tables import ledger_transactions
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, graphql
from sqlalchemy import func, select

from tests.api import available, credit, enrol
from tests.rewards import COFFEE_BASKET, REWARD_REDEEM, VOUCHER_REDEEM, VOUCHER_RESERVE, RewardShop


async def test_a_hundred_redemptions_of_the_last_three_give_exactly_three(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant, points=0)
    second = await make_app()
    clients = [shop.gateway.client, second.client]
    reward = await shop.reward(stock=3)
    members = [await enrol(shop.gateway.client, tenant.id, f"m{n}@example.com") for n in range(10)]
    for member in members:
        await credit(shop.gateway.client, tenant.id, member, 1_000)

    answers = await asyncio.gather(
        *(
            graphql(
                clients[n % 2],
                REWARD_REDEEM,
                {
                    "i": {
                        "rewardId": reward,
                        "memberId": members[n % 10],
                        "idempotencyKey": f"r-{n}",
                    }
                },
                api_key=shop.key,
            )
            for n in range(100)
        )
    )
    payloads = [a["data"]["rewardRedeem"] for a in answers]
    won = [p for p in payloads if p["errors"] == []]
    assert len(won) == 3
    assert {p["errors"][0]["code"] for p in payloads if p["errors"]} == {"OUT_OF_STOCK"}
    stock = await shop.admin("query($id: ID!) { reward(id: $id) { stock } }", {"id": reward})
    assert stock["reward"]["stock"] == 0
    async with db.tenant_transaction(tenant.id) as conn:
        spends = await conn.scalar(
            select(func.count()).where(
                ledger_transactions.c.tenant_id == tenant.id,
                ledger_transactions.c.idempotency_key.like("rewards:redeem:%"),
            )
        )
    assert spends == 3
    balances = [await available(shop.gateway.client, tenant.id, m) for m in members]
    assert sum(balances) == 10 * 1_000 - 3 * 100
    await shop.reconciles()


async def test_the_same_key_from_two_gateways_redeems_once(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant, points=1_000)
    second = await make_app()
    reward = await shop.reward()
    variables = {"i": {"rewardId": reward, "memberId": shop.member, "idempotencyKey": "tap-twice"}}
    answers = await asyncio.gather(
        *(
            graphql(client, REWARD_REDEEM, variables, api_key=shop.key)
            for client in [shop.gateway.client, second.client] * 5
        )
    )
    payloads = [a["data"]["rewardRedeem"] for a in answers]
    assert all(p["errors"] == [] for p in payloads)
    assert len({p["redemption"]["id"] for p in payloads}) == 1
    assert sum(not p["replayed"] for p in payloads) == 1
    assert await available(shop.gateway.client, tenant.id, shop.member) == 900


async def test_a_single_use_voucher_at_two_tills_at_once_is_used_once(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant)
    second = await make_app()
    code = (await shop.redeem(await shop.reward()))["code"]
    answers = await asyncio.gather(
        *(
            graphql(
                client,
                VOUCHER_REDEEM,
                {"i": {"code": code, "basket": COFFEE_BASKET, "idempotencyKey": f"till-{n}"}},
                api_key=shop.key,
            )
            for n, client in enumerate([shop.gateway.client, second.client] * 4)
        )
    )
    payloads = [a["data"]["voucherRedeem"] for a in answers]
    assert sum(p["errors"] == [] for p in payloads) == 1
    assert {p["errors"][0]["code"] for p in payloads if p["errors"]} == {"VOUCHER_NOT_USABLE"}


async def test_a_reserved_code_waits_for_its_checkout_and_lapses(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant)
    code = (await shop.redeem(await shop.reward()))["code"]
    held = await shop.till(
        VOUCHER_RESERVE, {"i": {"code": code, "checkoutId": "web-1", "ttlSeconds": 1}}
    )
    assert held["voucherReserve"]["errors"] == [], held
    other = await shop.till(VOUCHER_RESERVE, {"i": {"code": code, "checkoutId": "till-2"}})
    assert other["voucherReserve"]["errors"][0]["code"] == "VOUCHER_RESERVED"
    taken = await shop.use(code, checkoutId="till-2")
    assert taken["errors"][0]["code"] == "VOUCHER_RESERVED"
    assert (await shop.validate(code))["refusal"] == "RESERVED"

    await asyncio.sleep(1.2)  # the web checkout was abandoned: its hold lapses
    used = await shop.use(code, checkoutId="till-2")
    assert (used["errors"], used["voucher"]["status"]) == ([], "REDEEMED")


async def test_the_reserving_checkout_redeems_its_code(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant)
    code = (await shop.redeem(await shop.reward()))["code"]
    await shop.till(VOUCHER_RESERVE, {"i": {"code": code, "checkoutId": "web-1"}})
    used = await shop.use(code, checkoutId="web-1", key=uuid.uuid4().hex)
    assert used["errors"] == []
    assert used["discount"] == 350
