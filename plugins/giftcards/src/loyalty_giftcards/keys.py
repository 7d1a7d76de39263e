"""The tenant's HMAC key for codes and PINs.

Decision: one random 256-bit key per tenant, made when the tenant first enables the module
and kept in ``giftcards_keys`` (row-level secured like every table). A server-wide secret
from the environment would survive a leaked database dump, but it would make every
tenant's hashes hang on one value and tie the module to the gateway's configuration; a
per-tenant key keeps codes out of reach of anyone reading the cards table (logs, analytics
copies, a support query) and makes hashes useless across tenants. Re-enabling keeps the key:
changing it would orphan every card.
"""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_giftcards.tables import keys


async def ensure_key(conn: AsyncConnection, tenant_id: uuid.UUID) -> None:
    """Create the tenant's key unless it has one (enabling again keeps it)."""
    await conn.execute(
        pg_insert(keys)
        .values(tenant_id=tenant_id, secret=secrets.token_bytes(32))
        .on_conflict_do_nothing(index_elements=["tenant_id"])
    )


async def tenant_key(conn: AsyncConnection, tenant_id: uuid.UUID) -> bytes:
    secret = (
        await conn.execute(select(keys.c.secret).where(keys.c.tenant_id == tenant_id))
    ).scalar()
    if secret is None:  # enabling always makes one; a missing key is a broken install
        raise RuntimeError("the tenant has no gift card key: enable the module again")
    return bytes(secret)


__all__ = ["ensure_key", "tenant_key"]
