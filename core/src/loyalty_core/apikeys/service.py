"""Creating and verifying API keys.

A key reads ``lk_<tenant>_<key id>_<secret>``: the tenant and key id in the clear let the
gateway scope the lookup to one tenant under row-level security (no cross-tenant search),
and the 256-bit secret is compared as a SHA-256 digest in constant time. The full key is
shown once, at creation.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.apikeys.tables import api_keys
from loyalty_core.audit.service import record
from loyalty_core.auth import Principal, Role, Scope
from loyalty_core.errors import NotFound, ValidationFailed
from loyalty_core.ids import new_id

PREFIX = "lk"


@dataclass(frozen=True)
class ApiKey:
    id: uuid.UUID
    name: str
    scopes: tuple[Scope, ...]
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class IssuedApiKey:
    """A new key and its secret form, which is never stored and never shown again."""

    api_key: ApiKey
    secret: str


async def create_api_key(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    name: str,
    scopes: Sequence[str],
    actor: str,
) -> IssuedApiKey:
    """A new key of the tenant named ``name`` (1-100 characters) with ``scopes`` (values of
    ``Scope``), created in the caller's transaction and audited as ``actor``'s. The secret
    form is in the result only; it is never stored or shown again. INVALID_INPUT on a bad
    name or scope."""
    if not name.strip() or len(name) > 100:
        raise ValidationFailed("name: 1-100 characters", field="name")
    parsed = _scopes(scopes)
    key_id = new_id()
    secret = secrets.token_urlsafe(32)
    await conn.execute(
        insert(api_keys).values(
            tenant_id=tenant_id,
            id=key_id,
            name=name.strip(),
            secret_hash=_digest(secret),
            scopes=[s.value for s in parsed],
            created_by=actor,
        )
    )
    await record(conn, tenant_id, actor=actor, action="api_key.create", target=f"api_key:{key_id}")
    row = (
        await conn.execute(
            select(api_keys).where(api_keys.c.tenant_id == tenant_id, api_keys.c.id == key_id)
        )
    ).one()
    return IssuedApiKey(api_key=_from_row(row), secret=PresentedKey(tenant_id, key_id, secret).raw)


async def revoke_api_key(
    conn: AsyncConnection, tenant_id: uuid.UUID, key_id: uuid.UUID, *, actor: str
) -> ApiKey:
    row = (
        await conn.execute(
            update(api_keys)
            .where(api_keys.c.tenant_id == tenant_id, api_keys.c.id == key_id)
            .values(revoked_at=func.now())
            .returning(api_keys)
        )
    ).first()
    if row is None:
        raise NotFound("API key not found", field="id")
    await record(conn, tenant_id, actor=actor, action="api_key.revoke", target=f"api_key:{key_id}")
    return _from_row(row)


async def list_api_keys(conn: AsyncConnection, tenant_id: uuid.UUID) -> list[ApiKey]:
    rows = await conn.execute(
        select(api_keys).where(api_keys.c.tenant_id == tenant_id).order_by(api_keys.c.id)
    )
    return [_from_row(row) for row in rows]


@dataclass(frozen=True)
class PresentedKey:
    """An API key as a caller presented it, parsed but not yet checked."""

    tenant_id: uuid.UUID
    key_id: uuid.UUID
    secret: str

    @property
    def raw(self) -> str:
        """The key as issued: ``lk_<tenant>_<key id>_<secret>``."""
        return f"{PREFIX}_{self.tenant_id.hex}_{self.key_id.hex}_{self.secret}"


def parse_api_key(raw_key: str) -> PresentedKey | None:
    """The parts of ``lk_<tenant>_<key id>_<secret>``; None when it has not that shape."""
    parts = raw_key.strip().split("_", 3)
    if len(parts) != 4 or parts[0] != PREFIX or not parts[3]:
        return None
    try:
        return PresentedKey(uuid.UUID(hex=parts[1]), uuid.UUID(hex=parts[2]), parts[3])
    except ValueError:
        return None


async def check_api_key(conn: AsyncConnection, key: PresentedKey) -> Principal | None:
    """The touchpoint principal of a valid, unrevoked key, read in the caller's transaction
    of the key's tenant (the gateway reads the tenant and its modules in the same one)."""
    row = (
        await conn.execute(
            select(api_keys.c.secret_hash, api_keys.c.scopes, api_keys.c.revoked_at).where(
                api_keys.c.tenant_id == key.tenant_id, api_keys.c.id == key.key_id
            )
        )
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.secret_hash, _digest(key.secret)):
        return None
    return Principal(
        role=Role.TOUCHPOINT,
        subject=str(key.key_id),
        tenant_id=key.tenant_id,
        scopes=frozenset(Scope(s) for s in row.scopes),
    )


def _scopes(scopes: Sequence[str]) -> tuple[Scope, ...]:
    if not scopes:
        raise ValidationFailed("give at least one scope", field="scopes")
    try:
        return tuple(sorted({Scope(s) for s in scopes}))
    except ValueError as exc:
        known = ", ".join(s.value for s in Scope)
        raise ValidationFailed(f"scopes must be among {known}", field="scopes") from exc


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _from_row(row: Row[Any]) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        scopes=tuple(Scope(s) for s in row.scopes),
        created_by=row.created_by,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


__all__ = [
    "ApiKey",
    "IssuedApiKey",
    "PresentedKey",
    "check_api_key",
    "create_api_key",
    "list_api_keys",
    "parse_api_key",
    "revoke_api_key",
]
