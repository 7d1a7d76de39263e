"""Vouchers: issued with a generated code or handed out from an imported pool, checked against
a basket, held for a checkout, used at a till.

Every state change is one conditional UPDATE that says which race it wins:

- **Use** (``redeem``): ``uses + 1`` only while the voucher is active, unexpired, has uses
  left and no *other* checkout holds it, so two tills using a single-use code at once get
  one success and one VOUCHER_NOT_USABLE. The use row is claimed by its idempotency key
  first, so a retried request replays its first answer.
- **Reservation** (``reserve``): taken only while nobody else holds a live reservation; a
  lapsed one is simply overwritten. Lapse is checked where the code is used (the clock at
  use time decides), and the sweep job clears what lapsed so listings read clean.

A code is found by the keyed hash of its normalised form (:func:`normalised`), the same
function at import and at look-up: generated codes by the SDK's typo-tolerant
normalisation, imported codes (any retailer format) upper-cased without spaces and dashes.
An imported code that happens to read as a generated one (the right symbols and check
symbol) is hashed in that form both times, so it is always found.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from loyalty_core.sdk import Conflict, ErrorCode, LoyaltyError, codes, fingerprint, new_id
from sqlalchemy import and_, case, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_rewards import repository as repo
from loyalty_rewards.keys import TenantKeys, tenant_keys
from loyalty_rewards.kinds import DiscountKind, VoucherTemplate
from loyalty_rewards.models import (
    Basket,
    Check,
    LineError,
    PoolImport,
    Used,
    Voucher,
    VoucherUse,
)
from loyalty_rewards.settings import RewardSettings
from loyalty_rewards.tables import pools, voucher_uses, vouchers

REFUSALS = (
    "NOT_FOUND",
    "LOCKED",
    "NOT_ACTIVE",
    "EXPIRED",
    "USED_UP",
    "RESERVED",
    "CURRENCY",
    "BASKET_TOO_SMALL",
    "ITEM_MISSING",
)
"""Why a voucher may not be used for a basket (``Check.refusal``)."""

MAX_POOL_LINES = 100_000
_IMPORTED = re.compile(r"^[A-Z0-9]{6,64}$")


class NotUsable(LoyaltyError):
    """The voucher cannot be used (used up, expired, cancelled, or not for this basket)."""

    code = ErrorCode.VOUCHER_NOT_USABLE


class Reserved(LoyaltyError):
    """Another checkout holds the voucher until its reservation lapses."""

    code = ErrorCode.VOUCHER_RESERVED


def normalised(typed: str) -> str:
    """The form a code is hashed in: a generated code's canonical form when it is one (typos
    of I/L/O forgiven), else upper case without spaces and dashes (imported codes)."""
    return codes.normalise(typed) or typed.upper().replace("-", "").replace(" ", "")


def binding(tenant_id: uuid.UUID, voucher_id: uuid.UUID) -> bytes:
    """What a sealed code is bound to: it opens only on its own voucher of its own tenant."""
    return f"voucher:{tenant_id}:{voucher_id}".encode()


def reveal(
    keys: TenantKeys, tenant_id: uuid.UUID, voucher_id: uuid.UUID, sealed: bytes, *, pooled: bool
) -> str:
    """The code for its owner: a generated one in groups of four, an imported one (``pooled``)
    as the retailer wrote it, since that is what its partner prints."""
    plain = codes.unseal(keys.sealing, binding(tenant_id, voucher_id), sealed)
    return plain if pooled else codes.display(plain)


async def issue(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: RewardSettings,
    template: VoucherTemplate,
    *,
    member_id: uuid.UUID,
    reward_id: uuid.UUID | None,
    redemption_id: uuid.UUID,
    now: datetime,
) -> tuple[Voucher, str] | None:
    """A voucher for the member and its code (for display): generated, or the next code of
    the template's pool (None when the pool is empty)."""
    keys = await tenant_keys(conn, tenant_id)
    days = template.valid_days or settings.voucher_days
    owned = {
        "member_id": member_id,
        "reward_id": reward_id,
        "redemption_id": redemption_id,
        "status": "active",
        "expires_at": now + timedelta(days=days),
        **_discount(template),
    }
    if template.pool_id is not None:
        return await _from_pool(conn, tenant_id, keys, template.pool_id, owned)
    voucher_id = new_id()
    code = codes.new_code(settings.code_length)
    row = await conn.execute(
        insert(vouchers)
        .values(
            tenant_id=tenant_id,
            id=voucher_id,
            code_hash=codes.digest(keys.hashing, code),
            last_four=codes.last_four(code),
            code_sealed=codes.seal(keys.sealing, binding(tenant_id, voucher_id), code),
            created_at=now,
            **owned,
        )
        .returning(vouchers)
    )
    return repo.voucher_from_row(row.one()), codes.display(code)


async def _from_pool(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    keys: TenantKeys,
    pool_id: uuid.UUID,
    owned: dict[str, Any],
) -> tuple[Voucher, str] | None:
    """Hand out the pool's oldest available code; concurrent redemptions skip the codes
    others are taking (SKIP LOCKED), so no code goes to two members."""
    next_code = (
        select(vouchers.c.id)
        .where(
            vouchers.c.tenant_id == tenant_id,
            vouchers.c.pool_id == pool_id,
            vouchers.c.status == "available",
        )
        .order_by(vouchers.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    row = (
        await conn.execute(
            update(vouchers)
            .where(vouchers.c.tenant_id == tenant_id, vouchers.c.id == next_code)
            .values(**owned)
            .returning(vouchers)
        )
    ).first()
    if row is None:
        return None
    voucher = repo.voucher_from_row(row)
    return voucher, reveal(keys, tenant_id, voucher.id, row.code_sealed, pooled=True)


def _discount(template: VoucherTemplate) -> dict[str, Any]:
    return {
        "discount_kind": template.discount.value,
        "amount": template.amount,
        "percent": template.percent,
        "item_sku": template.item_sku,
        "currency": template.currency,
        "min_basket": template.min_basket,
        "max_uses": template.max_uses,
    }


def check(voucher: Voucher, basket: Basket, *, checkout: str | None, now: datetime) -> Check:
    """What ``voucher`` would take off ``basket`` now, or why it may not be used."""
    if voucher.status == "expired" or (voucher.expires_at and voucher.expires_at <= now):
        return _refused(voucher, "EXPIRED", "the voucher has expired")
    if voucher.status == "redeemed" or (
        voucher.max_uses is not None and voucher.uses >= voucher.max_uses
    ):
        return _refused(voucher, "USED_UP", "the voucher has been used")
    if voucher.status != "active":
        return _refused(voucher, "NOT_ACTIVE", f"the voucher is {voucher.status}")
    if voucher.reserved_for_other(checkout, now):
        return _refused(voucher, "RESERVED", "another checkout holds the voucher")
    if voucher.currency is not None and voucher.currency != basket.currency:
        return _refused(voucher, "CURRENCY", f"the voucher is for {voucher.currency} baskets")
    if voucher.min_basket is not None and basket.amount < voucher.min_basket:
        return _refused(
            voucher, "BASKET_TOO_SMALL", f"the basket must come to at least {voucher.min_basket}"
        )
    return _discounted(voucher, basket)


def _discounted(voucher: Voucher, basket: Basket) -> Check:
    kind = DiscountKind(voucher.discount_kind)
    if kind is DiscountKind.AMOUNT:
        return Check(voucher, discount=min(voucher.amount or 0, basket.amount))
    if kind is DiscountKind.PERCENT:
        return Check(voucher, discount=basket.amount * (voucher.percent or 0) // 100)
    prices = [item.unit_price for item in basket.items if item.sku == voucher.item_sku]
    if not prices:
        return _refused(voucher, "ITEM_MISSING", f"the basket holds no {voucher.item_sku}")
    return Check(voucher, discount=min(max(prices), basket.amount))


def _refused(voucher: Voucher, refusal: str, reason: str) -> Check:
    return Check(voucher, refusal=refusal, reason=reason)


async def reserve(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    voucher_id: uuid.UUID,
    *,
    checkout: str,
    ttl: timedelta,
    now: datetime,
) -> Voucher:
    """Hold the voucher for ``checkout`` until ``now + ttl`` (again by the same checkout:
    extended). Wins only while no other checkout holds a live reservation."""
    row = (
        await conn.execute(
            update(vouchers)
            .where(
                vouchers.c.tenant_id == tenant_id,
                vouchers.c.id == voucher_id,
                _usable(now),
                _free_for(checkout, now),
            )
            .values(reserved_by=checkout, reserved_until=now + ttl)
            .returning(vouchers)
        )
    ).first()
    if row is not None:
        return repo.voucher_from_row(row)
    raise await _why_not(conn, tenant_id, voucher_id, checkout, now)


async def redeem(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    voucher_id: uuid.UUID,
    basket: Basket,
    *,
    checkout: str | None,
    idempotency_key: str,
    actor: str,
    now: datetime,
) -> Used:
    """Use the voucher once for ``basket``: the discount, recorded with the use. The use's
    idempotency key is claimed first (a concurrent retry waits for it, then replays)."""
    request_hash = fingerprint(
        {"voucher": str(voucher_id), "basket": _basket_json(basket), "checkout": checkout}
    )
    use_id = new_id()
    claimed = await conn.scalar(
        pg_insert(voucher_uses)
        .values(
            tenant_id=tenant_id,
            id=use_id,
            voucher_id=voucher_id,
            discount=0,
            basket_amount=basket.amount,
            currency=basket.currency,
            checkout=checkout,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            actor=actor,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "idempotency_key"])
        .returning(voucher_uses.c.id)
    )
    if claimed is None:
        return await _replay(conn, tenant_id, idempotency_key, request_hash)
    voucher = await repo.get_voucher(conn, tenant_id, voucher_id)
    assert voucher is not None  # the look-up found it, and vouchers are never deleted
    verdict = check(voucher, basket, checkout=checkout, now=now)
    if not verdict.valid:
        raise _error(verdict)
    row = (
        await conn.execute(
            update(vouchers)
            .where(
                vouchers.c.tenant_id == tenant_id,
                vouchers.c.id == voucher_id,
                _usable(now),
                _free_for(checkout, now),
            )
            .values(
                uses=vouchers.c.uses + 1,
                status=case(
                    (
                        and_(
                            vouchers.c.max_uses.isnot(None),
                            vouchers.c.uses + 1 >= vouchers.c.max_uses,
                        ),
                        "redeemed",
                    ),
                    else_=vouchers.c.status,
                ),
                reserved_by=None,
                reserved_until=None,
            )
            .returning(vouchers)
        )
    ).first()
    if row is None:  # another till won the race since the check
        raise await _why_not(conn, tenant_id, voucher_id, checkout, now)
    return await _record_use(conn, tenant_id, repo.voucher_from_row(row), use_id, verdict)


async def _record_use(
    conn: AsyncConnection, tenant_id: uuid.UUID, voucher: Voucher, use_id: uuid.UUID, verdict: Check
) -> Used:
    row = (
        await conn.execute(
            update(voucher_uses)
            .where(voucher_uses.c.tenant_id == tenant_id, voucher_uses.c.id == use_id)
            .values(discount=verdict.discount)
            .returning(voucher_uses)
        )
    ).one()
    return Used(voucher=voucher, use=_use(row), replayed=False)


async def _replay(conn: AsyncConnection, tenant_id: uuid.UUID, key: str, request_hash: str) -> Used:
    row = (
        await conn.execute(
            select(voucher_uses).where(
                voucher_uses.c.tenant_id == tenant_id, voucher_uses.c.idempotency_key == key
            )
        )
    ).one()
    if row.request_hash != request_hash:
        raise Conflict(
            "this idempotency key was used for another voucher redemption",
            field="idempotencyKey",
        )
    voucher = await repo.get_voucher(conn, tenant_id, row.voucher_id)
    assert voucher is not None
    return Used(voucher=voucher, use=_use(row), replayed=True)


def _use(row: Any) -> VoucherUse:
    m = row._mapping
    return VoucherUse(**{name: m[name] for name in VoucherUse.__dataclass_fields__})


def _usable(now: datetime) -> Any:
    """Active, unexpired, with uses left."""
    return and_(
        vouchers.c.status == "active",
        or_(vouchers.c.expires_at.is_(None), vouchers.c.expires_at > now),
        or_(vouchers.c.max_uses.is_(None), vouchers.c.uses < vouchers.c.max_uses),
    )


def _free_for(checkout: str | None, now: datetime) -> Any:
    """No other checkout holds a live reservation (a lapsed one holds nothing)."""
    free = or_(vouchers.c.reserved_until.is_(None), vouchers.c.reserved_until <= now)
    return free if checkout is None else or_(free, vouchers.c.reserved_by == checkout)


async def _why_not(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    voucher_id: uuid.UUID,
    checkout: str | None,
    now: datetime,
) -> LoyaltyError:
    """The error for a voucher a conditional update did not take, read after the race."""
    voucher = await repo.get_voucher(conn, tenant_id, voucher_id)
    assert voucher is not None
    verdict = check(
        voucher, Basket(amount=0, currency=voucher.currency or ""), checkout=checkout, now=now
    )
    if verdict.refusal == "RESERVED":
        return Reserved(verdict.reason or "", field="code")
    return NotUsable(verdict.reason or "the voucher cannot be used", field="code")


def _error(verdict: Check) -> LoyaltyError:
    if verdict.refusal == "RESERVED":
        return Reserved(verdict.reason or "", field="code")
    return NotUsable(verdict.reason or "", field="basket" if verdict.voucher else "code")


def _basket_json(basket: Basket) -> dict[str, Any]:
    return {
        "amount": basket.amount,
        "currency": basket.currency,
        "items": [[i.sku, i.quantity, i.unit_price] for i in basket.items],
    }


async def sealed_code(
    conn: AsyncConnection, tenant_id: uuid.UUID, voucher_id: uuid.UUID
) -> bytes | None:
    found = await conn.scalar(
        select(vouchers.c.code_sealed).where(
            vouchers.c.tenant_id == tenant_id, vouchers.c.id == voucher_id
        )
    )
    return None if found is None else bytes(found)


async def cancel(conn: AsyncConnection, tenant_id: uuid.UUID, voucher_id: uuid.UUID) -> bool:
    """Withdraw an unused voucher (its redemption was cancelled); False when it was used."""
    result = await conn.execute(
        update(vouchers)
        .where(
            vouchers.c.tenant_id == tenant_id,
            vouchers.c.id == voucher_id,
            vouchers.c.uses == 0,
            vouchers.c.status.in_(("active", "expired")),
        )
        .values(status="cancelled", reserved_by=None, reserved_until=None)
    )
    return result.rowcount == 1


async def release_lapsed(conn: AsyncConnection, tenant_id: uuid.UUID, now: datetime) -> int:
    """Clear every reservation that lapsed (one statement; the use path ignores them anyway)."""
    result = await conn.execute(
        update(vouchers)
        .where(
            vouchers.c.tenant_id == tenant_id,
            vouchers.c.reserved_until.isnot(None),
            vouchers.c.reserved_until <= now,
        )
        .values(reserved_by=None, reserved_until=None)
    )
    return result.rowcount


async def expire_due(conn: AsyncConnection, tenant_id: uuid.UUID, now: datetime) -> int:
    """Mark active vouchers past their expiry ``expired`` (one statement, idempotent)."""
    result = await conn.execute(
        update(vouchers)
        .where(
            vouchers.c.tenant_id == tenant_id,
            vouchers.c.status == "active",
            vouchers.c.expires_at.isnot(None),
            vouchers.c.expires_at <= now,
        )
        .values(status="expired")
    )
    return result.rowcount


@dataclass(frozen=True)
class _Line:
    number: int
    written: str
    """As the retailer wrote it: what the member who gets the code is shown."""
    code: str
    """Normalised (:func:`normalised`): what is hashed, at import as at look-up."""


async def import_pool(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    name: str,
    text: str,
    actor: str,
    now: datetime,
    idempotency_key: str | None = None,
) -> PoolImport:
    """Import a CSV of codes (one per line, in the first column; a header ``code`` is
    skipped) as a pool, all or nothing: every line is checked (format, repeated in the file,
    already known to the tenant) and the pool is written only when none was wrong.

    With ``idempotency_key``, a retried import (the same name and file) answers the first
    pool (``replayed``) and writes nothing; the key with another file is
    IDEMPOTENCY_CONFLICT. The key is the lock (there is no row yet), so a concurrent retry
    waits for the first and then replays it. Codes are inserted ``ON CONFLICT DO NOTHING``
    on their hash: a code another import wrote meanwhile is reported like any known code,
    never a half-imported pool.
    """
    request_hash = fingerprint({"name": name, "csv": text})
    if idempotency_key is not None:
        await conn.execute(
            select(
                func.pg_advisory_xact_lock(
                    func.hashtextextended(f"{tenant_id}:rewards:pool:{idempotency_key}", 0)
                )
            )
        )
        found = (
            await conn.execute(
                select(pools).where(
                    pools.c.tenant_id == tenant_id, pools.c.idempotency_key == idempotency_key
                )
            )
        ).first()
        if found is not None:
            if found.request_hash != request_hash:
                raise Conflict(
                    "this idempotency key was used to import another file",
                    field="idempotencyKey",
                )
            return PoolImport(found.id, found.name, found.size, found.size, 0, 0, (), True)
    lines, errors = _parse(text)
    keys = await tenant_keys(conn, tenant_id)
    hashes = {line.number: codes.digest(keys.hashing, line.code) for line in lines}
    seen: dict[str, int] = {}
    duplicates = 0
    for line in lines:
        first = seen.setdefault(hashes[line.number], line.number)
        if first != line.number:
            duplicates += 1
            errors.append(LineError(line.number, f"repeats the code of line {first}"))
    known = await _known(conn, tenant_id, list(set(hashes.values())))
    for line in lines:
        if hashes[line.number] in known and seen[hashes[line.number]] == line.number:
            duplicates += 1
            errors.append(LineError(line.number, "the code is already known (another voucher)"))
    total = len(lines) + sum(1 for e in errors if e.line not in hashes)
    if errors or not lines:
        if not lines and not errors:
            errors.append(LineError(0, "the file holds no codes"))
        return _refused_import(name, total, duplicates, errors)
    pool_id = new_id()
    await conn.execute(
        insert(pools).values(
            tenant_id=tenant_id,
            id=pool_id,
            name=name,
            size=len(lines),
            actor=actor,
            created_at=now,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
        )
    )
    rows = []
    for line in lines:
        voucher_id = new_id()
        rows.append(
            {
                "tenant_id": tenant_id,
                "id": voucher_id,
                "code_hash": hashes[line.number],
                "last_four": codes.last_four(line.code),
                "code_sealed": codes.seal(
                    keys.sealing, binding(tenant_id, voucher_id), line.written
                ),
                "pool_id": pool_id,
                "discount_kind": DiscountKind.AMOUNT.value,
                "status": "available",
                "created_at": now,
            }
        )
    written: set[str] = set()
    for start in range(0, len(rows), _CHUNK):
        written.update(
            await conn.scalars(
                pg_insert(vouchers)
                .values(rows[start : start + _CHUNK])
                .on_conflict_do_nothing(index_elements=["tenant_id", "code_hash"])
                .returning(vouchers.c.code_hash)
            )
        )
    raced = [
        LineError(line.number, "the code is already known (imported meanwhile)")
        for line in lines
        if hashes[line.number] not in written
    ]
    if raced:  # the caller rolls back: nothing of this pool stays
        return _refused_import(name, total, len(raced), raced)
    return PoolImport(pool_id, name, len(lines), len(lines), 0, 0, ())


_CHUNK = 2_000
"""Codes per INSERT: ten parameters a row stays far below PostgreSQL's 32767."""


def _refused_import(name: str, total: int, duplicates: int, errors: list[LineError]) -> PoolImport:
    errors.sort(key=lambda error: error.line)
    rejected = len({error.line for error in errors})
    return PoolImport(None, name, total, 0, duplicates, rejected, tuple(errors))


def _parse(text: str) -> tuple[list[_Line], list[LineError]]:
    lines: list[_Line] = []
    errors: list[LineError] = []
    for number, fields in enumerate(csv.reader(io.StringIO(text)), start=1):
        raw = fields[0].strip() if fields else ""
        if not raw or (number == 1 and raw.lower() == "code"):
            continue
        if number > MAX_POOL_LINES:
            errors.append(LineError(number, f"a pool holds at most {MAX_POOL_LINES} codes"))
            break
        if not _IMPORTED.match(raw.upper().replace("-", "").replace(" ", "")):
            errors.append(
                LineError(number, "a code is 6-64 letters and digits (dashes and spaces ignored)")
            )
            continue
        lines.append(_Line(number, raw, normalised(raw)))
    return lines, errors


async def _known(conn: AsyncConnection, tenant_id: uuid.UUID, hashes: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(hashes), 5_000):
        rows = await conn.scalars(
            select(vouchers.c.code_hash).where(
                vouchers.c.tenant_id == tenant_id,
                vouchers.c.code_hash.in_(hashes[start : start + 5_000]),
            )
        )
        found.update(rows)
    return found


__all__ = [
    "REFUSALS",
    "NotUsable",
    "Reserved",
    "cancel",
    "check",
    "expire_due",
    "import_pool",
    "issue",
    "normalised",
    "redeem",
    "release_lapsed",
    "reserve",
    "reveal",
    "sealed_code",
]
