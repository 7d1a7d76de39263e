"""Periodic jobs run per tenant: the core's for every tenant, a module's where it is enabled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from loyalty_core.db.engine import Database
from loyalty_core.modules.manager import build_registry
from loyalty_core.sweeps import SweepFailed, sweep
from loyalty_core.tenants.models import Tenant
from loyalty_gateway.jobs import run_jobs_once
from loyalty_testing import create_test_tenant, enable_for
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.modules import greetings

NOW = datetime.now(UTC)


async def test_module_jobs_run_for_tenants_that_enabled_the_module(
    db: Database, tenant: Tenant
) -> None:
    registry = build_registry(plugins=[greetings], load_entry_points=False)
    other = await create_test_tenant(db)
    await enable_for(db, registry, tenant, greetings.NAME)
    greetings.COUNTED.clear()

    counts = await run_jobs_once(db, registry, NOW)

    assert tenant.id in greetings.COUNTED
    assert other.id not in greetings.COUNTED
    assert counts["greetings:count"] == len(greetings.COUNTED)
    assert {"core:ledger.release_pending", "core:ledger.expire_points"} <= set(counts)


async def test_jobs_run_again_only_once_their_interval_passed(db: Database) -> None:
    registry = build_registry(plugins=[greetings], load_entry_points=False)
    last_runs = {"greetings:count": NOW, "core:ledger.release_pending": NOW - timedelta(hours=1)}

    counts = await run_jobs_once(db, registry, NOW + timedelta(seconds=1), last_runs=last_runs)

    assert "greetings:count" not in counts
    assert "core:ledger.release_pending" in counts


async def test_a_thing_that_fails_in_a_sweep_fails_alone(db: Database, tenant: Tenant) -> None:
    handled: list[int] = []

    async def due(conn: AsyncConnection, limit: int) -> list[int]:
        return [n for n in range(1, 6) if n not in handled][:limit]

    async def handle(conn: AsyncConnection, item: int) -> bool:
        if item == 2:
            raise ValueError("a row no code foresaw")
        handled.append(item)
        return True

    with pytest.raises(SweepFailed) as failed:
        await sweep(db, tenant.id, due, handle, batch=2)

    assert handled == [1, 3, 4, 5]  # after it, and in the batches that followed
    assert (failed.value.done, failed.value.failed) == (4, 1)
