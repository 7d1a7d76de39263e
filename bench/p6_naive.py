"""P6, a naive build of the dashboard vs ours.

The naive build (:mod:`bench.naive`) is what the dashboard looks like written the obvious
way: strawberry types over SQLAlchemy ORM models with lazy loading (a query per relationship
per ledger entry), strawberry's own ASGI view with default settings, no caches. Ours is the
gateway. Both answer the same JSON (checked before measuring), to the same till key, for the
same member. Goal (issue 4): ours >= 3x the naive build.

    .venv/bin/python -m bench.p6_naive [--members 100 --purchases 25 ...]
"""

from __future__ import annotations

import asyncio
import sys

from bench.harness import Bench, Comparison, Goal, alternate, asyncpg_dsn, expect_same_answer, main
from bench.p2_dashboard import add_arguments, dashboard_request, seed_dashboard_tenant

TITLE = "P6 naive strawberry + ORM lazy loading vs the gateway (dashboard query)"


async def measure(bench: Bench) -> list[Comparison]:
    dsn = {"BENCH_APP_DSN": asyncpg_dsn(bench.database.app)}
    gateway, naive, tenant = await asyncio.gather(
        bench.gateway(), bench.baseline("naive", dsn), seed_dashboard_tenant(bench)
    )
    request = dashboard_request(tenant)
    await expect_same_answer(request, gateway, naive)
    await bench.analyze()
    naives, gateways = await alternate(
        bench.http("naive strawberry + ORM", naive, request),
        bench.http("gateway dashboard query", gateway, request),
        bench.options,
    )
    name = "P6 dashboard: gateway / naive build"
    return [Comparison(name, "requests", naives, gateways, Goal(minimum=3.0))]


if __name__ == "__main__":
    sys.exit(main(TITLE, measure, add_arguments=add_arguments))
