"""Tiers on the ingest path: a four-level ladder on spend over the calendar year, so every
purchase locks the member's standing, adds its contribution with the month's sum in one
statement, and the purchase that crosses a threshold upgrades the member."""

from __future__ import annotations

from datetime import UTC, datetime

from loyalty_core.db.engine import Database
from loyalty_core.modules.manager import build_registry
from loyalty_core.modules.service import enable_module
from loyalty_core.tenants.service import get_tenant
from loyalty_tiers import service
from loyalty_tiers.settings import TierSettings

from bench.loads import LoadSetup, ModuleLoad
from bench.seed import SEED_ACTOR, BenchTenant

LADDER = {
    "levels": [
        {"name": "bronze", "threshold": 0, "benefits": ["Birthday coffee"]},
        {"name": "silver", "threshold": 20_000, "benefits": ["Free refills"]},
        {"name": "gold", "threshold": 60_000, "benefits": ["Double points on books"]},
        {"name": "platinum", "threshold": 150_000, "benefits": ["Signed first editions"]},
    ],
    "metric": "spend",
    "window": "calendar_year",
    "downgrade": "one_level",
}


async def configure(database: Database, tenant: BenchTenant) -> LoadSetup:
    async with database.tenant_transaction(tenant.tenant_id) as conn:
        found = await get_tenant(conn, tenant.tenant_id)
        await enable_module(conn, found, build_registry(), "tiers", {}, actor=SEED_ACTOR)
        await service.set_ladder(
            conn,
            tenant.tenant_id,
            TierSettings(),
            service.parse_ladder(LADDER),
            actor=SEED_ACTOR,
            now=datetime.now(UTC),
        )
    return LoadSetup("tiers enabled: a four-level ladder on spend over the calendar year")


LOAD = ModuleLoad("tiers", configure)
