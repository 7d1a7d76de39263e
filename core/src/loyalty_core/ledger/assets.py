"""Defining a tenant's assets: point currencies (points, stamps, miles) and money for stored
value. Changing an asset's expiry or pending policy applies to points earned from then on;
lots already earned keep the dates they were given."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.audit.service import record
from loyalty_core.errors import ErrorCode, LoyaltyError, NotFound, ValidationFailed
from loyalty_core.ids import new_id
from loyalty_core.ledger import repository as repo
from loyalty_core.ledger.models import Asset, AssetKind, ExpiryPolicy
from loyalty_core.ledger.tables import assets

CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")
MAX_DAYS = 36_600
MAX_PERIODS = {ExpiryPolicy.END_OF_MONTH: 1200, ExpiryPolicy.END_OF_YEAR: 100}


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
    expiry_policy: ExpiryPolicy | None = None,
    expiry_periods: int = 0,
    expiry_date: date | None = None,
    spendable: bool = True,
    actor: str,
) -> Asset:
    """A new asset. Without ``expiry_policy`` it expires ``expiry_days`` after earn when those
    are given, else never. A points asset that is not ``spendable`` only counts (status
    points): nothing can spend, hold or transfer it."""
    if not CODE.fullmatch(code):
        raise ValidationFailed("code: a lowercase letter, then up to 31 of a-z 0-9 _", field="code")
    _never_with_days(expiry_policy, expiry_days)
    asset = Asset(
        id=new_id(),
        code=code,
        name=name.strip(),
        kind=kind,
        scale=scale,
        allow_negative=False,
        expiry_days=expiry_days,
        pending_days=pending_days,
        expiry_policy=expiry_policy or ExpiryPolicy.NEVER,
        expiry_periods=expiry_periods,
        expiry_date=expiry_date,
        spendable=spendable,
    )
    await _check(conn, tenant_id, asset, name=name)
    try:
        async with conn.begin_nested():
            await repo.insert_asset(conn, tenant_id, asset)
    except IntegrityError as exc:
        raise LoyaltyError(
            f"an asset {code!r} exists", code=ErrorCode.ALREADY_EXISTS, field="code"
        ) from exc
    await record(conn, tenant_id, actor=actor, action="asset.create", target=f"asset:{code}")
    return asset


async def ensure_asset(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    code: str,
    name: str,
    kind: AssetKind,
    scale: int = 0,
    actor: str,
) -> Asset:
    """The tenant's asset ``code``, created (never expiring) when it has none: what a module
    makes on first use. Safe when several transactions make it at once: the insert does
    nothing when another made it first (waiting for it to commit), and the asset is read
    back, so each gets the one asset instead of ALREADY_EXISTS. The asset stored may have
    been made with other arguments; the caller checks what it needs of it."""
    found = await repo.get_asset(conn, tenant_id, code)
    if found is not None:
        return found
    if not CODE.fullmatch(code):
        raise ValidationFailed("code: a lowercase letter, then up to 31 of a-z 0-9 _", field="code")
    asset = Asset(
        id=new_id(),
        code=code,
        name=name.strip(),
        kind=kind,
        scale=scale,
        allow_negative=False,
        expiry_days=None,
        pending_days=0,
        expiry_policy=ExpiryPolicy.NEVER,
        expiry_periods=0,
        expiry_date=None,
    )
    await _check(conn, tenant_id, asset, name=name)
    if await repo.insert_asset(conn, tenant_id, asset, if_absent=True):
        await record(conn, tenant_id, actor=actor, action="asset.create", target=f"asset:{code}")
        return asset
    found = await repo.get_asset(conn, tenant_id, code)
    assert found is not None, "the insert found the code taken by a committed asset"
    return found


async def update_asset(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    code: str,
    *,
    name: str | None = None,
    expiry_days: int | None = None,
    clear_expiry: bool = False,
    pending_days: int | None = None,
    expiry_policy: ExpiryPolicy | None = None,
    expiry_periods: int | None = None,
    expiry_date: date | None = None,
    spendable: bool | None = None,
    actor: str,
) -> Asset:
    """Rename an asset or change its policy for future earns (expiry, pending period), or
    whether it can be spent (from now on: what is already held for a payment stays held).

    ``expiry_policy`` replaces the whole expiry policy with the parameters given alongside;
    ``expiry_days`` alone means days after earn, ``clear_expiry`` never; ``expiry_periods`` or
    ``expiry_date`` alone change the parameter of the current policy.
    """
    current = await repo.get_asset(conn, tenant_id, code)
    if current is None:
        raise NotFound(f"no asset {code[:32]!r}", field="code")
    _never_with_days(expiry_policy, expiry_days)
    wanted = replace(
        current,
        name=current.name if name is None else name.strip(),
        pending_days=current.pending_days if pending_days is None else pending_days,
        spendable=current.spendable if spendable is None else spendable,
    )
    if expiry_policy is not None or clear_expiry or expiry_days is not None:
        wanted = replace(
            wanted,
            expiry_policy=expiry_policy
            or (ExpiryPolicy.NEVER if clear_expiry else ExpiryPolicy.DAYS_AFTER_EARN),
            expiry_days=expiry_days,
            expiry_periods=expiry_periods or 0,
            expiry_date=expiry_date,
        )
    else:
        wanted = replace(
            wanted,
            expiry_periods=current.expiry_periods if expiry_periods is None else expiry_periods,
            expiry_date=expiry_date or current.expiry_date,
        )
    await _check(conn, tenant_id, wanted, name=wanted.name, current=current)
    columns = (
        "name",
        "pending_days",
        "expiry_policy",
        "expiry_days",
        "expiry_periods",
        "expiry_date",
        "spendable",
    )
    changes = {
        column: getattr(wanted, column)
        for column in columns
        if getattr(wanted, column) != getattr(current, column)
    }
    if changes:
        await conn.execute(
            update(assets)
            .where(assets.c.tenant_id == tenant_id, assets.c.id == current.id)
            .values(**changes)
        )
    await record(
        conn,
        tenant_id,
        actor=actor,
        action="asset.update",
        target=f"asset:{code}",
        data={k: v.isoformat() if isinstance(v, date) else v for k, v in changes.items()},
    )
    updated = await repo.get_asset(conn, tenant_id, code)
    assert updated is not None
    return updated


def _never_with_days(policy: ExpiryPolicy | None, days: int | None) -> None:
    if policy is ExpiryPolicy.NEVER and days is not None:
        raise ValidationFailed("expiryDays: only with DAYS_AFTER_EARN", field="expiryDays")


async def _check(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    asset: Asset,
    *,
    name: str,
    current: Asset | None = None,
) -> None:
    """Refuse a bad asset. A fixed date must not lie in the past when it is set; once set it
    may pass (the asset can still be renamed)."""
    if not name.strip() or len(name) > 100:
        raise ValidationFailed("name: 1-100 characters", field="name")
    if not 0 <= asset.scale <= 4:
        raise ValidationFailed("scale: 0 to 4 digits of minor unit", field="scale")
    if not asset.spendable and asset.kind is not AssetKind.POINTS:
        raise ValidationFailed(
            "spendable: only points can be made not spendable", field="spendable"
        )
    if not 0 <= asset.pending_days <= MAX_DAYS:
        raise ValidationFailed(f"pendingDays: 0 to {MAX_DAYS}", field="pendingDays")
    policy = asset.expiry_policy
    if policy is ExpiryPolicy.DAYS_AFTER_EARN:
        if asset.expiry_days is None or not 0 < asset.expiry_days <= MAX_DAYS:
            raise ValidationFailed(
                f"expiryDays: 1 to {MAX_DAYS} with DAYS_AFTER_EARN", field="expiryDays"
            )
    elif asset.expiry_days is not None:
        raise ValidationFailed("expiryDays: only with DAYS_AFTER_EARN", field="expiryDays")
    most = MAX_PERIODS.get(policy, 0)
    if not 0 <= asset.expiry_periods <= most:
        raise ValidationFailed(
            f"expiryPeriods: 0 to {most} with {policy.name}"
            if most
            else "expiryPeriods: only with END_OF_MONTH or END_OF_YEAR",
            field="expiryPeriods",
        )
    if policy is ExpiryPolicy.FIXED_DATE:
        if asset.expiry_date is None:
            raise ValidationFailed("expiryDate: required with FIXED_DATE", field="expiryDate")
        zone = ZoneInfo(await repo.tenant_timezone(conn, tenant_id))
        unchanged = current is not None and current.expiry_date == asset.expiry_date
        if not unchanged and asset.expiry_date < datetime.now(UTC).astimezone(zone).date():
            raise ValidationFailed("expiryDate: today or later", field="expiryDate")
    elif asset.expiry_date is not None:
        raise ValidationFailed("expiryDate: only with FIXED_DATE", field="expiryDate")


__all__ = ["create_asset", "ensure_asset", "update_asset"]
