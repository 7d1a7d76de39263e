"""P4, fixed overhead: ``{ __typename }`` through the gateway vs a bare Starlette endpoint.

Both answer ``{"data": {"__typename": "Query"}}``. The gateway's request carries a till's API
key, as every real request does, so what is measured is the whole per-request machinery: the
key found in the caller cache (with its tenant and modules, read from the database once), the
schema and the cached document picked, the operation executed, orjson written. The baseline
does none of it, which is the point: the ratio says how much of a core's HTTP capacity the
machinery leaves. Goal (issue 4): >= 0.6.

    .venv/bin/python -m bench.p4_overhead [--rounds 5 --seconds 10 ...]
"""

from __future__ import annotations

import asyncio
import sys

from bench.harness import Bench, Comparison, Goal, alternate, expect_same_answer, main
from bench.loadgen import HttpRequest
from bench.seed import BenchTenant, seed_tenant

TITLE = "P4 fixed overhead: { __typename } vs a bare Starlette JSON endpoint"
TYPENAME_BODY = '{"query": "{ __typename }"}'


async def measure(bench: Bench) -> list[Comparison]:
    # The gateway takes seconds to import and compose: start it while the rest is prepared.
    gateway, baseline, tenant = await asyncio.gather(
        bench.gateway(), bench.baseline("hello"), _seed(bench)
    )
    request = HttpRequest("/graphql", TYPENAME_BODY, {"X-Api-Key": tenant.api_key})
    await expect_same_answer(request, gateway, baseline)
    baselines, gateways = await alternate(
        bench.http("starlette fixed JSON", baseline, request),
        bench.http("gateway { __typename } + API key", gateway, request),
        bench.options,
    )
    name = "P4 { __typename }: gateway / Starlette"
    return [Comparison(name, "requests", baselines, gateways, Goal(minimum=0.6))]


async def _seed(bench: Bench) -> BenchTenant:
    async with bench.connect() as database:
        return await seed_tenant(database, members=1, purchases=0)


if __name__ == "__main__":
    sys.exit(main(TITLE, measure))
