"""P2, member dashboard: the dashboard query through the gateway vs the same reads by hand.

The gateway answers :func:`bench.dashboard.dashboard_query` (balance, the last 20 ledger
entries with their causes, identifiers, the campaigns running for the member); the
baseline is a bare Starlette + asyncpg endpoint doing the same reads in one tenant-scoped
transaction as the app role and answering the same JSON (checked before measuring). Both are
asked by a till's API key for the first member, who holds ``--purchases`` earns. Goal (issue
4): >= 0.5.

    .venv/bin/python -m bench.p2_dashboard [--members 100 --purchases 25 ...]
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bench.dashboard import dashboard_body
from bench.harness import (
    Bench,
    Comparison,
    Goal,
    Server,
    alternate,
    asyncpg_dsn,
    expect_same_answer,
    main,
)
from bench.loadgen import HttpRequest
from bench.seed import BenchTenant, activate_campaign, seed_tenant

TITLE = "P2 member dashboard: gateway vs Starlette + asyncpg doing the same reads"


def add_arguments(arguments: argparse.ArgumentParser) -> None:
    arguments.add_argument("--members", type=int, default=100, help="members of the tenant")
    arguments.add_argument("--purchases", type=int, default=25, help="purchases per member")


async def measure(bench: Bench) -> list[Comparison]:
    gateway, baseline, tenant = await asyncio.gather(
        bench.gateway(), dashboard_baseline(bench), seed_dashboard_tenant(bench)
    )
    request = dashboard_request(tenant)
    await expect_same_answer(request, gateway, baseline)
    await bench.analyze()
    baselines, gateways = await alternate(
        bench.http("starlette + asyncpg", baseline, request),
        bench.http("gateway dashboard query", gateway, request),
        bench.options,
    )
    name = "P2 dashboard: gateway / Starlette + asyncpg"
    return [Comparison(name, "requests", baselines, gateways, Goal(minimum=0.5))]


async def seed_dashboard_tenant(bench: Bench) -> BenchTenant:
    """A tenant of ``--members`` members, the first few with ``--purchases`` earns each, and
    a campaign running (the dashboard lists it)."""
    async with bench.connect() as database:
        tenant = await seed_tenant(
            database,
            members=int(bench.options.extra.get("members", 100)),
            purchases=int(bench.options.extra.get("purchases", 25)),
        )
        await activate_campaign(database, tenant)
        return tenant


async def dashboard_baseline(bench: Bench) -> Server:
    """The hand-written dashboard endpoint, connected as the app role."""
    return await bench.baseline("dashboard", {"BENCH_APP_DSN": asyncpg_dsn(bench.database.app)})


def dashboard_request(tenant: BenchTenant, member: int = 0) -> HttpRequest:
    """The dashboard of one member, asked with the tenant's till key."""
    body = dashboard_body(tenant.member_ids[member])
    return HttpRequest("/graphql", body, {"X-Api-Key": tenant.api_key})


if __name__ == "__main__":
    sys.exit(main(TITLE, measure, add_arguments=add_arguments))
