"""Engines and tenant-scoped transactions.

Every unit of work runs in one transaction that first sets ``loyalty.tenant_id`` (or the
platform scope) with ``set_config(..., true)``: local to the transaction, so a pooled
connection never carries one tenant's scope into the next request. Row-level security reads
that setting; the repositories filter by tenant as well, so either wall alone keeps tenants
apart.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

_SET_TENANT = text("SELECT set_config('loyalty.tenant_id', :tenant_id, true)")
_SET_PLATFORM = text("SELECT set_config('loyalty.scope', 'platform', true)")


def _json_serializer(value: object) -> str:
    return orjson.dumps(value).decode()


def create_engine(url: URL, *, pool_size: int = 10) -> AsyncEngine:
    """An asyncpg engine with orjson for JSONB and a pool sized for one gateway process."""
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=False,
        json_serializer=_json_serializer,
        json_deserializer=orjson.loads,
    )


class Database:
    """The gateway's handle on PostgreSQL: an engine and the transactions it hands out."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @asynccontextmanager
    async def tenant_transaction(self, tenant_id: uuid.UUID) -> AsyncIterator[AsyncConnection]:
        """A transaction that sees only ``tenant_id``'s rows; commits on success."""
        async with self.engine.begin() as conn:
            await conn.execute(_SET_TENANT, {"tenant_id": str(tenant_id)})
            yield conn

    @asynccontextmanager
    async def platform_transaction(self) -> AsyncIterator[AsyncConnection]:
        """A transaction in the platform scope: sees all tenants (and only the tenants table)."""
        async with self.engine.begin() as conn:
            await conn.execute(_SET_PLATFORM)
            yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()


async def set_tenant(conn: AsyncConnection, tenant_id: uuid.UUID) -> None:
    """Scope an open transaction to a tenant (used right after creating one)."""
    await conn.execute(_SET_TENANT, {"tenant_id": str(tenant_id)})


__all__ = ["Database", "create_engine", "set_tenant"]
