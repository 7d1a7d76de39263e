"""The ledger's invariants under random workloads (see ``loyalty_core.ledger``'s docstring).

Hypothesis generates a list of operations (earn, spend, transfer, reverse, adjust, expire,
release, with a fake clock); each example replays its list against a fresh tenant, each
operation in its own transaction, then checks what must hold whatever happened:

* per asset, the tenant's entries sum to zero, and so do each transaction's;
* a member account's balance equals the sum of its entries and the remaining of its lots;
* no member balance is below zero; counter-accounts keep no balance in the row;
* a spend or transfer beyond the available balance raises and leaves nothing behind.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from loyalty_core.db.engine import Database
from loyalty_core.errors import InsufficientFunds
from loyalty_core.ledger import repository as repo
from loyalty_core.ledger import service as ledger
from loyalty_core.ledger.models import Asset, Cause, LedgerTransaction
from loyalty_core.ledger.tables import ledger_accounts, ledger_entries, ledger_lots
from loyalty_core.tenants.service import DEFAULT_ASSET_CODE
from loyalty_testing import create_test_tenant, insert_member
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

MEMBERS = 3
START = datetime(2030, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Earn:
    member: int
    amount: int
    pending_days: int
    expires_in_days: int | None
    replay: bool


@dataclass(frozen=True)
class Spend:
    member: int
    amount: int
    replay: bool


@dataclass(frozen=True)
class Transfer:
    sender: int
    recipient: int
    amount: int


@dataclass(frozen=True)
class Reverse:
    earn: int
    amount: int


@dataclass(frozen=True)
class Adjust:
    member: int
    delta: int


@dataclass(frozen=True)
class Expire:
    days: int


@dataclass(frozen=True)
class Release:
    days: int


Operation = Earn | Spend | Transfer | Reverse | Adjust | Expire | Release

members = st.integers(0, MEMBERS - 1)
amounts = st.integers(1, 400)
operations = st.one_of(
    st.builds(
        Earn,
        member=members,
        amount=amounts,
        pending_days=st.sampled_from([0, 0, 0, 1, 3]),
        expires_in_days=st.none() | st.integers(1, 10),
        replay=st.booleans(),
    ),
    st.builds(Spend, member=members, amount=amounts, replay=st.booleans()),
    st.builds(
        Transfer,
        sender=members,
        recipient=st.integers(1, MEMBERS - 1),  # an offset from the sender, never zero
        amount=amounts,
    ),
    st.builds(Reverse, earn=st.integers(0, 50), amount=amounts),
    st.builds(Adjust, member=members, delta=st.integers(-300, 300).filter(bool)),
    st.builds(Expire, days=st.integers(1, 6)),
    st.builds(Release, days=st.integers(1, 4)),
)


@dataclass
class Run:
    """One example's world: its tenant, members, clock and the earns it may reverse."""

    db: Database
    tenant_id: uuid.UUID
    asset: Asset
    members: list[uuid.UUID]
    now: datetime = START
    earned: list[tuple[LedgerTransaction, uuid.UUID]] = field(default_factory=list)
    keys: int = 0

    def posting(self) -> ledger.Posting:
        self.keys += 1
        return self.posting_with_key(f"op-{self.keys}")

    def posting_with_key(self, key: str) -> ledger.Posting:
        return ledger.Posting(
            tenant_id=self.tenant_id,
            idempotency_key=key,
            reason="property test",
            cause=Cause(kind="operator", id="hypothesis"),
            actor="test",
            now=self.now,
        )


@settings(max_examples=40, deadline=None)
@given(ops=st.lists(operations, max_size=40))
async def test_ledger_invariants_hold_under_random_operations(
    db: Database, ops: list[Operation]
) -> None:
    run = await _start(db)
    for op in ops:
        await _apply(run, op)
    async with db.tenant_transaction(run.tenant_id) as conn:
        await _check_invariants(conn, run.tenant_id)


async def _start(db: Database) -> Run:
    tenant = await create_test_tenant(db)
    async with db.tenant_transaction(tenant.id) as conn:
        asset = await repo.get_asset(conn, tenant.id, DEFAULT_ASSET_CODE)
        assert asset is not None
        member_ids = [await insert_member(conn, tenant.id) for _ in range(MEMBERS)]
    return Run(db=db, tenant_id=tenant.id, asset=asset, members=member_ids)


async def _apply(run: Run, op: Operation) -> None:
    match op:
        case Earn():
            await _earn(run, op)
        case Spend():
            await _spend(run, op)
        case Transfer():
            await _transfer(run, op)
        case Reverse():
            await _reverse(run, op)
        case Adjust():
            await _adjust(run, op)
        case Expire(days=days):
            run.now += timedelta(days=days)
            await _close_due_lots(run, "expires_at")
        case Release(days=days):
            run.now += timedelta(days=days)
            await _close_due_lots(run, "available_from")


async def _earn(run: Run, op: Earn) -> None:
    member = run.members[op.member]
    expires_at = None
    if op.expires_in_days is not None:
        expires_at = run.now + timedelta(days=op.pending_days + op.expires_in_days)
    posting = run.posting()
    for attempt in range(2 if op.replay else 1):
        async with run.db.tenant_transaction(run.tenant_id) as conn:
            posted = await ledger.earn(
                conn,
                posting,
                member_id=member,
                asset=run.asset,
                amount=op.amount,
                pending_days=op.pending_days,
                expires_at=expires_at,
            )
        assert posted.replayed == (attempt == 1)
    run.earned.append((posted.transaction, member))


async def _spend(run: Run, op: Spend) -> None:
    member = run.members[op.member]
    posting = run.posting()
    for attempt in range(2 if op.replay else 1):
        affordable = op.amount <= await _available(run, member)
        try:
            async with run.db.tenant_transaction(run.tenant_id) as conn:
                posted = await ledger.spend(
                    conn, posting, member_id=member, asset=run.asset, amount=op.amount
                )
        except InsufficientFunds:
            assert not affordable
            await _assert_key_unused(run, posting.idempotency_key)
            return
        assert affordable or posted.replayed
        assert posted.replayed == (attempt == 1)


async def _transfer(run: Run, op: Transfer) -> None:
    sender = run.members[op.sender]
    affordable = op.amount <= await _available(run, sender)
    posting = run.posting()
    try:
        async with run.db.tenant_transaction(run.tenant_id) as conn:
            await ledger.transfer(
                conn,
                posting,
                sender_id=sender,
                recipient_id=run.members[(op.sender + op.recipient) % MEMBERS],
                asset=run.asset,
                amount=op.amount,
            )
    except InsufficientFunds:
        assert not affordable
        await _assert_key_unused(run, posting.idempotency_key)
        return
    assert affordable


async def _reverse(run: Run, op: Reverse) -> None:
    if not run.earned:
        return
    original, member = run.earned[op.earn % len(run.earned)]
    async with run.db.tenant_transaction(run.tenant_id) as conn:
        await ledger.reverse(
            conn,
            run.posting(),
            original=original,
            member_id=member,
            asset=run.asset,
            amount=op.amount,
        )


async def _adjust(run: Run, op: Adjust) -> None:
    member = run.members[op.member]
    affordable = op.delta > 0 or -op.delta <= await _available(run, member)
    posting = run.posting()
    try:
        async with run.db.tenant_transaction(run.tenant_id) as conn:
            await ledger.adjust(conn, posting, member_id=member, asset=run.asset, delta=op.delta)
    except InsufficientFunds:
        assert not affordable
        await _assert_key_unused(run, posting.idempotency_key)
        return
    assert affordable


async def _close_due_lots(run: Run, column: str) -> None:
    """What the expiry and release jobs do: find due lots, close each in its own transaction."""
    close = ledger.expire_lot if column == "expires_at" else ledger.release_lot
    async with run.db.tenant_transaction(run.tenant_id) as conn:
        due = await repo.due_lots(conn, run.tenant_id, column=column, now=run.now, limit=1000)
    for lot_id in due:
        async with run.db.tenant_transaction(run.tenant_id) as conn:
            assert await close(conn, run.tenant_id, lot_id, now=run.now) is not None
    async with run.db.tenant_transaction(run.tenant_id) as conn:
        assert await repo.due_lots(conn, run.tenant_id, column=column, now=run.now, limit=1) == []


async def _available(run: Run, member: uuid.UUID) -> int:
    async with run.db.tenant_transaction(run.tenant_id) as conn:
        found = await ledger.balances(conn, run.tenant_id, member)
    return sum(b.available for b in found if b.asset.id == run.asset.id)


async def _assert_key_unused(run: Run, key: str) -> None:
    """A refused write leaves nothing behind, not even its idempotency key."""
    async with run.db.tenant_transaction(run.tenant_id) as conn:
        assert await repo.get_transaction_by_key(conn, run.tenant_id, key) is None


async def _check_invariants(conn: AsyncConnection, tenant_id: uuid.UUID) -> None:
    entries = ledger_entries.c
    per_asset = await conn.execute(
        select(entries.asset_id, func.sum(entries.amount))
        .where(entries.tenant_id == tenant_id)
        .group_by(entries.asset_id)
    )
    assert all(total == 0 for _, total in per_asset)
    unbalanced = await conn.execute(
        select(entries.transaction_id)
        .where(entries.tenant_id == tenant_id)
        .group_by(entries.transaction_id, entries.asset_id)
        .having(func.sum(entries.amount) != 0)
    )
    assert unbalanced.all() == []
    for account in await conn.execute(
        select(ledger_accounts).where(ledger_accounts.c.tenant_id == tenant_id)
    ):
        entered = await repo.sum_of_entries(conn, tenant_id, account.id)
        if account.member_id is None:
            assert (account.tracks_balance, account.balance) == (False, 0)
            continue
        assert account.balance == entered == await _remaining_in(conn, tenant_id, account.id)
        assert account.balance >= 0


async def _remaining_in(conn: AsyncConnection, tenant_id: uuid.UUID, account_id: uuid.UUID) -> int:
    total = (
        await conn.execute(
            select(func.coalesce(func.sum(ledger_lots.c.remaining), 0)).where(
                ledger_lots.c.tenant_id == tenant_id, ledger_lots.c.account_id == account_id
            )
        )
    ).scalar_one()
    return int(total)
