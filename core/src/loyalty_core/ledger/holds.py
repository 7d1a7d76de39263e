"""Holds: pending debits, the first phase of a two-phase payment.

A hold sets ``amount`` of an account aside without posting anything: the account row's
``held`` grows, and every debit of the account (spend, transfer, post, expiry, clawback)
may only take what is not held; a CHECK constraint (``balance >= held``) backs that up. The
second phase either captures the hold (the caller releases it and posts the real debit in
the same transaction, so the set-aside value is what pays) or releases it (void, expiry).

Placing a hold is one conditional UPDATE of the account row, like a debit, so two tills
holding against one balance at once queue on the row lock and never over-commit it. Holds
are idempotent by key like ledger transactions: a replay returns the first hold, another
request under the same key is IDEMPOTENCY_CONFLICT.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.errors import Conflict, ErrorCode, InsufficientFunds
from loyalty_core.hashing import fingerprint
from loyalty_core.ids import new_id
from loyalty_core.ledger.models import Asset, Hold, HoldStatus, Posted
from loyalty_core.ledger.repository import as_uuid
from loyalty_core.ledger.service import Posting, require_positive, require_spendable
from loyalty_core.ledger.tables import ledger_accounts, ledger_holds


async def place_hold(
    conn: AsyncConnection,
    posting: Posting,
    *,
    account_id: uuid.UUID,
    asset: Asset,
    amount: int,
    expires_at: datetime | None = None,
) -> Hold:
    """Set ``amount`` of the account aside; INSUFFICIENT_BALANCE when less is available.

    Works on any account that keeps its balance in the row: a member's available points, a
    gift card's stored value. ``expires_at`` is informational (what a member's app shows);
    whoever placed the hold releases it when it lapses. An asset that is not spendable is
    never held (``ASSET_NOT_SPENDABLE``): a hold is the first half of a spend.
    """
    require_positive(amount)
    require_spendable(asset)
    request = {"op": "hold", "account": account_id, "asset": asset.code, "amount": amount}
    request_hash = fingerprint({**request, "expires_at": expires_at})
    row = (
        await conn.execute(
            pg_insert(ledger_holds)
            .values(
                tenant_id=posting.tenant_id,
                id=new_id(),
                account_id=account_id,
                asset_id=asset.id,
                amount=amount,
                idempotency_key=posting.idempotency_key,
                request_hash=request_hash,
                reason=posting.reason,
                cause_kind=posting.cause.kind,
                cause_id=posting.cause.id,
                actor=posting.actor,
                expires_at=expires_at,
                created_at=posting.now,
            )
            .on_conflict_do_nothing(index_elements=["tenant_id", "idempotency_key"])
            .returning(ledger_holds)
        )
    ).first()
    if row is None:
        return await _replay(conn, posting, request_hash)
    set_aside = await conn.execute(
        update(ledger_accounts)
        .where(
            ledger_accounts.c.tenant_id == posting.tenant_id,
            ledger_accounts.c.id == account_id,
            ledger_accounts.c.tracks_balance,
            ledger_accounts.c.balance - ledger_accounts.c.held >= amount,
        )
        .values(held=ledger_accounts.c.held + amount)
        .returning(ledger_accounts.c.id)
    )
    if set_aside.first() is None:
        raise InsufficientFunds(f"fewer than {amount} {asset.code} available", field="amount")
    return hold_from_row(row)


async def release_hold(
    conn: AsyncConnection, tenant_id: uuid.UUID, hold_id: uuid.UUID, *, now: datetime
) -> Hold | None:
    """Close an open hold without posting (a void, an expiry): its amount is available again.
    None when the hold is not open any more: a concurrent capture, void or expiry got there
    first (the conditional UPDATE waits for it, then finds the hold closed)."""
    return await _close(conn, tenant_id, hold_id, now=now, status=HoldStatus.RELEASED)


async def capture_hold(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    hold_id: uuid.UUID,
    *,
    now: datetime,
    debit: Callable[[], Awaitable[Posted]],
) -> tuple[Hold, Posted] | None:
    """Close an open hold and post what it paid: ``debit`` posts the real debit (a spend of
    the member's points, a ``post`` from a gift card's account) of at most the held amount.
    It runs after the hold's amount is released, under the same row lock and transaction,
    so what was set aside is what pays; the hold records the transaction. None when the
    hold is not open any more (nothing is posted)."""
    closed = await _close(conn, tenant_id, hold_id, now=now, status=HoldStatus.CAPTURED)
    if closed is None:
        return None
    posted = await debit()
    await conn.execute(
        update(ledger_holds)
        .where(ledger_holds.c.tenant_id == tenant_id, ledger_holds.c.id == hold_id)
        .values(transaction_id=posted.transaction.id)
    )
    return replace(closed, transaction_id=posted.transaction.id), posted


async def _close(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    hold_id: uuid.UUID,
    *,
    now: datetime,
    status: HoldStatus,
) -> Hold | None:
    row = (
        await conn.execute(
            update(ledger_holds)
            .where(
                ledger_holds.c.tenant_id == tenant_id,
                ledger_holds.c.id == hold_id,
                ledger_holds.c.status == HoldStatus.HELD.value,
            )
            .values(status=status.value, closed_at=now)
            .returning(ledger_holds)
        )
    ).first()
    if row is None:
        return None
    await conn.execute(
        update(ledger_accounts)
        .where(ledger_accounts.c.tenant_id == tenant_id, ledger_accounts.c.id == row.account_id)
        .values(held=ledger_accounts.c.held - row.amount)
    )
    return hold_from_row(row)


async def get_hold(conn: AsyncConnection, tenant_id: uuid.UUID, hold_id: uuid.UUID) -> Hold | None:
    """A hold by id, or None (absent, or another tenant's)."""
    row = (
        await conn.execute(
            select(ledger_holds).where(
                ledger_holds.c.tenant_id == tenant_id, ledger_holds.c.id == hold_id
            )
        )
    ).first()
    return None if row is None else hold_from_row(row)


def hold_from_row(row: Row[Any], *, replayed: bool = False) -> Hold:
    return Hold(
        id=as_uuid(row.id),
        account_id=as_uuid(row.account_id),
        asset_id=as_uuid(row.asset_id),
        amount=int(row.amount),
        status=HoldStatus(row.status),
        idempotency_key=row.idempotency_key,
        expires_at=row.expires_at,
        transaction_id=None if row.transaction_id is None else as_uuid(row.transaction_id),
        created_at=row.created_at,
        closed_at=row.closed_at,
        replayed=replayed,
    )


async def _replay(conn: AsyncConnection, posting: Posting, request_hash: str) -> Hold:
    row = (
        await conn.execute(
            select(ledger_holds).where(
                ledger_holds.c.tenant_id == posting.tenant_id,
                ledger_holds.c.idempotency_key == posting.idempotency_key,
            )
        )
    ).one()
    if row.request_hash != request_hash:
        raise Conflict(
            "this idempotency key was used for a different request",
            code=ErrorCode.IDEMPOTENCY_CONFLICT,
            field="idempotencyKey",
        )
    return hold_from_row(row, replayed=True)


__all__ = [
    "capture_hold",
    "get_hold",
    "hold_from_row",
    "place_hold",
    "release_hold",
]
