"""The ledger's periodic work: release pending points, expire lots. Idempotent per lot (the
ledger key ``release:<lot>`` / ``expiry:<lot>``), so replicas may run them at once."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.db.engine import Database
from loyalty_core.ledger import repository as repo
from loyalty_core.ledger import service
from loyalty_core.ledger.models import Posted
from loyalty_core.modules.contributions import JobContext
from loyalty_core.sweeps import sweep
from loyalty_core.tenants.models import Tenant


class _LotCloser(Protocol):
    async def __call__(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, lot_id: uuid.UUID, *, now: datetime
    ) -> Posted | None: ...


async def release_pending(context: JobContext) -> int:
    """Make every pending lot whose time has come available; how many were released."""
    return await _sweep(
        context.database, context.tenant, "available_from", service.release_lot, context.now
    )


async def expire_points(context: JobContext) -> int:
    """Move what is left of every expired lot to breakage; how many lots expired."""
    return await _sweep(
        context.database, context.tenant, "expires_at", service.expire_lot, context.now
    )


async def _sweep(
    database: Database, tenant: Tenant, column: str, close: _LotCloser, now: datetime
) -> int:
    """Close due lots, one short transaction per lot (a member's accounts stay locked only
    for their own lot)."""

    async def due(conn: AsyncConnection, limit: int) -> list[uuid.UUID]:
        return await repo.due_lots(conn, tenant.id, column=column, now=now, limit=limit)

    async def handle(conn: AsyncConnection, lot_id: uuid.UUID) -> bool:
        return await close(conn, tenant.id, lot_id, now=now) is not None

    return await sweep(database, tenant.id, due, handle)


__all__ = ["expire_points", "release_pending"]
