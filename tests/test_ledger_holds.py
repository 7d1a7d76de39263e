"""Holds (pending debits) and give-backs in the ledger, one behaviour per test, on real
PostgreSQL as the app role: what a hold sets aside no other debit can take, points
expiring while held wait for the hold, and a give-back returns what a spend took with the
expiry it had."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

import pytest
from loyalty_core.db.engine import Database
from loyalty_core.errors import Conflict, ErrorCode, InsufficientFunds
from loyalty_core.ids import new_id
from loyalty_core.ledger import holds
from loyalty_core.ledger import repository as repo
from loyalty_core.ledger import service as ledger
from loyalty_core.ledger.models import Hold, HoldStatus, Posted, Purpose
from loyalty_core.ledger.tables import ledger_lots
from loyalty_core.tenants.models import Tenant
from sqlalchemy import select

from tests.test_ledger_service import NOW, balance, earn, new_member, points, posting, spend


async def hold(
    db: Database, tenant: Tenant, member_id: uuid.UUID, amount: int, *, key: str | None = None
) -> Hold:
    async with db.tenant_transaction(tenant.id) as conn:
        asset = await points(conn, tenant)
        account = await repo.member_account(conn, tenant.id, member_id, asset, Purpose.AVAILABLE)
        return await holds.place_hold(
            conn,
            posting(tenant, key or f"hold:{new_id()}"),
            account_id=account,
            asset=asset,
            amount=amount,
        )


async def held(db: Database, tenant: Tenant, member_id: uuid.UUID) -> int:
    async with db.tenant_transaction(tenant.id) as conn:
        (found,) = await ledger.balances(conn, tenant.id, member_id)
    return found.held


async def test_a_hold_sets_points_aside_from_every_other_debit(
    db: Database, tenant: Tenant
) -> None:
    member = await new_member(db, tenant)
    await earn(db, tenant, member, 100)
    await hold(db, tenant, member, 70)

    assert await balance(db, tenant, member) == (30, 0)
    assert await held(db, tenant, member) == 70
    with pytest.raises(InsufficientFunds):
        await spend(db, tenant, member, 31)
    await spend(db, tenant, member, 30)
    with pytest.raises(InsufficientFunds):
        await hold(db, tenant, member, 1)


async def test_concurrent_holds_never_over_commit_a_balance(db: Database, tenant: Tenant) -> None:
    member = await new_member(db, tenant)
    await earn(db, tenant, member, 100)

    async def attempt() -> bool:
        try:
            await hold(db, tenant, member, 30)
        except InsufficientFunds:
            return False
        return True

    results = await asyncio.gather(*(attempt() for _ in range(12)))

    assert sum(results) == 3
    assert await balance(db, tenant, member) == (10, 0)
    assert await held(db, tenant, member) == 90


async def test_a_replayed_hold_is_the_first_one_and_another_request_conflicts(
    db: Database, tenant: Tenant
) -> None:
    member = await new_member(db, tenant)
    await earn(db, tenant, member, 100)
    first = await hold(db, tenant, member, 40, key="same")
    again = await hold(db, tenant, member, 40, key="same")

    assert (again.id, again.replayed, first.replayed) == (first.id, True, False)
    assert await held(db, tenant, member) == 40
    with pytest.raises(Conflict) as refused:
        await hold(db, tenant, member, 41, key="same")
    assert refused.value.code is ErrorCode.IDEMPOTENCY_CONFLICT


async def test_capture_posts_the_debit_and_a_closed_hold_captures_nothing(
    db: Database, tenant: Tenant
) -> None:
    member = await new_member(db, tenant)
    await earn(db, tenant, member, 100)
    placed = await hold(db, tenant, member, 60)

    async def capture(amount: int) -> tuple[Hold, Posted] | None:
        async with db.tenant_transaction(tenant.id) as conn:
            asset = await points(conn, tenant)

            async def debit() -> Posted:
                return await ledger.spend(
                    conn,
                    posting(tenant, f"capture:{new_id()}"),
                    member_id=member,
                    asset=asset,
                    amount=amount,
                )

            return await holds.capture_hold(conn, tenant.id, placed.id, now=NOW, debit=debit)

    captured = await capture(50)
    assert captured is not None
    closed, posted = captured
    assert (closed.status, closed.transaction_id) == (HoldStatus.CAPTURED, posted.transaction.id)
    assert await balance(db, tenant, member) == (50, 0)
    assert await held(db, tenant, member) == 0
    assert await capture(10) is None
    async with db.tenant_transaction(tenant.id) as conn:
        assert await holds.release_hold(conn, tenant.id, placed.id, now=NOW) is None


async def test_points_expiring_while_held_wait_for_the_hold(db: Database, tenant: Tenant) -> None:
    member = await new_member(db, tenant)
    expiring = await earn(db, tenant, member, 100, expires_at=NOW + timedelta(days=1))
    placed = await hold(db, tenant, member, 60)
    lot_id = await _lot(db, tenant, expiring)
    later = NOW + timedelta(days=2)

    async with db.tenant_transaction(tenant.id) as conn:
        assert await ledger.expire_lot(conn, tenant.id, lot_id, now=later) is None
    assert await balance(db, tenant, member) == (40, 0)

    async with db.tenant_transaction(tenant.id) as conn:
        assert await holds.release_hold(conn, tenant.id, placed.id, now=later) is not None
        assert await ledger.expire_lot(conn, tenant.id, lot_id, now=later) is not None
    assert await balance(db, tenant, member) == (0, 0)


async def test_a_forfeit_refuses_points_held_for_a_payment(db: Database, tenant: Tenant) -> None:
    member = await new_member(db, tenant)
    earned = await earn(db, tenant, member, 100)
    await hold(db, tenant, member, 10)

    async with db.tenant_transaction(tenant.id) as conn:
        with pytest.raises(Conflict) as refused:
            await ledger.forfeit_lot(conn, tenant.id, await _lot(db, tenant, earned), now=NOW)
    assert refused.value.code is ErrorCode.VALUE_HELD


async def test_a_clawback_takes_only_what_is_not_held(db: Database, tenant: Tenant) -> None:
    member = await new_member(db, tenant)
    earned = await earn(db, tenant, member, 100)
    await hold(db, tenant, member, 80)

    async with db.tenant_transaction(tenant.id) as conn:
        await ledger.reverse(
            conn,
            posting(tenant, "clawback"),
            original=earned.transaction,
            member_id=member,
            asset=await points(conn, tenant),
            amount=100,
        )

    assert await balance(db, tenant, member) == (0, 0)
    assert await held(db, tenant, member) == 80


async def test_give_back_returns_latest_expiring_points_first_with_their_expiry(
    db: Database, tenant: Tenant
) -> None:
    member = await new_member(db, tenant)
    soon, late = NOW + timedelta(days=10), NOW + timedelta(days=100)
    await earn(db, tenant, member, 30, expires_at=soon)
    await earn(db, tenant, member, 50, expires_at=late)
    spent = await spend(db, tenant, member, 60)  # 30 of the first lot, 30 of the second

    first = await _give_back(db, tenant, member, spent, 40)
    second = await _give_back(db, tenant, member, spent, 40)  # only 20 are left to return

    assert await _returned_lots(db, tenant, first) == [(30, late), (10, soon)]
    assert await _returned_lots(db, tenant, second) == [(20, soon)]
    assert await balance(db, tenant, member) == (80, 0)
    assert await _give_back(db, tenant, member, spent, 5, key="last") is not None
    assert await balance(db, tenant, member) == (80, 0)


async def _give_back(
    db: Database,
    tenant: Tenant,
    member: uuid.UUID,
    spent: Posted,
    amount: int,
    *,
    key: str | None = None,
) -> Posted:
    async with db.tenant_transaction(tenant.id) as conn:
        return await ledger.give_back(
            conn,
            posting(tenant, key or f"give-back:{new_id()}"),
            original=spent.transaction,
            member_id=member,
            asset=await points(conn, tenant),
            amount=amount,
        )


async def _lot(db: Database, tenant: Tenant, posted: Posted) -> uuid.UUID:
    async with db.tenant_transaction(tenant.id) as conn:
        found = await conn.scalar(
            select(ledger_lots.c.id).where(
                ledger_lots.c.tenant_id == tenant.id,
                ledger_lots.c.transaction_id == posted.transaction.id,
            )
        )
    return uuid.UUID(str(found))


async def _returned_lots(
    db: Database, tenant: Tenant, posted: Posted
) -> list[tuple[int, datetime | None]]:
    async with db.tenant_transaction(tenant.id) as conn:
        rows = await conn.execute(
            select(ledger_lots.c.earned, ledger_lots.c.expires_at)
            .where(
                ledger_lots.c.tenant_id == tenant.id,
                ledger_lots.c.transaction_id == posted.transaction.id,
            )
            .order_by(ledger_lots.c.expires_at.desc())
        )
    return [(int(earned), expires_at) for earned, expires_at in rows]
