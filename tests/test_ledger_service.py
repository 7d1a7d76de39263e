"""The ledger's business rules, one behaviour per test, on real PostgreSQL as the app role."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from loyalty_core.db.engine import Database
from loyalty_core.errors import Conflict, ErrorCode, InsufficientFunds
from loyalty_core.ids import new_id
from loyalty_core.ledger import repository as repo
from loyalty_core.ledger import service as ledger
from loyalty_core.ledger.models import Asset, Cause, Posted, Purpose, TransactionKind
from loyalty_core.ledger.tables import (
    ledger_accounts,
    ledger_entries,
    ledger_lots,
    ledger_transactions,
)
from loyalty_core.tenants.models import Tenant
from loyalty_core.tenants.service import DEFAULT_ASSET_CODE
from loyalty_testing import insert_member
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

NOW = datetime(2030, 1, 1, 12, tzinfo=UTC)


def posting(tenant: Tenant, key: str, *, now: datetime = NOW) -> ledger.Posting:
    return ledger.Posting(
        tenant_id=tenant.id,
        idempotency_key=key,
        reason="test",
        cause=Cause(kind="operator", id="test"),
        actor="test",
        now=now,
    )


async def points(conn: AsyncConnection, tenant: Tenant) -> Asset:
    asset = await repo.get_asset(conn, tenant.id, DEFAULT_ASSET_CODE)
    assert asset is not None
    return asset


async def new_member(db: Database, tenant: Tenant) -> uuid.UUID:
    async with db.tenant_transaction(tenant.id) as conn:
        return await insert_member(conn, tenant.id)


async def earn(
    db: Database,
    tenant: Tenant,
    member_id: uuid.UUID,
    amount: int,
    *,
    key: str | None = None,
    pending_days: int | None = None,
    expires_at: datetime | None = None,
) -> Posted:
    async with db.tenant_transaction(tenant.id) as conn:
        return await ledger.earn(
            conn,
            posting(tenant, key or f"earn:{new_id()}"),
            member_id=member_id,
            asset=await points(conn, tenant),
            amount=amount,
            pending_days=pending_days,
            expires_at=expires_at,
        )


async def spend(db: Database, tenant: Tenant, member_id: uuid.UUID, amount: int) -> Posted:
    async with db.tenant_transaction(tenant.id) as conn:
        return await ledger.spend(
            conn,
            posting(tenant, f"spend:{new_id()}"),
            member_id=member_id,
            asset=await points(conn, tenant),
            amount=amount,
        )


async def reverse(
    db: Database, tenant: Tenant, member_id: uuid.UUID, original: Posted, amount: int
) -> Posted:
    async with db.tenant_transaction(tenant.id) as conn:
        return await ledger.reverse(
            conn,
            posting(tenant, f"reverse:{new_id()}"),
            original=original.transaction,
            member_id=member_id,
            asset=await points(conn, tenant),
            amount=amount,
        )


async def balance(db: Database, tenant: Tenant, member_id: uuid.UUID) -> tuple[int, int]:
    """(available, pending) of the tenant's points."""
    async with db.tenant_transaction(tenant.id) as conn:
        (found,) = await ledger.balances(conn, tenant.id, member_id)
    return found.available, found.pending


async def lot_of(db: Database, tenant: Tenant, posted: Posted) -> tuple[int, datetime | None]:
    """(remaining, expires_at) of the one lot ``posted`` created."""
    async with db.tenant_transaction(tenant.id) as conn:
        row = (
            await conn.execute(
                select(ledger_lots.c.remaining, ledger_lots.c.expires_at).where(
                    ledger_lots.c.tenant_id == tenant.id,
                    ledger_lots.c.transaction_id == posted.transaction.id,
                )
            )
        ).one()
    return int(row.remaining), row.expires_at


async def count_rows(db: Database, tenant: Tenant) -> tuple[int, int, int]:
    """(transactions, entries, lots) of the tenant."""
    async with db.tenant_transaction(tenant.id) as conn:
        counts = [
            (await conn.execute(select(func.count()).select_from(table))).scalar_one()
            for table in (ledger_transactions, ledger_entries, ledger_lots)
        ]
    return counts[0], counts[1], counts[2]


async def test_spend_consumes_first_expiring_lot_first(db: Database, tenant: Tenant) -> None:
    member = await new_member(db, tenant)
    never = await earn(db, tenant, member, 100)
    later = await earn(db, tenant, member, 100, expires_at=NOW + timedelta(days=30))
    sooner = await earn(db, tenant, member, 100, expires_at=NOW + timedelta(days=10))

    await spend(db, tenant, member, 150)

    assert (await lot_of(db, tenant, sooner))[0] == 0
    assert (await lot_of(db, tenant, later))[0] == 50
    assert (await lot_of(db, tenant, never))[0] == 100
    assert await balance(db, tenant, member) == (150, 0)


async def test_replay_with_same_key_returns_first_transaction_and_writes_nothing(
    db: Database, tenant: Tenant
) -> None:
    member = await new_member(db, tenant)
    first = await earn(db, tenant, member, 100, key="purchase-1")
    counts = await count_rows(db, tenant)

    again = await earn(db, tenant, member, 100, key="purchase-1")

    assert (first.replayed, again.replayed) == (False, True)
    assert again.transaction == first.transaction
    assert await count_rows(db, tenant) == counts
    assert await balance(db, tenant, member) == (100, 0)


async def test_same_key_with_other_payload_is_idempotency_conflict(
    db: Database, tenant: Tenant
) -> None:
    member = await new_member(db, tenant)
    await earn(db, tenant, member, 100, key="purchase-1")

    with pytest.raises(Conflict) as raised:
        await earn(db, tenant, member, 50, key="purchase-1")

    assert raised.value.code is ErrorCode.IDEMPOTENCY_CONFLICT
    assert await balance(db, tenant, member) == (100, 0)


async def test_same_key_with_other_expiry_is_idempotency_conflict(
    db: Database, tenant: Tenant
) -> None:
    member = await new_member(db, tenant)
    await earn(db, tenant, member, 100, key="bonus-1", expires_at=NOW + timedelta(days=30))

    with pytest.raises(Conflict):
        await earn(db, tenant, member, 100, key="bonus-1", expires_at=NOW + timedelta(days=60))


async def test_concurrent_replays_write_one_transaction(db: Database, tenant: Tenant) -> None:
    member = await new_member(db, tenant)

    results = await asyncio.gather(
        *(earn(db, tenant, member, 100, key="purchase-1") for _ in range(10))
    )

    assert len({r.transaction.id for r in results}) == 1
    assert sorted(r.replayed for r in results) == [False] + [True] * 9
    assert await balance(db, tenant, member) == (100, 0)


async def test_transfer_keeps_expiry_of_transferred_points(db: Database, tenant: Tenant) -> None:
    sender, recipient = await new_member(db, tenant), await new_member(db, tenant)
    expires_at = NOW + timedelta(days=30)
    await earn(db, tenant, sender, 100, expires_at=expires_at)

    async with db.tenant_transaction(tenant.id) as conn:
        moved = await ledger.transfer(
            conn,
            posting(tenant, "gift-1"),
            sender_id=sender,
            recipient_id=recipient,
            asset=await points(conn, tenant),
            amount=60,
        )

    assert await lot_of(db, tenant, moved) == (60, expires_at)
    assert await balance(db, tenant, sender) == (40, 0)
    assert await balance(db, tenant, recipient) == (60, 0)


async def test_transfer_beyond_the_balance_is_refused_and_writes_nothing(
    db: Database, tenant: Tenant
) -> None:
    sender, recipient = await new_member(db, tenant), await new_member(db, tenant)
    await earn(db, tenant, sender, 50)
    counts = await count_rows(db, tenant)

    with pytest.raises(InsufficientFunds):
        async with db.tenant_transaction(tenant.id) as conn:
            await ledger.transfer(
                conn,
                posting(tenant, "gift-1"),
                sender_id=sender,
                recipient_id=recipient,
                asset=await points(conn, tenant),
                amount=51,
            )

    assert await count_rows(db, tenant) == counts
    assert await balance(db, tenant, sender) == (50, 0)


async def test_reverse_takes_from_the_original_lot_first_and_never_overdraws(
    db: Database, tenant: Tenant
) -> None:
    member = await new_member(db, tenant)
    purchase = await earn(db, tenant, member, 100)
    bonus = await earn(db, tenant, member, 50, expires_at=NOW + timedelta(days=10))

    await reverse(db, tenant, member, purchase, 70)
    assert await lot_of(db, tenant, purchase) == (30, None)
    assert (await lot_of(db, tenant, bonus))[0] == 50

    await spend(db, tenant, member, 60)  # the bonus first (it expires), then 10 of the purchase
    rest = await reverse(db, tenant, member, purchase, 30)

    assert await balance(db, tenant, member) == (0, 0)
    assert rest.transaction.details["requested"] == 30
    assert await _transaction_total(db, tenant, rest, Purpose.ISSUED) == 20


async def test_reverse_never_takes_back_more_than_the_original_credited(
    db: Database, tenant: Tenant
) -> None:
    member = await new_member(db, tenant)
    purchase = await earn(db, tenant, member, 100)
    await earn(db, tenant, member, 500)

    await reverse(db, tenant, member, purchase, 60)
    await reverse(db, tenant, member, purchase, 60)

    assert await balance(db, tenant, member) == (500, 0)


async def test_reverse_reaches_points_still_pending(db: Database, tenant: Tenant) -> None:
    member = await new_member(db, tenant)
    purchase = await earn(db, tenant, member, 100, pending_days=14)

    await reverse(db, tenant, member, purchase, 40)

    assert await balance(db, tenant, member) == (0, 60)


async def test_expire_twice_concurrently_moves_remainder_to_breakage_once(
    db: Database, tenant: Tenant
) -> None:
    member = await new_member(db, tenant)
    posted = await earn(db, tenant, member, 100, expires_at=NOW + timedelta(days=1))
    await spend(db, tenant, member, 30)
    lot_id = await _lot_id(db, tenant, posted)
    later = NOW + timedelta(days=2)
    first_done = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> Posted | None:
        async with db.tenant_transaction(tenant.id) as conn:
            result = await ledger.expire_lot(conn, tenant.id, lot_id, now=later)
            first_done.set()
            await release_first.wait()  # hold the locks until the second one waits for them
        return result

    async def second() -> Posted | None:
        await first_done.wait()
        async with db.tenant_transaction(tenant.id) as conn:
            return await ledger.expire_lot(conn, tenant.id, lot_id, now=later)

    async def unblock_first_once_second_waits() -> None:
        await first_done.wait()
        await _wait_for_lock_wait(db)
        release_first.set()

    results = await asyncio.gather(first(), second(), unblock_first_once_second_waits())

    assert results[0] is not None
    assert results[0].transaction.kind is TransactionKind.EXPIRY
    assert results[1] is None
    assert await lot_of(db, tenant, posted) == (0, NOW + timedelta(days=1))
    assert await _breakage(db, tenant) == 70
    assert await balance(db, tenant, member) == (0, 0)


async def test_expire_before_the_expiry_date_leaves_the_lot_alone(
    db: Database, tenant: Tenant
) -> None:
    member = await new_member(db, tenant)
    posted = await earn(db, tenant, member, 100, expires_at=NOW + timedelta(days=10))
    lot_id = await _lot_id(db, tenant, posted)

    async with db.tenant_transaction(tenant.id) as conn:
        assert await ledger.expire_lot(conn, tenant.id, lot_id, now=NOW) is None

    assert await balance(db, tenant, member) == (100, 0)


async def test_release_moves_pending_to_available(db: Database, tenant: Tenant) -> None:
    member = await new_member(db, tenant)
    posted = await earn(db, tenant, member, 100, pending_days=3)
    assert await balance(db, tenant, member) == (0, 100)

    async with db.tenant_transaction(tenant.id) as conn:
        due = NOW + timedelta(days=2)
        assert (
            await repo.due_lots(conn, tenant.id, column="available_from", now=due, limit=10) == []
        )
        due = NOW + timedelta(days=3)
        lots = await repo.due_lots(conn, tenant.id, column="available_from", now=due, limit=10)
        assert lots == [await _lot_id(db, tenant, posted)]
        released = await ledger.release_lot(conn, tenant.id, lots[0], now=due)
        assert released is not None
        assert released.transaction.kind is TransactionKind.RELEASE

    assert await balance(db, tenant, member) == (100, 0)
    async with db.tenant_transaction(tenant.id) as conn:
        assert await ledger.release_lot(conn, tenant.id, lots[0], now=due) is None
    await spend(db, tenant, member, 100)


async def test_release_before_the_pending_period_ends_leaves_the_lot_alone(
    db: Database, tenant: Tenant
) -> None:
    member = await new_member(db, tenant)
    posted = await earn(db, tenant, member, 100, pending_days=3)
    lot_id = await _lot_id(db, tenant, posted)

    async with db.tenant_transaction(tenant.id) as conn:
        assert await ledger.release_lot(conn, tenant.id, lot_id, now=NOW) is None

    assert await balance(db, tenant, member) == (0, 100)


async def test_concurrent_spends_never_overdraw(db: Database, tenant: Tenant) -> None:
    member = await new_member(db, tenant)
    await earn(db, tenant, member, 100)

    async def try_spend() -> bool:
        try:
            await spend(db, tenant, member, 30)
        except InsufficientFunds:
            return False
        return True

    results = await asyncio.gather(*(try_spend() for _ in range(50)))

    assert results.count(True) == 3
    assert await balance(db, tenant, member) == (10, 0)


async def test_unbalanced_transaction_is_refused_at_commit(db: Database, tenant: Tenant) -> None:
    member = await new_member(db, tenant)

    async def credit_without_counter_entry() -> None:
        async with db.tenant_transaction(tenant.id) as conn:
            asset = await points(conn, tenant)
            account = await repo.member_account(conn, tenant.id, member, asset, Purpose.AVAILABLE)
            header = await repo.claim_idempotency_key(
                conn,
                tenant.id,
                repo.Header(
                    kind=TransactionKind.ADJUSTMENT,
                    idempotency_key="free-points",
                    request_hash="0" * 64,
                    reason="test",
                    cause=Cause(kind="operator"),
                    actor="test",
                ),
            )
            assert header is not None
            await repo.insert_entries(conn, tenant.id, header.id, [(account, asset.id, 10, None)])

    with pytest.raises(IntegrityError, match="does not balance"):
        await credit_without_counter_entry()

    assert await count_rows(db, tenant) == (0, 0, 0)


async def test_app_role_cannot_update_or_delete_ledger_history(
    db: Database, tenant: Tenant
) -> None:
    member = await new_member(db, tenant)
    await earn(db, tenant, member, 100)
    statements = [
        "UPDATE ledger_entries SET amount = amount * 2",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_transactions SET reason = 'rewritten'",
        "DELETE FROM ledger_transactions",
    ]
    for statement in statements:
        with pytest.raises(DBAPIError, match="permission denied"):
            async with db.tenant_transaction(tenant.id) as conn:
                await conn.execute(text(statement))

    assert await count_rows(db, tenant) == (1, 2, 1)


async def test_balance_check_constraint_refuses_overdraft(db: Database, tenant: Tenant) -> None:
    member = await new_member(db, tenant)
    await earn(db, tenant, member, 100)

    with pytest.raises(IntegrityError, match="no_overdraft"):
        async with db.tenant_transaction(tenant.id) as conn:
            await conn.execute(
                update(ledger_accounts)
                .where(ledger_accounts.c.member_id == member)
                .values(balance=ledger_accounts.c.balance - 101)
            )

    assert await balance(db, tenant, member) == (100, 0)


async def _lot_id(db: Database, tenant: Tenant, posted: Posted) -> uuid.UUID:
    async with db.tenant_transaction(tenant.id) as conn:
        found = (
            await conn.execute(
                select(ledger_lots.c.id).where(
                    ledger_lots.c.tenant_id == tenant.id,
                    ledger_lots.c.transaction_id == posted.transaction.id,
                )
            )
        ).scalar_one()
    return uuid.UUID(str(found))


async def _transaction_total(db: Database, tenant: Tenant, posted: Posted, purpose: Purpose) -> int:
    """What ``posted`` put into the tenant's ``purpose`` counter-account."""
    async with db.tenant_transaction(tenant.id) as conn:
        total = (
            await conn.execute(
                select(func.coalesce(func.sum(ledger_entries.c.amount), 0))
                .select_from(
                    ledger_entries.join(
                        ledger_accounts,
                        (ledger_accounts.c.tenant_id == ledger_entries.c.tenant_id)
                        & (ledger_accounts.c.id == ledger_entries.c.account_id),
                    )
                )
                .where(
                    ledger_entries.c.tenant_id == tenant.id,
                    ledger_entries.c.transaction_id == posted.transaction.id,
                    ledger_accounts.c.purpose == purpose.value,
                )
            )
        ).scalar_one()
    return int(total)


async def _breakage(db: Database, tenant: Tenant) -> int:
    """The breakage counter-account's derived balance: the sum of its entries."""
    async with db.tenant_transaction(tenant.id) as conn:
        asset = await points(conn, tenant)
        account = await repo.tenant_account(conn, tenant.id, asset, Purpose.BREAKAGE)
        return await repo.sum_of_entries(conn, tenant.id, account)


async def _wait_for_lock_wait(db: Database) -> None:
    """Return once some backend waits for a lock (the second writer is blocked)."""
    query = text("SELECT count(*) FROM pg_locks WHERE NOT granted")
    async with asyncio.timeout(10), db.engine.connect() as conn:
        while not (await conn.execute(query)).scalar_one():
            await conn.rollback()
            await asyncio.sleep(0.01)
