"""Business rules of the ledger: every way value moves, each one balanced and idempotent.

Each public function runs inside the caller's tenant transaction and either posts one
balanced ledger transaction, or raises and leaves nothing behind (the caller's transaction
rolls back). Locks are always taken in one order: a member's accounts by ascending id, then
their lots; tenant counter-accounts are never locked (their balance is derived).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.errors import (
    Conflict,
    ErrorCode,
    InsufficientFunds,
    LoyaltyError,
    ValidationFailed,
)
from loyalty_core.hashing import fingerprint
from loyalty_core.ledger import expiry
from loyalty_core.ledger import repository as repo
from loyalty_core.ledger.models import (
    Asset,
    Balance,
    Cause,
    ExpiryPolicy,
    Funds,
    LedgerTransaction,
    Posted,
    Purpose,
    TransactionKind,
)
from loyalty_core.ledger.tables import assets, ledger_accounts, ledger_lots
from loyalty_core.members.models import MemberStatus
from loyalty_core.members.tables import members


@dataclass(frozen=True)
class Posting:
    """Who is moving what: the header every value-moving write carries.

    ``idempotency_key`` is unique per tenant: the same key with the same movement replays
    the first (``Posted.replayed``), with another movement it is ``IDEMPOTENCY_CONFLICT``;
    derive it from what makes the movement unique (``stamp_card:<event id>``), prefixed with
    your module's name. ``reason`` is shown to members and operators. ``actor`` is who did
    it: in a resolver the caller's ``principal.actor`` (``admin:<subject>``,
    ``touchpoint:<API key id>``, ``member:<id>``), in a handler or job ``module:<name>``. ``now`` is
    the moment of the movement (``info.context.now()`` in a resolver, ``JobContext.now`` in
    a job, ``datetime.now(UTC)`` in a handler); expiry and pending periods count from it.
    """

    tenant_id: uuid.UUID
    idempotency_key: str
    reason: str
    cause: Cause
    actor: str
    now: datetime


async def earn(
    conn: AsyncConnection,
    posting: Posting,
    *,
    member_id: uuid.UUID,
    asset: Asset,
    amount: int,
    kind: TransactionKind = TransactionKind.EARN,
    counter: Purpose = Purpose.ISSUED,
    pending_days: int | None = None,
    expires_at: datetime | None = None,
    details: dict[str, object] | None = None,
) -> Posted:
    """Credit ``amount`` to a member as a new lot, pending for ``pending_days`` (default: the
    asset's) and expiring by the asset's policy (``ledger.expiry``, month and year ends in the
    tenant's time zone) unless ``expires_at`` is given."""
    zone = "UTC"
    if expires_at is None and asset.expiry_policy in expiry.ZONED:
        zone = await repo.tenant_timezone(conn, posting.tenant_id)
    header, credit = plan_earn(
        posting,
        member_id=member_id,
        asset=asset,
        amount=amount,
        zone=zone,
        kind=kind,
        counter=counter,
        pending_days=pending_days,
        expires_at=expires_at,
        details=details,
    )
    claimed = await repo.claim_and_credit(conn, posting.tenant_id, header, credit)
    if claimed is None:
        return await _replayed(conn, posting, header.request_hash)
    return Posted(claimed, replayed=False)


def plan_earn(
    posting: Posting,
    *,
    member_id: uuid.UUID,
    asset: Asset,
    amount: int,
    zone: str,
    kind: TransactionKind = TransactionKind.EARN,
    counter: Purpose = Purpose.ISSUED,
    pending_days: int | None = None,
    expires_at: datetime | None = None,
    details: dict[str, object] | None = None,
) -> tuple[repo.Header, repo.Credit]:
    """What :func:`earn` writes, computed without the database (``zone``: the tenant's time
    zone): :func:`earn` claims and credits it, a batch credits many at once
    (``ledger.credits``)."""
    require_positive(amount)
    pending = asset.pending_days if pending_days is None else pending_days
    # The given expiry belongs to the request; the computed one does not (it moves with ``now``,
    # which differs between a request and its retry).
    request = {
        "op": kind.value,
        "member": member_id,
        "asset": asset.code,
        "amount": amount,
        "pending_days": pending,
        "expires_at": expires_at,
        "cause": _cause_key(posting.cause),
    }
    available_from = posting.now + timedelta(days=pending)
    if expires_at is None and asset.expiry_policy is not ExpiryPolicy.NEVER:
        expires_at = expiry.expires_at(asset, available_from, zone)
    credit = repo.Credit(
        member_id=member_id,
        asset=asset,
        purpose=Purpose.PENDING if pending > 0 else Purpose.AVAILABLE,
        counter=counter,
        amount=amount,
        available_from=available_from,
        expires_at=expires_at,
    )
    return _header(posting, kind, request, details=details), credit


async def spend(
    conn: AsyncConnection,
    posting: Posting,
    *,
    member_id: uuid.UUID,
    asset: Asset,
    amount: int,
    kind: TransactionKind = TransactionKind.SPEND,
    counter: Purpose = Purpose.REDEEMED,
    details: dict[str, object] | None = None,
) -> Posted:
    """Debit ``amount`` of a member's available points, first-expiring lots first.

    Only an operator's adjustment may debit an asset that is not spendable."""
    require_positive(amount)
    if kind is not TransactionKind.ADJUSTMENT:
        require_spendable(asset)
    request = {
        "op": kind.value,
        "member": member_id,
        "asset": asset.code,
        "amount": amount,
        "cause": _cause_key(posting.cause),
    }
    claimed = await _claim(conn, posting, kind, request, details=details)
    if isinstance(claimed, Posted):
        return claimed
    account_id = await repo.member_account(
        conn, posting.tenant_id, member_id, asset, Purpose.AVAILABLE
    )
    if await repo.apply_balance_delta(conn, posting.tenant_id, account_id, -amount) is None:
        raise InsufficientFunds(
            f"the member has fewer than {amount} {asset.code} available", field="amount"
        )
    counter_id = await repo.tenant_account(conn, posting.tenant_id, asset, counter)
    taken = await _take_from_lots(conn, posting.tenant_id, account_id, amount)
    await repo.insert_entries(
        conn,
        posting.tenant_id,
        claimed.id,
        [
            *((account_id, asset.id, -part, lot_id) for lot_id, part, _ in taken),
            (counter_id, asset.id, amount, None),
        ],
    )
    return Posted(claimed, replayed=False)


async def adjust(
    conn: AsyncConnection,
    posting: Posting,
    *,
    member_id: uuid.UUID,
    asset: Asset,
    delta: int,
) -> Posted:
    """An operator's correction: credit (a new lot) or debit (first-expiring first)."""
    if delta == 0:
        raise ValidationFailed("an adjustment must not be zero", field="amount")
    if delta > 0:
        return await earn(
            conn,
            posting,
            member_id=member_id,
            asset=asset,
            amount=delta,
            kind=TransactionKind.ADJUSTMENT,
            counter=Purpose.ADJUSTMENTS,
            pending_days=0,
        )
    return await spend(
        conn,
        posting,
        member_id=member_id,
        asset=asset,
        amount=-delta,
        kind=TransactionKind.ADJUSTMENT,
        counter=Purpose.ADJUSTMENTS,
    )


async def transfer(
    conn: AsyncConnection,
    posting: Posting,
    *,
    sender_id: uuid.UUID,
    recipient_id: uuid.UUID,
    asset: Asset,
    amount: int,
) -> Posted:
    """Move available points between two members of one tenant.

    The recipient gets one lot per lot the points came from, with the same expiry: a
    transfer never extends the life of points.
    """
    require_positive(amount)
    require_spendable(asset)
    if sender_id == recipient_id:
        raise ValidationFailed("cannot transfer points to the same member", field="recipientId")
    request = {
        "op": "transfer",
        "from": sender_id,
        "to": recipient_id,
        "asset": asset.code,
        "amount": amount,
    }
    claimed = await _claim(conn, posting, TransactionKind.TRANSFER, request)
    if isinstance(claimed, Posted):
        return claimed
    tenant_id = posting.tenant_id
    # First use inserts the account rows; inserting in member order keeps two opposite
    # transfers between new accounts from waiting on each other's uncommitted rows.
    accounts = {
        member: await repo.member_account(conn, tenant_id, member, asset, Purpose.AVAILABLE)
        for member in sorted([sender_id, recipient_id])
    }
    source, target = accounts[sender_id], accounts[recipient_id]
    for account_id, delta in sorted([(source, -amount), (target, amount)]):
        if await repo.apply_balance_delta(conn, tenant_id, account_id, delta) is None:
            raise InsufficientFunds(
                f"the sender has fewer than {amount} {asset.code} available", field="amount"
            )
    taken = await _take_from_lots(conn, tenant_id, source, amount)
    legs: list[tuple[uuid.UUID, uuid.UUID, int, uuid.UUID | None]] = []
    for lot_id, part, expires_at in taken:
        new_lot = await repo.insert_lot(
            conn,
            tenant_id,
            account_id=target,
            member_id=recipient_id,
            asset_id=asset.id,
            transaction_id=claimed.id,
            amount=part,
            available_from=posting.now,
            expires_at=expires_at,
        )
        legs += [(source, asset.id, -part, lot_id), (target, asset.id, part, new_lot)]
    await repo.insert_entries(conn, tenant_id, claimed.id, legs)
    return Posted(claimed, replayed=False)


async def reverse(
    conn: AsyncConnection,
    posting: Posting,
    *,
    original: LedgerTransaction,
    member_id: uuid.UUID,
    asset: Asset,
    amount: int,
    counter: Purpose = Purpose.ISSUED,
    details: dict[str, object] | None = None,
) -> Posted:
    """Take back up to ``amount`` that ``original`` credited (a refund's clawback).

    Points come from the lots ``original`` created first, wherever they are (pending or
    available), then from the member's other lots, first-expiring first. What the member
    has already spent beyond that is not recovered (a balance never goes negative): the
    header records the ``requested`` amount, the entries what was recovered. All reversals
    of ``original`` together never recover more than it credited to the member, so rounded
    partial refunds cannot eat into points earned elsewhere.
    """
    claimed = await _claim_undoing(
        conn, posting, TransactionKind.REVERSAL, original, amount, details
    )
    if isinstance(claimed, Posted):
        return claimed
    tenant_id = posting.tenant_id
    available = await repo.member_account(conn, tenant_id, member_id, asset, Purpose.AVAILABLE)
    pending = await repo.member_account(conn, tenant_id, member_id, asset, Purpose.PENDING)
    funds = {a: await repo.lock_account(conn, tenant_id, a) for a in sorted([available, pending])}
    # Read under the account locks: a concurrent reversal of the same original has committed
    # by now, and this statement's snapshot sees what it recovered.
    credited = await repo.credited_to_member(conn, tenant_id, original.id, member_id)
    outstanding = credited - await repo.undone_so_far(conn, tenant_id, original.id, returned=False)
    originals = set(await _lots_of_transaction(conn, tenant_id, original.id))
    candidates = [
        *await repo.lots_for_spending(conn, tenant_id, available),
        *await repo.lots_for_spending(conn, tenant_id, pending),
    ]
    candidates.sort(key=lambda lot: lot.id not in originals)  # stable: FEFO otherwise
    # What payments hold is spoken for: a clawback takes only what is not held.
    caps = {account_id: found.available for account_id, found in funds.items()}
    wanted = max(0, min(amount, outstanding))
    legs = await _take_back(conn, tenant_id, candidates, asset, wanted, caps)
    for account_id in (available, pending):
        delta = sum(leg[2] for leg in legs if leg[0] == account_id)
        if delta:
            await _apply_covered_delta(conn, tenant_id, account_id, delta)
    recovered = -sum(leg[2] for leg in legs)
    if recovered:
        counter_id = await repo.tenant_account(conn, tenant_id, asset, counter)
        legs.append((counter_id, asset.id, recovered, None))
        await repo.insert_entries(conn, tenant_id, claimed.id, legs)
    return Posted(claimed, replayed=False)


async def give_back(
    conn: AsyncConnection,
    posting: Posting,
    *,
    original: LedgerTransaction,
    member_id: uuid.UUID,
    asset: Asset,
    amount: int,
    counter: Purpose = Purpose.REDEEMED,
    details: dict[str, object] | None = None,
) -> Posted:
    """Return up to ``amount`` of the points a spend took (a refund of what they paid for).

    The points come back as lots with the expiry of the lots the spend took them from,
    latest-expiring first, so a refund never extends the life of points (those already past
    their expiry go to breakage at the next expiry run). All give-backs of ``original``
    together never return more than it took; the header records the ``requested`` amount,
    the entries what was returned.

    Points owed to an erased member are owed to nobody: they go to breakage, as erasure
    forfeited the rest of the balance, and the erased account stays empty.
    """
    claimed = await _claim_undoing(conn, posting, TransactionKind.REFUND, original, amount, details)
    if isinstance(claimed, Posted):
        return claimed
    tenant_id = posting.tenant_id
    available = await repo.member_account(conn, tenant_id, member_id, asset, Purpose.AVAILABLE)
    await repo.lock_account(conn, tenant_id, available)  # serialises give-backs of one spend
    parts = await repo.spent_from_lots(conn, tenant_id, original.id, member_id)
    already = await repo.undone_so_far(conn, tenant_id, original.id, returned=True)
    still_due = max(0, min(amount, sum(part for _, part in parts) - already))
    legs: list[tuple[uuid.UUID, uuid.UUID, int, uuid.UUID | None]] = []
    if still_due and await _erased(conn, tenant_id, member_id):
        breakage = await repo.tenant_account(conn, tenant_id, asset, Purpose.BREAKAGE)
        counter_id = await repo.tenant_account(conn, tenant_id, asset, counter)
        legs = [(breakage, asset.id, still_due, None), (counter_id, asset.id, -still_due, None)]
        await repo.insert_entries(conn, tenant_id, claimed.id, legs)
        return Posted(claimed, replayed=False)
    for expires_at, part in reversed(parts):
        skipped = min(part, already)
        already -= skipped
        take = min(part - skipped, still_due)
        if take == 0:
            continue
        lot_id = await repo.insert_lot(
            conn,
            tenant_id,
            account_id=available,
            member_id=member_id,
            asset_id=asset.id,
            transaction_id=claimed.id,
            amount=take,
            available_from=posting.now,
            expires_at=expires_at,
        )
        legs.append((available, asset.id, take, lot_id))
        still_due -= take
    returned = sum(leg[2] for leg in legs)
    if returned:
        await _apply_covered_delta(conn, tenant_id, available, returned)
        counter_id = await repo.tenant_account(conn, tenant_id, asset, counter)
        legs.append((counter_id, asset.id, -returned, None))
        await repo.insert_entries(conn, tenant_id, claimed.id, legs)
    return Posted(claimed, replayed=False)


async def post(
    conn: AsyncConnection,
    posting: Posting,
    *,
    kind: TransactionKind,
    asset: Asset,
    legs: Sequence[tuple[uuid.UUID, int]],
    request: dict[str, Any],
    details: dict[str, object] | None = None,
) -> Posted:
    """Post a plain balanced transaction between accounts that hold no lots: stored value
    (a gift card's account), module-owned and tenant accounts. ``request`` is what makes
    the write what it is, for the idempotency check.

    Balances kept in the row move by conditional updates in ascending account order; an
    account that would be overdrawn refuses with INSUFFICIENT_BALANCE and nothing is
    written. Member point accounts are not for this: their points live in lots, so earn,
    spend and transfer are the way to move them.
    """
    if not legs or any(amount == 0 for _, amount in legs):
        raise ValidationFailed("a posting needs non-zero legs", field="amount")
    if sum(amount for _, amount in legs) != 0:
        raise ValidationFailed("the legs of a posting must sum to zero", field="amount")
    if not asset.spendable:
        debited = [account for account, amount in legs if amount < 0]
        if await repo.member_owned(conn, posting.tenant_id, debited):
            require_spendable(asset)
    claimed = await _claim(conn, posting, kind, {"op": kind.value, **request}, details=details)
    if isinstance(claimed, Posted):
        return claimed
    tenant_id = posting.tenant_id
    deltas: dict[uuid.UUID, int] = {}
    for account_id, amount in legs:
        deltas[account_id] = deltas.get(account_id, 0) + amount
    tracked = await repo.tracked_accounts(conn, tenant_id, deltas)
    for account_id in sorted(tracked):
        if deltas[account_id] and (
            await repo.apply_balance_delta(conn, tenant_id, account_id, deltas[account_id]) is None
        ):
            raise InsufficientFunds(
                f"the balance is less than {-deltas[account_id]}", field="amount"
            )
    await repo.insert_entries(
        conn, tenant_id, claimed.id, [(account, asset.id, amount, None) for account, amount in legs]
    )
    return Posted(claimed, replayed=False)


async def expire_lot(
    conn: AsyncConnection, tenant_id: uuid.UUID, lot_id: uuid.UUID, *, now: datetime
) -> Posted | None:
    """Move what is left of an expired lot to breakage. None when nothing was left, or when
    the lot has not expired at ``now`` (so a caller can never expire points early).

    A second run, even a concurrent one on another replica, waits for the first one's locks,
    then finds nothing left and writes nothing; the key ``expiry:<lot>`` backs that up.
    """
    return await _close_lot(conn, tenant_id, lot_id, now=now, kind=TransactionKind.EXPIRY)


async def forfeit_lot(
    conn: AsyncConnection, tenant_id: uuid.UUID, lot_id: uuid.UUID, *, now: datetime
) -> Posted | None:
    """Move what is left of a lot, pending or available, to breakage now, whatever its expiry:
    the forfeit path of an erased member's balance (the points are owed to nobody any more).
    None when nothing was left. Key ``forfeit:<lot>``, so a repeated erasure writes nothing."""
    return await _close_lot(
        conn, tenant_id, lot_id, now=now, kind=TransactionKind.EXPIRY, forfeit=True
    )


async def release_lot(
    conn: AsyncConnection, tenant_id: uuid.UUID, lot_id: uuid.UUID, *, now: datetime
) -> Posted | None:
    """Make a pending lot available: its remaining points move from pending to available.
    None when the lot is not pending any more, or its ``available_from`` is after ``now``."""
    return await _close_lot(conn, tenant_id, lot_id, now=now, kind=TransactionKind.RELEASE)


async def balances(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_id: uuid.UUID
) -> list[Balance]:
    """A member's available, pending and held balance of every asset of the tenant."""
    rows = await conn.execute(
        select(
            assets,
            ledger_accounts.c.purpose,
            ledger_accounts.c.balance,
            ledger_accounts.c.held,
        )
        .select_from(
            assets.outerjoin(
                ledger_accounts,
                (ledger_accounts.c.tenant_id == assets.c.tenant_id)
                & (ledger_accounts.c.asset_id == assets.c.id)
                & (ledger_accounts.c.member_id == member_id),
            )
        )
        .where(assets.c.tenant_id == tenant_id)
        .order_by(assets.c.code)
    )
    totals: dict[uuid.UUID, dict[str, Funds]] = {}
    found: dict[uuid.UUID, Asset] = {}
    for row in rows:
        found[row.id] = repo.asset_from_row(row)
        by_purpose = totals.setdefault(row.id, {})
        if row.purpose is not None:
            by_purpose[row.purpose] = Funds(int(row.balance), int(row.held))
    return [Balance.of_accounts(asset, totals[asset_id]) for asset_id, asset in found.items()]


async def _close_lot(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    lot_id: uuid.UUID,
    *,
    now: datetime,
    kind: TransactionKind,
    forfeit: bool = False,
) -> Posted | None:
    """Expire or release a lot when it is due (a forfeit is always due); None when it is
    not, or has nothing left.

    The due check runs on the locked lot, so a job racing a spend, a reversal or another
    job acts on what is left once they committed, and a lot is released only from pending.
    """
    lot = await repo.get_lot(conn, tenant_id, lot_id)
    asset = await _asset_by_id(conn, tenant_id, lot.asset_id)
    available = await repo.member_account(conn, tenant_id, lot.member_id, asset, Purpose.AVAILABLE)
    pending = await repo.member_account(conn, tenant_id, lot.member_id, asset, Purpose.PENDING)
    funds = {a: await repo.lock_account(conn, tenant_id, a) for a in sorted([available, pending])}
    lot = await _locked_lot(conn, tenant_id, lot_id)
    remaining = int(lot.remaining)
    if remaining == 0 or not (forfeit or _is_due(lot, kind, now=now, pending=pending)):
        return None
    account_id = repo.as_uuid(lot.account_id)
    if kind is TransactionKind.EXPIRY and funds[account_id].available < remaining:
        # A payment holds these points: they expire once the hold is captured (then they
        # paid) or released (then a later run expires them).
        if forfeit:
            raise Conflict(
                "the member has points held for an open payment; void it first",
                code=ErrorCode.VALUE_HELD,
            )
        return None
    posting = Posting(
        tenant_id=tenant_id,
        idempotency_key=f"{'forfeit' if forfeit else kind.value}:{lot_id}",
        reason=_close_reason(kind, forfeit=forfeit),
        cause=Cause(kind="erasure", id=str(lot.member_id))
        if forfeit
        else Cause(kind="job", id=kind.value),
        actor="system",
        now=now,
    )
    claimed = await _claim(conn, posting, kind, {"op": kind.value, "lot": lot_id})
    if isinstance(claimed, Posted):
        return claimed
    await _apply_covered_delta(conn, tenant_id, account_id, -remaining)
    if kind is TransactionKind.EXPIRY:
        breakage = await repo.tenant_account(conn, tenant_id, asset, Purpose.BREAKAGE)
        await repo.take_from_lot(conn, tenant_id, lot_id, remaining)
        legs = [(account_id, asset.id, -remaining, lot_id), (breakage, asset.id, remaining, None)]
    else:
        await repo.move_lot(conn, tenant_id, lot_id, available)
        await _apply_covered_delta(conn, tenant_id, available, remaining)
        legs = [
            (account_id, asset.id, -remaining, lot_id),
            (available, asset.id, remaining, lot_id),
        ]
    await repo.insert_entries(conn, tenant_id, claimed.id, legs)
    return Posted(claimed, replayed=False)


def _close_reason(kind: TransactionKind, *, forfeit: bool) -> str:
    if forfeit:
        return "points forfeited: member erased"
    return "points expired" if kind is TransactionKind.EXPIRY else "pending points released"


def _is_due(lot: Row[Any], kind: TransactionKind, *, now: datetime, pending: uuid.UUID) -> bool:
    """Whether ``kind`` may close ``lot`` at ``now``: expiry once ``expires_at`` has come,
    release once ``available_from`` has come and only for a lot still in pending."""
    if kind is TransactionKind.EXPIRY:
        return lot.expires_at is not None and lot.expires_at <= now
    return bool(lot.account_id == pending and lot.available_from <= now)


async def _claim(
    conn: AsyncConnection,
    posting: Posting,
    kind: TransactionKind,
    request: dict[str, Any],
    *,
    reverses_id: uuid.UUID | None = None,
    details: dict[str, object] | None = None,
) -> LedgerTransaction | Posted:
    """Claim the idempotency key: the new header, or the first result when it is a replay."""
    header = _header(posting, kind, request, reverses_id=reverses_id, details=details)
    claimed = await repo.claim_idempotency_key(conn, posting.tenant_id, header)
    if claimed is not None:
        return claimed
    return await _replayed(conn, posting, header.request_hash)


def _header(
    posting: Posting,
    kind: TransactionKind,
    request: dict[str, Any],
    *,
    reverses_id: uuid.UUID | None = None,
    details: dict[str, object] | None = None,
) -> repo.Header:
    """The header of ``posting``'s transaction, keyed by the fingerprint of ``request``."""
    return repo.Header(
        kind=kind,
        idempotency_key=posting.idempotency_key,
        request_hash=fingerprint(request),
        reason=posting.reason,
        cause=posting.cause,
        actor=posting.actor,
        reverses_id=reverses_id,
        details=details,
    )


async def _replayed(conn: AsyncConnection, posting: Posting, request_hash: str) -> Posted:
    """The first result of a taken idempotency key, if the request is the same."""
    existing = await repo.get_transaction_by_key(conn, posting.tenant_id, posting.idempotency_key)
    if existing is None:  # pragma: no cover - the conflicting row is committed by definition
        raise RuntimeError("idempotency key taken but not visible")
    transaction, first_hash = existing
    if first_hash != request_hash:
        raise Conflict(
            "this idempotency key was used for a different request",
            code=ErrorCode.IDEMPOTENCY_CONFLICT,
            field="idempotencyKey",
        )
    return Posted(transaction, replayed=True)


async def _claim_undoing(
    conn: AsyncConnection,
    posting: Posting,
    kind: TransactionKind,
    original: LedgerTransaction,
    amount: int,
    details: dict[str, object] | None,
) -> LedgerTransaction | Posted:
    """Claim the key of a transaction that undoes part of ``original`` (a clawback, a
    give-back): it references ``original`` and records the ``requested`` amount, since what
    it moves may be less."""
    require_positive(amount)
    request = {"op": kind.value, "original": original.id, "amount": amount}
    return await _claim(
        conn,
        posting,
        kind,
        request,
        reverses_id=original.id,
        details={**(details or {}), "requested": amount},
    )


async def _take_from_lots(
    conn: AsyncConnection, tenant_id: uuid.UUID, account_id: uuid.UUID, amount: int
) -> list[tuple[uuid.UUID, int, datetime | None]]:
    """Consume ``amount`` from an account's lots, first-expiring first: (lot, part, expiry).

    The caller has already debited the balance under the account's row lock, so the lots
    hold at least ``amount``; a shortfall here means the invariant balance == lots broke.
    """
    taken: list[tuple[uuid.UUID, int, datetime | None]] = []
    still_due = amount
    for lot in await repo.lots_for_spending(conn, tenant_id, account_id):
        if still_due == 0:
            break
        part = min(still_due, int(lot.remaining))
        await repo.take_from_lot(conn, tenant_id, lot.id, part)
        taken.append((lot.id, part, lot.expires_at))
        still_due -= part
    if still_due:
        raise RuntimeError(f"account {account_id} balance exceeds its lots by {still_due}")
    return taken


async def _take_back(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    lots: list[Row[Any]],
    asset: Asset,
    wanted: int,
    caps: dict[uuid.UUID, int],
) -> list[tuple[uuid.UUID, uuid.UUID, int, uuid.UUID | None]]:
    """Take up to ``wanted`` from ``lots`` in their order, and at most ``caps[account]`` from
    each account: one debit leg per lot touched."""
    legs: list[tuple[uuid.UUID, uuid.UUID, int, uuid.UUID | None]] = []
    room = dict(caps)
    still_due = wanted
    for lot in lots:
        account_id = repo.as_uuid(lot.account_id)
        part = min(still_due, int(lot.remaining), room[account_id])
        if part <= 0:
            continue
        await repo.take_from_lot(conn, tenant_id, lot.id, part)
        legs.append((account_id, asset.id, -part, repo.as_uuid(lot.id)))
        room[account_id] -= part
        still_due -= part
    return legs


async def _apply_covered_delta(
    conn: AsyncConnection, tenant_id: uuid.UUID, account_id: uuid.UUID, delta: int
) -> None:
    """Apply a balance change that lots already cover (a credit, or a debit of points just
    taken from the account's lots). A refusal here means balance == lots broke: fail loudly
    rather than commit lots and a balance that disagree."""
    if await repo.apply_balance_delta(conn, tenant_id, account_id, delta) is None:
        raise RuntimeError(f"account {account_id} cannot take {delta}: its lots disagree")


async def _lots_of_transaction(
    conn: AsyncConnection, tenant_id: uuid.UUID, transaction_id: uuid.UUID
) -> list[uuid.UUID]:
    rows = await conn.execute(
        select(ledger_lots.c.id).where(
            ledger_lots.c.tenant_id == tenant_id, ledger_lots.c.transaction_id == transaction_id
        )
    )
    return [uuid.UUID(str(v)) for v in rows.scalars()]


async def _locked_lot(conn: AsyncConnection, tenant_id: uuid.UUID, lot_id: uuid.UUID) -> Row[Any]:
    return (
        await conn.execute(
            select(ledger_lots)
            .where(ledger_lots.c.tenant_id == tenant_id, ledger_lots.c.id == lot_id)
            .with_for_update(key_share=True)
        )
    ).one()


async def _asset_by_id(conn: AsyncConnection, tenant_id: uuid.UUID, asset_id: uuid.UUID) -> Asset:
    row = (
        await conn.execute(
            select(assets).where(assets.c.tenant_id == tenant_id, assets.c.id == asset_id)
        )
    ).one()
    return repo.asset_from_row(row)


async def _erased(conn: AsyncConnection, tenant_id: uuid.UUID, member_id: uuid.UUID) -> bool:
    status = await conn.scalar(
        select(members.c.status).where(members.c.tenant_id == tenant_id, members.c.id == member_id)
    )
    return status == MemberStatus.ERASED.value


def require_spendable(asset: Asset, field: str = "assetCode") -> None:
    """Refuse to spend, hold or transfer an asset that only counts (status points):
    ``ASSET_NOT_SPENDABLE``, nothing written."""
    if not asset.spendable:
        raise LoyaltyError(
            f"{asset.code} only counts toward a status and cannot be spent",
            field=field,
            code=ErrorCode.ASSET_NOT_SPENDABLE,
        )


def require_positive(amount: int) -> None:
    """Amounts that move value are positive whole numbers (the direction is the operation)."""
    if amount <= 0:
        raise ValidationFailed("amount must be a positive whole number", field="amount")


def _cause_key(cause: Cause) -> dict[str, object]:
    return {"kind": cause.kind, "id": cause.id, "event": cause.event_id, "rule": cause.rule_id}


__all__ = [
    "Posting",
    "adjust",
    "balances",
    "earn",
    "expire_lot",
    "forfeit_lot",
    "give_back",
    "plan_earn",
    "post",
    "release_lot",
    "require_positive",
    "require_spendable",
    "reverse",
    "spend",
    "transfer",
]
