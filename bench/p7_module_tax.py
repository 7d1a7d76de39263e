"""P7, module tax: P1's ingest on a tenant running a module as a busy retailer would, against
P1 on a core-only tenant, in the same run against the same gateway.

Each module on the ingest path defines its load in :mod:`bench.loads` (what it enables and
configures). Every tenant is seeded alike (members, one purchase each, a till's key, P1's
double-points campaign); the module tenants then get their module. The sides alternate, core
first (A B C A B C), each sending one purchase per request as P1 does, so the ratio of a
module's ingests per second to the core-only tenant's is what that module costs a purchase.
Goal: >= 0.85 for each module.

    .venv/bin/python -m bench.p7_module_tax [--members 100] [--modules clearing,tiers]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from bench.harness import Bench, Comparison, Goal, alternate_many, answer, main
from bench.ingest import check_ingested, ingest_request
from bench.loads import LoadSetup, ModuleLoad, module_loads
from bench.seed import BenchTenant, activate_campaign, seed_tenant

TITLE = "P7 module tax: P1 ingest with a module configured, vs a core-only tenant"
GOAL = Goal(minimum=0.85)


def add_arguments(arguments: argparse.ArgumentParser) -> None:
    arguments.add_argument("--members", type=int, default=100, help="members of each tenant")
    arguments.add_argument(
        "--modules", default="", help="comma-separated modules to measure (default: every load)"
    )


async def measure(bench: Bench) -> list[Comparison]:
    members = int(bench.options.extra.get("members", 100))
    wanted = {name for name in str(bench.options.extra.get("modules", "")).split(",") if name}
    loads = [load for load in module_loads() if not wanted or load.module in wanted]
    if not loads:
        raise SystemExit("no module load to measure (see bench/loads)")
    gateway = await bench.gateway()
    core = await _tenant(bench, members)
    setups = [await _module_tenant(bench, members, load) for load in loads]
    core_request = ingest_request(core, members)
    check_ingested(await answer(gateway, core_request), transactions=2)
    requests = []
    for tenant, setup in setups:
        request = ingest_request(tenant, members)
        check_ingested(await answer(gateway, request), transactions=setup.transactions)
        requests.append(request)
    await bench.analyze()
    baseline, subjects = await alternate_many(
        bench.http("core only", gateway, core_request),
        [
            bench.http(load.module, gateway, request)
            for load, request in zip(loads, requests, strict=True)
        ],
        bench.options,
    )
    return [
        Comparison(
            f"P7 {load.module}: module tenant / core-only tenant",
            "ingests",
            baseline,
            samples,
            GOAL,
            notes=[setup.note],
        )
        for load, (_, setup), samples in zip(loads, setups, subjects, strict=True)
    ]


async def _tenant(bench: Bench, members: int) -> BenchTenant:
    """A tenant as P1's: ``members`` members who have each bought once, the campaign live."""
    async with bench.connect() as database:
        tenant = await seed_tenant(database, members=members, purchases=1, active=members)
        await activate_campaign(database, tenant)
    return tenant


async def _module_tenant(
    bench: Bench, members: int, load: ModuleLoad
) -> tuple[BenchTenant, LoadSetup]:
    tenant = await _tenant(bench, members)
    async with bench.connect() as database:
        setup = await load.configure(database, tenant)
    if setup.api_key is not None:
        tenant = dataclasses.replace(tenant, api_key=setup.api_key)
    return tenant, setup


__all__ = ["GOAL", "TITLE", "add_arguments", "measure"]

if __name__ == "__main__":
    sys.exit(main(TITLE, measure, add_arguments=add_arguments))
