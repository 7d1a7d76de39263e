"""P10, voucherValidate: a till checking a voucher code against a basket, through the gateway
vs a bare Starlette + asyncpg endpoint doing the same look-up (the attempt counted against
the caller's lock-out row, the voucher found by the keyed hash of its code, the attempt given
back) and the same arithmetic.

The voucher is a multi-use "one filter coffee free" the member got from a reward, so every
request finds it valid; the basket has a filter coffee and a croissant. Both sides answer
the same JSON (checked before measuring). Goal (issue 24): >= 0.5 against the baseline.

    .venv/bin/python -m bench.p10_voucher_validate [--rounds 5 --seconds 10 ...]
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from loyalty_core.apikeys.service import create_api_key
from loyalty_core.auth import Scope
from loyalty_core.ids import new_id
from loyalty_core.modules.manager import build_registry
from loyalty_core.modules.service import enable_module
from loyalty_core.tenants.service import get_tenant
from loyalty_rewards import vouchers
from loyalty_rewards.kinds import DiscountKind, VoucherTemplate
from loyalty_rewards.settings import RewardSettings

from bench.harness import Bench, Comparison, Goal, alternate, asyncpg_dsn, expect_same_answer, main
from bench.loadgen import HttpRequest
from bench.seed import SEED_ACTOR, seed_tenant
from bench.vouchers import validate_body

TITLE = "P10 voucherValidate at the till, gateway vs Starlette + asyncpg"
BASKET = {
    "amount": 850,
    "currency": "EUR",
    "items": [
        {"sku": "FILTER-COFFEE", "unitPrice": 350, "quantity": 1},
        {"sku": "CROISSANT", "unitPrice": 500, "quantity": 1},
    ],
}


async def measure(bench: Bench) -> list[Comparison]:
    async with bench.connect() as database:
        tenant = await seed_tenant(database, members=2, purchases=1, active=1)
        async with database.tenant_transaction(tenant.tenant_id) as conn:
            found = await get_tenant(conn, tenant.tenant_id)
            await enable_module(conn, found, build_registry(), "rewards", {}, actor=SEED_ACTOR)
            till = await create_api_key(
                conn,
                tenant.tenant_id,
                name="Bench till (vouchers)",
                scopes=[Scope.POINTS_REDEEM],
                actor=SEED_ACTOR,
            )
            issued = await vouchers.issue(
                conn,
                tenant.tenant_id,
                RewardSettings(),
                VoucherTemplate(
                    discount=DiscountKind.ITEM, item_sku="FILTER-COFFEE", max_uses=None
                ),
                member_id=tenant.member_ids[0],
                reward_id=None,
                redemption_id=new_id(),
                now=datetime.now(UTC),
            )
    assert issued is not None
    _, code = issued
    gateway, baseline = (
        await bench.gateway(),
        await bench.baseline("vouchers", {"BENCH_APP_DSN": asyncpg_dsn(bench.database.app)}),
    )
    request = HttpRequest("/graphql", validate_body(code, BASKET), {"X-Api-Key": till.secret})
    await expect_same_answer(request, gateway, baseline)
    await bench.analyze()
    baselines, gateways = await alternate(
        bench.http("starlette + asyncpg", baseline, request),
        bench.http("gateway", gateway, request),
        bench.options,
    )
    return [
        Comparison(
            "P10 voucherValidate: gateway / Starlette + asyncpg",
            "requests",
            baselines,
            gateways,
            Goal(minimum=0.5),
        )
    ]


__all__ = ["measure"]

if __name__ == "__main__":
    sys.exit(main(TITLE, measure))
