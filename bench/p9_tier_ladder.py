"""P9 (ladder change): ``tierLadderSimulate`` and ``tierLadderSet`` on a tenant with many
members, for time and memory. Not a comparison: the figures the issue asks about ("a
ladder change on a million members").

One tenant with ``--members`` members seeded as P9 seeds them (a standing each, a metric in
three months of 2025), at the end of 2025. The module's own functions run as the two
mutations run them, in one tenant transaction each: the simulation of a ladder with other
thresholds (writing nothing), then setting it (every member it raises moves at once, with a
history row). Both read the members a batch at a time; the process's peak resident memory
after each shows the memory stays bounded by a batch, not by the members.

    .venv/bin/python -m bench.p9_tier_ladder [--members 1000000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from loyalty_core.tenants.service import create_tenant
from loyalty_tiers import service
from loyalty_tiers.settings import TierSettings

from bench.harness import prepare_database
from bench.p9_tier_window import LADDER, _now, seed

TITLE = "P9 tier ladder change: tierLadderSimulate and tierLadderSet on many members"
CHANGED: dict[str, Any] = {
    **LADDER,
    "levels": [
        {"name": "bronze", "threshold": 0},
        {"name": "silver", "threshold": 10_000},
        {"name": "gold", "threshold": 40_000},
        {"name": "platinum", "threshold": 100_000},
    ],
    "downgrade": "one_level",
}
T = TypeVar("T")


async def measured(work: Callable[[], Awaitable[T]]) -> tuple[T, float, float]:
    """``work``'s result, its seconds and the process's peak resident memory after it, MiB."""
    started = time.perf_counter()
    result = await work()
    elapsed = time.perf_counter() - started
    return result, elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run(members: int, database_url: str | None) -> None:
    database = await prepare_database(database_url)
    owner, app = database.database(owner=True), database.database()
    settings, changed = TierSettings(), service.parse_ladder(CHANGED)
    try:
        async with owner.platform_transaction() as conn:
            tenant = await create_tenant(conn, slug=f"p9l-{uuid.uuid4().hex[:8]}", name="P9")
        async with app.tenant_transaction(tenant.id) as conn:
            await service.set_ladder(
                conn, tenant.id, settings, service.parse_ladder(LADDER), actor="bench", now=_now()
            )
        print(f"seeding {members:,} members ...", flush=True)
        await seed(owner, tenant.id, members)

        async def simulate() -> service.Simulation:
            async with app.tenant_transaction(tenant.id) as conn:
                return await service.simulate(conn, tenant.id, settings, changed, _now(), limit=100)

        async def apply() -> None:
            async with app.tenant_transaction(tenant.id) as conn:
                await service.set_ladder(
                    conn, tenant.id, settings, changed, actor="bench", now=_now()
                )

        simulation, simulated, simulated_peak = await measured(simulate)
        _, applied, applied_peak = await measured(apply)
    finally:
        await owner.dispose()
        await app.dispose()
    print(TITLE)
    print(
        f"members: {members:,}; the simulation: {simulation.up:,} up at once, "
        f"{simulation.down:,} down at the window's end"
    )
    print(f"tierLadderSimulate: {simulated:8.2f} s   peak resident {simulated_peak:7.1f} MiB")
    print(f"tierLadderSet:      {applied:8.2f} s   peak resident {applied_peak:7.1f} MiB")


def main() -> int:
    arguments = argparse.ArgumentParser(description=TITLE)
    arguments.add_argument("--members", type=int, default=1_000_000)
    arguments.add_argument("--database-url", default=None)
    options = arguments.parse_args()
    asyncio.run(run(options.members, options.database_url))
    return 0


__all__ = ["TITLE", "main", "measured", "run"]

if __name__ == "__main__":
    sys.exit(main())
