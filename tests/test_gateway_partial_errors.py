"""A document in which one field fails while a sibling is reading: GraphQL stops waiting for
the sibling, whose statement on the request's shared read transaction is cancelled midway.
Ending that transaction must not turn the answer into a 500 (it did, on a gateway's first
requests, when statements are slow to prepare)."""

from __future__ import annotations

import asyncio
import contextlib

from loyalty_core.auth import Principal, Role
from loyalty_core.context import RequestContext
from loyalty_core.db.engine import Database
from loyalty_core.modules.manager import build_registry
from loyalty_core.tenants.models import Tenant
from sqlalchemy import text

from tests.fixtures.database import DatabaseUrls
from tests.fixtures.gateway import gateway_settings


async def test_a_request_whose_read_was_cancelled_midway_still_ends_cleanly(
    db: Database, tenant: Tenant, database_urls: DatabaseUrls
) -> None:
    context = RequestContext(
        principal=Principal(Role.ADMIN, "test", tenant.id),
        tenant=tenant,
        database=db,
        registry=build_registry(load_entry_points=False),
        enabled_modules={},
        settings=gateway_settings(database_urls),
    )
    started = asyncio.Event()

    async def slow_sibling() -> None:
        async with context.read() as conn:
            started.set()
            await conn.execute(text("SELECT pg_sleep(10)"))

    sibling = asyncio.create_task(slow_sibling())
    await started.wait()
    await asyncio.sleep(0.2)  # the statement is on the server now
    sibling.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sibling

    await context.close()  # must not raise

    async with db.tenant_transaction(tenant.id) as conn:  # the pool still serves
        assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
