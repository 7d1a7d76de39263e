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
from loyalty_testing import DatabaseUrls, MakeApp, admin_token, gateway_settings, graphql
from sqlalchemy import text


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


async def test_a_sibling_still_reading_when_the_request_ends_gives_its_connection_back(
    make_app: MakeApp, tenant: Tenant
) -> None:
    """One root field fails at once, the others read: the response is sent while they still
    read. Done more times than the gateway holds connections, every request is answered, and
    afterwards every connection is idle again (they were lent for good, and the gateway
    stopped answering after a handful of such requests)."""
    gateway = await make_app(pool_size=2)
    document = (
        "{ members(first: 0) { pageInfo { hasNextPage } } "
        + " ".join(f"m{i}: members(first: 1) {{ pageInfo {{ hasNextPage }} }}" for i in range(5))
        + " }"
    )
    for _ in range(12):
        body = await graphql(gateway.client, document, token=admin_token(tenant.id))
        assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT", body
    held = gateway.state.database.held_connections
    await asyncio.sleep(0.5)
    assert held.idle == held.opened, (held.idle, held.opened)
