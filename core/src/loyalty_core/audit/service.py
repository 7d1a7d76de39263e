"""Recording administrative writes. Called inside the writer's transaction, so an audit row
exists exactly when the change it describes was committed."""

from __future__ import annotations

import uuid

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.audit.tables import audit_log
from loyalty_core.ids import new_id


async def record(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    actor: str,
    action: str,
    target: str,
    data: dict[str, object] | None = None,
) -> None:
    await conn.execute(
        insert(audit_log).values(
            tenant_id=tenant_id,
            id=new_id(),
            actor=actor,
            action=action,
            target=target,
            data=data or {},
        )
    )


__all__ = ["record"]
