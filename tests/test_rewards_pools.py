"""Pools of the retailer's own codes, imported from CSV: all or nothing with every wrong line
reported and counted, a retried import replayed, racing imports of the same codes never both
written, and the codes handed out one per redemption and found at the till as written."""

from __future__ import annotations

import asyncio
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.sdk import codes
from loyalty_core.tenants.models import Tenant
from loyalty_rewards.lookup import NO_MATCH
from loyalty_rewards.tables import pools, vouchers
from loyalty_testing import MakeApp, admin_token, graphql
from sqlalchemy import func, select

from tests.api import credit, enrol
from tests.rewards import REWARD_REDEEM, RewardShop

IMPORT = """
mutation($i: VoucherPoolImportInput!) {
  voucherPoolImport(input: $i) {
    poolId lines imported duplicates rejected replayed
    lineErrors { line message } errors { code field message }
  }
}
"""
POOL = "query($p: ID!) { vouchers(poolId: $p) { edges { node { status } } } }"
EVERY_VOUCHER = "{ vouchers(first: 100) { edges { node { id } } } }"


def _lookalike() -> str:
    """A partner's code that happens to read as one of ours: its symbols (L and O read as 1
    and 0) and its check symbol are right, so the SDK's normalisation rewrites it."""
    body = "HELLOWORLD2027"
    return body + codes.check_symbol(body.replace("L", "1").replace("O", "0"))


async def _import(shop: RewardShop, csv: str, key: str | None = None, name: str = "Partner") -> Any:
    variables = {"i": {"name": name, "csv": csv} | ({"idempotencyKey": key} if key else {})}
    return (await shop.admin(IMPORT, variables))["voucherPoolImport"]


async def test_a_file_with_wrong_lines_reports_each_and_imports_nothing(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant)
    first = await _import(shop, "code\nKNOWN-0001\n")
    assert (first["errors"], first["imported"]) == ([], 1)

    bad = "\n".join(
        [
            "code",
            "CINEMA-0001",
            "cinema 0001",  # the same code typed otherwise
            "ab",  # too short
            "CINEMA-0002",
            "not/a/code",  # a symbol no code has
            "known0001",  # imported before
            "",
            "CINEMA-0003",
        ]
    )
    answer = await _import(shop, bad)
    assert answer["poolId"] is None
    assert (answer["lines"], answer["imported"], answer["duplicates"], answer["rejected"]) == (
        7,
        0,
        2,
        4,
    )
    assert [e["line"] for e in answer["lineErrors"]] == [3, 4, 6, 7]
    assert "line 2" in answer["lineErrors"][0]["message"]
    assert "already known" in answer["lineErrors"][3]["message"]
    assert answer["errors"][0]["code"] == "INVALID_INPUT"
    assert answer["errors"][0]["field"] == "csv"
    every = await shop.admin(EVERY_VOUCHER)
    assert len(every["vouchers"]["edges"]) == 1  # the first import's code only

    empty = await _import(shop, "code\n\n")
    assert (empty["poolId"], empty["lineErrors"][0]["line"]) == (None, 0)


async def test_a_retried_import_replays_and_another_file_under_its_key_conflicts(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant)
    csv = "code\nZOO-0001\nZOO-0002\nZOO-0003\n"
    variables = {"i": {"name": "Zoo tickets", "csv": csv, "idempotencyKey": "zoo-2027"}}
    other_gateway = await make_app()
    answers = await asyncio.gather(
        *(
            graphql(client, IMPORT, variables, token=admin_token(tenant.id))
            for client in [shop.gateway.client, other_gateway.client] * 3
        )
    )
    payloads = [a["data"]["voucherPoolImport"] for a in answers]
    assert all(p["errors"] == [] and p["imported"] == 3 for p in payloads), payloads
    assert len({p["poolId"] for p in payloads}) == 1
    assert sum(not p["replayed"] for p in payloads) == 1
    pool = await shop.admin(POOL, {"p": payloads[0]["poolId"]})
    assert len(pool["vouchers"]["edges"]) == 3

    other = await _import(shop, csv + "ZOO-0004\n", key="zoo-2027", name="Zoo tickets")
    assert other["errors"][0]["code"] == "IDEMPOTENCY_CONFLICT"
    fixed = await _import(shop, "ZOO-0001\n", key="zoo-typo")  # refused: no key is kept
    assert fixed["rejected"] == 1
    retried = await _import(shop, "ZOO-0009\n", key="zoo-typo")
    assert (retried["errors"], retried["imported"], retried["replayed"]) == ([], 1, False)


async def test_racing_imports_of_the_same_codes_write_one_pool(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant)
    other_gateway = await make_app()
    codes_ = "\n".join(f"RACE-{n:04d}" for n in range(300))
    answers = await asyncio.gather(
        *(
            graphql(
                client,
                IMPORT,
                {"i": {"name": f"Import {n}", "csv": codes_}},
                token=admin_token(tenant.id),
            )
            for n, client in enumerate([shop.gateway.client, other_gateway.client] * 2)
        )
    )
    payloads = [a["data"]["voucherPoolImport"] for a in answers]
    assert sum(p["errors"] == [] for p in payloads) == 1, payloads
    assert all(p["imported"] == 0 and p["rejected"] == 300 for p in payloads if p["errors"])
    async with db.tenant_transaction(tenant.id) as conn:
        stored = await conn.scalar(select(func.count()).where(vouchers.c.tenant_id == tenant.id))
        pools_made = await conn.scalar(select(func.count()).where(pools.c.tenant_id == tenant.id))
    assert (stored, pools_made) == (300, 1)


async def test_pool_codes_are_handed_out_once_and_found_as_written(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant, points=1_000)
    written = ["cinema-7788-aa", _lookalike()]
    pool = await _import(shop, "\n".join(written), key="cinema")
    assert pool["errors"] == []
    # A pool code not handed out yet is no voucher: the till gets the wrong-code answer.
    unissued = await shop.validate(written[0])
    assert (unissued["refusal"], unissued["reason"]) == ("NOT_FOUND", NO_MATCH)

    reward = await shop.reward(
        name="Cinema ticket",
        points=200,
        voucher={"discount": "AMOUNT", "amount": 900, "currency": "EUR", "poolId": pool["poolId"]},
    )
    shown = []
    for n in range(2):
        redeemed = await shop.redeem(reward, key=f"cinema-{n}")
        assert redeemed["errors"] == [], redeemed
        shown.append(redeemed["code"])
    assert sorted(shown) == sorted(written)  # each code once, shown as the partner wrote it
    for code in shown:
        checked = await shop.validate(code)
        assert (checked["valid"], checked["discount"]) == (True, 850), (code, checked)
    empty = await shop.redeem(reward, key="cinema-3")
    assert empty["errors"][0]["code"] == "OUT_OF_STOCK"
    listed = await shop.admin(POOL, {"p": pool["poolId"]})
    assert [edge["node"]["status"] for edge in listed["vouchers"]["edges"]] == ["ACTIVE"] * 2
    await shop.reconciles()


async def test_racing_redemptions_over_two_gateways_never_share_a_pool_code(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant, points=0)
    other_gateway = await make_app()
    pool = await _import(shop, "\n".join(f"ZOO-{n:04d}" for n in range(4)), key="zoo")
    reward = await shop.reward(
        name="Zoo ticket",
        points=100,
        voucher={"discount": "AMOUNT", "amount": 900, "currency": "EUR", "poolId": pool["poolId"]},
    )
    members = [await enrol(shop.gateway.client, tenant.id, f"z{n}@example.com") for n in range(10)]
    for member in members:
        await credit(shop.gateway.client, tenant.id, member, 100)
    answers = await asyncio.gather(
        *(
            graphql(
                client,
                REWARD_REDEEM,
                {"i": {"rewardId": reward, "memberId": member, "idempotencyKey": f"zoo-{n}"}},
                api_key=shop.key,
            )
            for n, (member, client) in enumerate(
                zip(members, [shop.gateway.client, other_gateway.client] * 5, strict=True)
            )
        )
    )
    payloads = [a["data"]["rewardRedeem"] for a in answers]
    given = sorted(p["code"] for p in payloads if p["errors"] == [])
    assert given == [f"ZOO-{n:04d}" for n in range(4)]  # each code once
    assert {p["errors"][0]["code"] for p in payloads if p["errors"]} == {"OUT_OF_STOCK"}
    await shop.reconciles()
