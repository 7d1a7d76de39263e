"""The tenant's voucher keys: one random secret, and the keys derived from it.

One 256-bit secret per tenant, made when the tenant first enables the module and kept in
``rewards_keys``: a voucher's code is stored as an HMAC under the derived hashing key (a
copy of the vouchers table alone reveals no code) and sealed under the derived sealing key
(so its owner can see it again); the draw of a surprise reward is an HMAC of the trigger
under the drawing key, so a replayed trigger draws the same. Derived with the SDK's HKDF
(``codes.derive_key``), one purpose per key, as gift cards derive theirs.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from loyalty_core.sdk import codes
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_rewards.tables import keys

_HASHING = b"loyalty-rewards/code-hmac/v1"
_SEALING = b"loyalty-rewards/code-aes-gcm/v1"
_DRAWING = b"loyalty-rewards/surprise-draw/v1"

_CACHE: dict[uuid.UUID, TenantKeys] = {}
"""Keys by tenant: a secret never changes once made, and the till path reads it per look-up."""


@dataclass(frozen=True)
class TenantKeys:
    hashing: bytes
    sealing: bytes
    drawing: bytes


async def ensure_key(conn: AsyncConnection, tenant_id: uuid.UUID) -> None:
    """Create the tenant's secret unless it has one (enabling again keeps it)."""
    await conn.execute(
        pg_insert(keys)
        .values(tenant_id=tenant_id, secret=secrets.token_bytes(32))
        .on_conflict_do_nothing(index_elements=["tenant_id"])
    )


async def tenant_keys(conn: AsyncConnection, tenant_id: uuid.UUID) -> TenantKeys:
    found = _CACHE.get(tenant_id)
    if found is not None:
        return found
    secret = await conn.scalar(select(keys.c.secret).where(keys.c.tenant_id == tenant_id))
    if secret is None:  # enabling always makes one; a missing key is a broken install
        raise RuntimeError("the tenant has no rewards key: enable the module again")
    derived = TenantKeys(
        hashing=codes.derive_key(bytes(secret), _HASHING),
        sealing=codes.derive_key(bytes(secret), _SEALING),
        drawing=codes.derive_key(bytes(secret), _DRAWING),
    )
    _CACHE[tenant_id] = derived
    return derived


__all__ = ["TenantKeys", "ensure_key", "tenant_keys"]
