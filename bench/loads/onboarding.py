"""Onboarding on the ingest path: every purchase is checked against the referral programme
(a referee's first qualifying purchase rewards the referrer), with the default settings a
retailer starts from (purchases qualify)."""

from __future__ import annotations

from loyalty_core.db.engine import Database
from loyalty_core.modules.manager import build_registry
from loyalty_core.modules.service import enable_module
from loyalty_core.tenants.service import get_tenant

from bench.loads import LoadSetup, ModuleLoad
from bench.seed import SEED_ACTOR, BenchTenant


async def configure(database: Database, tenant: BenchTenant) -> LoadSetup:
    async with database.tenant_transaction(tenant.tenant_id) as conn:
        found = await get_tenant(conn, tenant.tenant_id)
        await enable_module(conn, found, build_registry(), "onboarding", {}, actor=SEED_ACTOR)
    return LoadSetup("onboarding enabled with its defaults: every purchase meets the referrals")


LOAD = ModuleLoad("onboarding", configure)
