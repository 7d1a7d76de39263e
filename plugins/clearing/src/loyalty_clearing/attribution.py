"""Who a movement is attributed to: the partner bound to the caller's API key.

The partner comes from the credential (the actor the core recorded for the event or the
redemption, ``touchpoint:<API key id>``), never from an argument. A key's binding is written
in the transaction that creates the key and never changes, so it is read once per process
and kept: the ingest hot path costs no look-up after the first event of a key.
"""

from __future__ import annotations

import uuid

from loyalty_core.sdk import parse_id
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_clearing import repository as repo

TOUCHPOINT = "touchpoint:"
_MAX_KEYS = 100_000
_bindings: dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID | None] = {}


async def partner_of_actor(
    conn: AsyncConnection, tenant_id: uuid.UUID, actor: str
) -> uuid.UUID | None:
    """The partner whose key ``actor`` is, or None (an admin, a member, a till of the
    operator's own)."""
    if not actor.startswith(TOUCHPOINT):
        return None
    key_id = parse_id(actor.removeprefix(TOUCHPOINT))
    return None if key_id is None else await partner_of_key(conn, tenant_id, key_id)


async def partner_of_key(
    conn: AsyncConnection, tenant_id: uuid.UUID, key_id: uuid.UUID
) -> uuid.UUID | None:
    cached = (tenant_id, key_id)
    if cached in _bindings:
        return _bindings[cached]
    found = await repo.partner_of_key(conn, tenant_id, key_id)
    if len(_bindings) >= _MAX_KEYS:
        _bindings.clear()
    _bindings[cached] = found
    return found


__all__ = ["TOUCHPOINT", "partner_of_actor", "partner_of_key"]
