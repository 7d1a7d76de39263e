"""P5, growth: P2's dashboard and P1's ingest for a tenant with a short vs a long history.

Two tenants in one database, with the same members, differ only in ledger history: one holds
``--small-rows`` ledger entries (default 10 thousand), the other ``--large-rows`` (default 10
million), written set-based by :func:`bench.seed.seed_history` and checked against the
ledger's invariants. The gateway serves both; the two are measured alternately (small, large)
so that any drift of the machine hits both alike. The figure is the slowdown, small-tenant
rate over large-tenant rate, for the dashboard of the member with the most recent purchases
and for ingesting purchases for that member. Goal (issue 4): <= 1.2 for both.

A smoke run: ``--small-rows 1000 --large-rows 20000``. The full size takes minutes to seed
(and a few GB of disk): that is the point of measuring it.

    .venv/bin/python -m bench.p5_growth [--large-rows 10000000 --members 1000 ...]
"""

from __future__ import annotations

import argparse
import sys

from bench.harness import Bench, Comparison, Goal, alternate, answer, main
from bench.ingest import check_ingested, ingest_request
from bench.p2_dashboard import dashboard_request
from bench.seed import BenchTenant, check_history, seed_history, seed_tenant

TITLE = "P5 growth: dashboard and ingest, short vs long tenant history"


def add_arguments(arguments: argparse.ArgumentParser) -> None:
    arguments.add_argument("--small-rows", type=int, default=10_000, help="entries, small")
    arguments.add_argument("--large-rows", type=int, default=10_000_000, help="entries, large")
    arguments.add_argument("--members", type=int, default=1000, help="members per tenant")
    arguments.add_argument("--purchases", type=int, default=25, help="recent purchases")


async def measure(bench: Bench) -> list[Comparison]:
    extra = bench.options.extra
    small_rows = int(extra.get("small_rows", 10_000))
    large_rows = int(extra.get("large_rows", 10_000_000))
    small = await _tenant_with_history(bench, small_rows)
    large = await _tenant_with_history(bench, large_rows)
    gateway = await bench.gateway()
    for tenant in (small, large):
        await answer(gateway, dashboard_request(tenant))
        check_ingested(await answer(gateway, ingest_request(tenant)))
    comparisons = []
    await bench.analyze()
    for what, request_of in (("dashboard", dashboard_request), ("ingest", ingest_request)):
        smalls, larges = await alternate(
            bench.http(f"{what}, {small_rows:,} entries", gateway, request_of(small)),
            bench.http(f"{what}, {large_rows:,} entries", gateway, request_of(large)),
            bench.options,
        )
        name = f"P5 {what}: small-history rate / large-history rate"
        unit = "requests" if what == "dashboard" else "ingests"
        comparisons.append(Comparison(name, unit, smalls, larges, Goal(maximum=1.2), slowdown=True))
    return comparisons


async def _tenant_with_history(bench: Bench, rows: int) -> BenchTenant:
    """A tenant seeded through the services, then given ``rows`` entries of history."""
    extra = bench.options.extra
    async with bench.connect() as database:
        tenant = await seed_tenant(
            database,
            members=int(extra.get("members", 1000)),
            purchases=int(extra.get("purchases", 25)),
            active=1,
        )
    async with bench.connect(owner=True) as owner:
        await seed_history(owner, tenant, rows=rows)
        await check_history(owner, tenant)
    return tenant


__all__ = ["measure"]

if __name__ == "__main__":
    sys.exit(main(TITLE, measure, add_arguments=add_arguments))
