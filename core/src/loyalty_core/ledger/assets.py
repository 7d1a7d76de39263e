"""Defining a tenant's assets: point currencies (points, stamps, miles) and money for stored
value. Changing an asset's expiry or pending policy applies to points earned from then on;
lots already earned keep the dates they were given."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.audit.service import record
from loyalty_core.errors import ErrorCode, LoyaltyError, NotFound, ValidationFailed
from loyalty_core.ids import new_id
from loyalty_core.ledger import repository as repo
from loyalty_core.ledger.models import Asset, AssetKind
from loyalty_core.ledger.tables import assets

CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")
MAX_DAYS = 36_600


async def create_asset(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    code: str,
    name: str,
    kind: AssetKind,
    scale: int = 0,
    expiry_days: int | None = None,
    pending_days: int = 0,
    actor: str,
) -> Asset:
    if not CODE.fullmatch(code):
        raise ValidationFailed("code: a lowercase letter, then up to 31 of a-z 0-9 _", field="code")
    _check(name=name, scale=scale, expiry_days=expiry_days, pending_days=pending_days)
    asset = Asset(
        id=new_id(),
        code=code,
        name=name.strip(),
        kind=kind,
        scale=scale,
        allow_negative=False,
        expiry_days=expiry_days,
        pending_days=pending_days,
    )
    try:
        async with conn.begin_nested():
            await repo.insert_asset(conn, tenant_id, asset)
    except IntegrityError as exc:
        raise LoyaltyError(
            f"an asset {code!r} exists", code=ErrorCode.ALREADY_EXISTS, field="code"
        ) from exc
    await record(conn, tenant_id, actor=actor, action="asset.create", target=f"asset:{code}")
    return asset


async def update_asset(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    code: str,
    *,
    name: str | None = None,
    expiry_days: int | None = None,
    clear_expiry: bool = False,
    pending_days: int | None = None,
    actor: str,
) -> Asset:
    """Rename an asset or change its policy for future earns (expiry, pending period)."""
    current = await repo.get_asset(conn, tenant_id, code)
    if current is None:
        raise NotFound(f"no asset {code[:32]!r}", field="code")
    changes: dict[str, object] = {}
    if name is not None:
        changes["name"] = name.strip()
    if clear_expiry:
        changes["expiry_days"] = None
    elif expiry_days is not None:
        changes["expiry_days"] = expiry_days
    if pending_days is not None:
        changes["pending_days"] = pending_days
    _check(
        name=str(changes.get("name", current.name)),
        scale=current.scale,
        expiry_days=expiry_days,
        pending_days=current.pending_days if pending_days is None else pending_days,
    )
    if changes:
        await conn.execute(
            update(assets)
            .where(assets.c.tenant_id == tenant_id, assets.c.id == current.id)
            .values(**changes)
        )
    await record(
        conn, tenant_id, actor=actor, action="asset.update", target=f"asset:{code}", data=changes
    )
    updated = await repo.get_asset(conn, tenant_id, code)
    assert updated is not None
    return updated


def _check(*, name: str, scale: int, expiry_days: int | None, pending_days: int) -> None:
    if not name.strip() or len(name) > 100:
        raise ValidationFailed("name: 1-100 characters", field="name")
    if not 0 <= scale <= 4:
        raise ValidationFailed("scale: 0 to 4 digits of minor unit", field="scale")
    if expiry_days is not None and not 0 < expiry_days <= MAX_DAYS:
        raise ValidationFailed(f"expiryDays: 1 to {MAX_DAYS}", field="expiryDays")
    if not 0 <= pending_days <= MAX_DAYS:
        raise ValidationFailed(f"pendingDays: 0 to {MAX_DAYS}", field="pendingDays")


__all__ = ["create_asset", "update_asset"]
