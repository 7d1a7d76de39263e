"""Held connections: a process lends each of its connections to one transaction at a time,
makes callers wait their turn (and gives up after a while), and replaces a broken one without
the transaction that finds it broken failing."""

from __future__ import annotations

import asyncio

import pytest
from loyalty_core.db.engine import Database, create_engine
from loyalty_core.db.held import HeldConnections
from loyalty_core.tenants.models import Tenant
from loyalty_testing import DatabaseUrls
from sqlalchemy import text


async def _backend(database: Database, tenant: Tenant) -> int:
    async with database.tenant_transaction(tenant.id) as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_more_transactions_than_connections_take_turns_on_the_same_ones(
    database_urls: DatabaseUrls, tenant: Tenant
) -> None:
    database = Database.connect(database_urls.app, pool_size=1)  # two connections
    try:

        async def slow() -> int:
            async with database.tenant_transaction(tenant.id) as conn:
                await conn.execute(text("SELECT pg_sleep(0.02)"))
                return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())

        backends = await asyncio.gather(*(slow() for _ in range(8)))
    finally:
        await database.dispose()

    assert len(set(backends)) == 2


async def test_a_connection_the_server_ended_is_replaced_unseen(
    database_urls: DatabaseUrls, owner_db: Database, tenant: Tenant
) -> None:
    database = Database.connect(database_urls.app, pool_size=1)
    try:
        first = await _backend(database, tenant)
        async with owner_db.engine.connect() as owner:
            await owner.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
            await owner.commit()
        second = await _backend(database, tenant)  # unseen: BEGIN found it dead
    finally:
        await database.dispose()

    assert second != first


async def test_waiting_for_a_connection_gives_up_after_a_while(
    database_urls: DatabaseUrls,
) -> None:
    engine = create_engine(database_urls.app, pool_size=1, autocommit=True)
    held = HeldConnections(engine, size=1, wait_seconds=0.05)
    try:
        conn = await held.acquire()
        with pytest.raises(TimeoutError):
            await held.acquire()
        held.release(conn)
        again = await held.acquire()  # the turn passed on despite the waiter that gave up
        held.release(again)
    finally:
        await held.dispose()
        await engine.dispose()
