"""SQL of the ledger. Every statement filters by ``tenant_id`` (row-level security is the
second wall, not the only one)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    DateTime,
    Integer,
    Row,
    String,
    and_,
    bindparam,
    exists,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.db.prepared import Prepared
from loyalty_core.ids import new_id
from loyalty_core.ledger.models import (
    Asset,
    AssetKind,
    Cause,
    ExpiryPolicy,
    Funds,
    LedgerTransaction,
    Purpose,
    TransactionKind,
)
from loyalty_core.ledger.tables import (
    assets,
    ledger_accounts,
    ledger_entries,
    ledger_lots,
    ledger_transactions,
)
from loyalty_core.tenants.tables import tenants

# The statements every earn and spend runs, built and compiled once and run by asyncpg
# (``loyalty_core.db.prepared``): building a statement, computing its cache key and going
# through SQLAlchemy's execution on each call cost more CPU than running it.
_p = bindparam
_ACCOUNT_COLUMNS = (
    (ledger_accounts.c.tenant_id == _p("tenant_id"))
    & (ledger_accounts.c.asset_id == _p("asset_id"))
    & (ledger_accounts.c.purpose == _p("purpose"))
)

_AccountKind = tuple[Prepared, Prepared]
"""An account kind's look-up and first-use insert."""


def _accounts(owner: ColumnElement[bool], unique: list[str], partial: str) -> _AccountKind:
    """The look-up and the first-use insert of one kind of account: ``owner`` selects it
    besides tenant, asset and purpose; ``unique`` and ``partial`` name its unique index."""
    return (
        Prepared(select(ledger_accounts.c.id).where(_ACCOUNT_COLUMNS, owner)),
        Prepared(
            pg_insert(ledger_accounts).on_conflict_do_nothing(
                index_elements=["tenant_id", *unique, "asset_id", "purpose"],
                index_where=text(partial),
            )
        ),
    )


_MEMBER_ACCOUNTS = _accounts(
    ledger_accounts.c.member_id == _p("member_id"), ["member_id"], "member_id IS NOT NULL"
)
_TENANT_ACCOUNTS = _accounts(
    ledger_accounts.c.member_id.is_(None) & ledger_accounts.c.owner_ref.is_(None),
    [],
    "member_id IS NULL AND owner_ref IS NULL",
)
_OWNED_ACCOUNTS = _accounts(
    ledger_accounts.c.owner_ref == _p("owner_ref"), ["owner_ref"], "owner_ref IS NOT NULL"
)
_CLAIM = Prepared(
    pg_insert(ledger_transactions)
    .on_conflict_do_nothing(index_elements=["tenant_id", "idempotency_key"])
    .returning(ledger_transactions)
)
_BALANCE_DELTA = Prepared(
    update(ledger_accounts)
    .where(
        ledger_accounts.c.tenant_id == _p("b_tenant_id"),
        ledger_accounts.c.id == _p("b_account_id"),
        ledger_accounts.c.allow_negative
        | (ledger_accounts.c.balance + _p("b_delta", type_=BigInteger) >= ledger_accounts.c.held),
    )
    .values(balance=ledger_accounts.c.balance + _p("b_delta", type_=BigInteger))
    .returning(ledger_accounts.c.balance)
)
_NEW_LOT = Prepared(insert(ledger_lots))
_TAKE_FROM_LOT = Prepared(
    update(ledger_lots)
    .where(ledger_lots.c.tenant_id == _p("b_tenant_id"), ledger_lots.c.id == _p("b_lot_id"))
    .values(remaining=ledger_lots.c.remaining - _p("b_amount", type_=BigInteger))
)
_LOTS_FOR_SPENDING = Prepared(
    select(ledger_lots)
    .where(
        ledger_lots.c.tenant_id == _p("tenant_id"),
        ledger_lots.c.account_id == _p("account_id"),
        ledger_lots.c.remaining > 0,
    )
    .order_by(ledger_lots.c.expires_at.asc().nulls_last(), ledger_lots.c.id)
    .with_for_update(key_share=True)
)
_NEW_ENTRIES = Prepared(insert(ledger_entries))
_TRACKED = Prepared(
    select(ledger_accounts.c.id, ledger_accounts.c.tracks_balance).where(
        ledger_accounts.c.tenant_id == _p("tenant_id"),
        ledger_accounts.c.id == func.any(_p("ids", type_=ARRAY(PG_UUID(as_uuid=True)))),
    )
)
"""Whether accounts of a ``post`` keep their balance in the row (read once per account)."""
_CREDIT = """
accounts AS (
    SELECT
        (SELECT id FROM ledger_accounts
          WHERE tenant_id = :tenant_id AND member_id = :member_id
            AND asset_id = :asset_id AND purpose = :purpose) AS account_id,
        (SELECT id FROM ledger_accounts
          WHERE tenant_id = :tenant_id AND member_id IS NULL AND owner_ref IS NULL
            AND asset_id = :asset_id AND purpose = :counter) AS counter_id
), credited AS (
    UPDATE ledger_accounts SET balance = ledger_accounts.balance + :amount
      FROM accounts{claimed}
     WHERE ledger_accounts.tenant_id = :tenant_id AND ledger_accounts.id = accounts.account_id
       AND accounts.counter_id IS NOT NULL
    RETURNING ledger_accounts.id
), lot AS (
    INSERT INTO ledger_lots (tenant_id, id, account_id, member_id, asset_id, transaction_id,
                             earned, remaining, available_from, expires_at)
    SELECT :tenant_id, :lot_id, credited.id, :member_id, :asset_id, :transaction_id,
           :amount, :amount, :available_from, :expires_at
      FROM credited
    RETURNING id, account_id
), entries AS (
    INSERT INTO ledger_entries (tenant_id, id, transaction_id, account_id, asset_id, amount, lot_id)
    SELECT :tenant_id, :entry_id, :transaction_id, lot.account_id, :asset_id, :amount, lot.id
      FROM lot
    UNION ALL
    SELECT :tenant_id, :counter_entry_id, :transaction_id, accounts.counter_id, :asset_id,
           -:amount, NULL
      FROM lot, accounts
)"""
"""A credit as a new lot: the member's account takes the amount, the lot and both entries
(the member's, the counter-account's) are written; nothing is written when either account
does not exist yet. ``{claimed}`` joins the claim of :data:`_CLAIM_AND_CREDIT`, so that a
taken idempotency key credits nothing either."""
_CREDIT_BINDS = (
    bindparam("tenant_id", type_=PG_UUID(as_uuid=True)),
    bindparam("member_id", type_=PG_UUID(as_uuid=True)),
    bindparam("asset_id", type_=PG_UUID(as_uuid=True)),
    bindparam("transaction_id", type_=PG_UUID(as_uuid=True)),
    bindparam("lot_id", type_=PG_UUID(as_uuid=True)),
    bindparam("entry_id", type_=PG_UUID(as_uuid=True)),
    bindparam("counter_entry_id", type_=PG_UUID(as_uuid=True)),
    bindparam("purpose", type_=String),
    bindparam("counter", type_=String),
    bindparam("amount", type_=BigInteger),
    bindparam("available_from", type_=DateTime(timezone=True)),
    bindparam("expires_at", type_=DateTime(timezone=True)),
)
_CREDIT_NEW_LOT = Prepared(
    text(f"WITH {_CREDIT.format(claimed='')}\nSELECT id FROM lot").bindparams(*_CREDIT_BINDS)
)
"""The credit alone, once :func:`claim_and_credit` created the accounts it found missing."""
_CLAIM_AND_CREDIT = Prepared(
    text(
        f"""
WITH claim AS (
    INSERT INTO ledger_transactions (tenant_id, id, kind, idempotency_key, request_hash, reason,
                                     cause_kind, cause_id, event_id, rule_id, rule_version,
                                     actor, reverses_id, details)
    VALUES (:tenant_id, :transaction_id, :kind, :idempotency_key, :request_hash, :reason,
            :cause_kind, :cause_id, :event_id, :rule_id, :rule_version, :actor, :reverses_id,
            :details)
    ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
    RETURNING *
), {_CREDIT.format(claimed=", claim")}
SELECT claim.*, (SELECT id FROM lot) AS lot_id FROM claim
"""  # noqa: S608  # composed of constants only
    ).bindparams(
        *_CREDIT_BINDS,
        bindparam("kind", type_=String),
        bindparam("idempotency_key", type_=String),
        bindparam("request_hash", type_=String),
        bindparam("reason", type_=String),
        bindparam("cause_kind", type_=String),
        bindparam("cause_id", type_=String),
        bindparam("event_id", type_=PG_UUID(as_uuid=True)),
        bindparam("rule_id", type_=PG_UUID(as_uuid=True)),
        bindparam("rule_version", type_=Integer),
        bindparam("actor", type_=String),
        bindparam("reverses_id", type_=PG_UUID(as_uuid=True)),
        bindparam("details", type_=JSONB),
    )
)
"""An earn in one round trip: the transaction header claims its idempotency key and, when it
did, the credit runs (:func:`claim_and_credit`)."""
_ASSET = Prepared(
    select(assets).where(assets.c.tenant_id == _p("tenant_id"), assets.c.code == _p("code"))
)
_ASSETS = Prepared(
    select(assets).where(assets.c.tenant_id == _p("tenant_id")).order_by(assets.c.code)
)


async def get_asset(conn: AsyncConnection, tenant_id: uuid.UUID, code: str) -> Asset | None:
    """The tenant's asset with this code (``points``, a currency), or None."""
    row = await _ASSET.first(conn, {"tenant_id": tenant_id, "code": code})
    return None if row is None else asset_from_row(row)


async def list_assets(conn: AsyncConnection, tenant_id: uuid.UUID) -> list[Asset]:
    return [asset_from_row(row) for row in await _ASSETS.all(conn, {"tenant_id": tenant_id})]


def asset_from_row(row: Any) -> Asset:
    return Asset(
        id=as_uuid(row.id),
        code=row.code,
        name=row.name,
        kind=AssetKind(row.kind),
        scale=row.scale,
        allow_negative=row.allow_negative,
        expiry_days=row.expiry_days,
        pending_days=row.pending_days,
        expiry_policy=ExpiryPolicy(row.expiry_policy),
        expiry_periods=row.expiry_periods,
        expiry_date=row.expiry_date,
        spendable=row.spendable,
    )


async def insert_asset(
    conn: AsyncConnection, tenant_id: uuid.UUID, asset: Asset, *, if_absent: bool = False
) -> bool:
    """Insert ``asset``; with ``if_absent``, nothing when the tenant has one of its code (a
    concurrent insert is waited for, not refused). Whether it was inserted."""
    row = {
        "tenant_id": tenant_id,
        "id": asset.id,
        "code": asset.code,
        "name": asset.name,
        "kind": asset.kind.value,
        "scale": asset.scale,
        "allow_negative": asset.allow_negative,
        "expiry_days": asset.expiry_days,
        "pending_days": asset.pending_days,
        "expiry_policy": asset.expiry_policy.value,
        "expiry_periods": asset.expiry_periods,
        "expiry_date": asset.expiry_date,
        "spendable": asset.spendable,
    }
    if not if_absent:
        await conn.execute(insert(assets).values(**row))
        return True
    absent = (
        pg_insert(assets).values(**row).on_conflict_do_nothing(index_elements=["tenant_id", "code"])
    )
    return bool((await conn.execute(absent.returning(assets.c.id))).first())


async def tenant_timezone(conn: AsyncConnection, tenant_id: uuid.UUID) -> str:
    """The tenant's time zone, in which month and year ends and fixed dates expire."""
    zone = (
        await conn.execute(select(tenants.c.timezone).where(tenants.c.tenant_id == tenant_id))
    ).scalar_one()
    return str(zone)


async def member_account(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    asset: Asset,
    purpose: Purpose,
) -> uuid.UUID:
    """The id of a member's account, created on first use."""
    key = {
        "tenant_id": tenant_id,
        "member_id": member_id,
        "asset_id": asset.id,
        "purpose": purpose.value,
    }
    new = {"id": new_id(), "allow_negative": asset.allow_negative and purpose is Purpose.AVAILABLE}
    return await _account_id(conn, _MEMBER_ACCOUNTS, key, new)


async def tenant_account(
    conn: AsyncConnection, tenant_id: uuid.UUID, asset: Asset, purpose: Purpose
) -> uuid.UUID:
    """A tenant-side counter-account (issued, redeemed, breakage, adjustments).

    These take an entry on every earn or spend of the whole tenant, so their balance is not
    kept in the row (``tracks_balance`` false): it is derived from the entries, and writers
    never serialise on the row.
    """
    key = {"tenant_id": tenant_id, "asset_id": asset.id, "purpose": purpose.value}
    new = {"id": new_id(), "member_id": None, "tracks_balance": False, "allow_negative": True}
    return await _account_id(conn, _TENANT_ACCOUNTS, key, new)


async def owned_account(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    owner_ref: str,
    asset: Asset,
    purpose: Purpose,
    *,
    allow_negative: bool = False,
) -> uuid.UUID:
    """An account a module owns on behalf of something that is not a member (a gift card:
    ``owner_ref`` ``giftcard:<id>``). Its balance is kept in the row and never overdrawn.

    With ``allow_negative`` it is a position that may go either way (a coalition partner's
    clearing account): there is no overdraft to check, so like a tenant counter-account it
    keeps no balance in its row (read it with :func:`account_balance`) and concurrent
    postings never queue on it. The kind is the account's from its first use on; asking
    again with another flag does not change it."""
    key = {
        "tenant_id": tenant_id,
        "owner_ref": owner_ref,
        "asset_id": asset.id,
        "purpose": purpose.value,
    }
    new: dict[str, Any] = {"id": new_id()}
    if allow_negative:
        new |= {"allow_negative": True, "tracks_balance": False}
    return await _account_id(conn, _OWNED_ACCOUNTS, key, new)


async def account_balance(
    conn: AsyncConnection, tenant_id: uuid.UUID, account_id: uuid.UUID
) -> int:
    """An account's balance: its row's when it keeps one, else the sum of its entries (an
    indexed scan of the account's entries: for reads, not for every write)."""
    row = (
        await conn.execute(
            select(ledger_accounts.c.balance, ledger_accounts.c.tracks_balance).where(
                ledger_accounts.c.tenant_id == tenant_id, ledger_accounts.c.id == account_id
            )
        )
    ).first()
    if row is None:
        return 0
    if row.tracks_balance:
        return int(row.balance)
    return await sum_of_entries(conn, tenant_id, account_id)


async def tracked_accounts(
    conn: AsyncConnection, tenant_id: uuid.UUID, account_ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of the accounts keep their balance in the row (the others derive it). An
    account's kind never changes, so each process reads it once per account (the ids are
    UUIDv7, never reused: an account whose creation rolled back leaves an entry nothing
    asks for again)."""
    ids = list(account_ids)
    unknown = [account_id for account_id in ids if account_id not in _tracking]
    if unknown:
        if len(_tracking) >= _MAX_TRACKING:
            _tracking.clear()
        for row in await _TRACKED.all(conn, {"tenant_id": tenant_id, "ids": unknown}):
            _tracking[as_uuid(row.id)] = bool(row.tracks_balance)
    return {account_id for account_id in ids if _tracking.get(account_id)}


_tracking: dict[uuid.UUID, bool] = {}


async def member_owned(
    conn: AsyncConnection, tenant_id: uuid.UUID, account_ids: Sequence[uuid.UUID]
) -> bool:
    """Whether any of the accounts is a member's (a ``post`` debiting one of an asset that
    is not spendable is refused)."""
    if not account_ids:
        return False
    query = select(
        exists().where(
            ledger_accounts.c.tenant_id == tenant_id,
            ledger_accounts.c.id.in_(list(account_ids)),
            ledger_accounts.c.member_id.is_not(None),
        )
    )
    return bool((await conn.execute(query)).scalar_one())


_MAX_TRACKING = 200_000


async def account_funds(
    conn: AsyncConnection, tenant_id: uuid.UUID, account_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Funds]:
    """Balance and held amount of several accounts, in one query."""
    ids = list(account_ids)
    if not ids:
        return {}
    rows = await conn.execute(
        select(ledger_accounts.c.id, ledger_accounts.c.balance, ledger_accounts.c.held).where(
            ledger_accounts.c.tenant_id == tenant_id, ledger_accounts.c.id.in_(ids)
        )
    )
    return {as_uuid(row.id): Funds(int(row.balance), int(row.held)) for row in rows}


async def _account_id(
    conn: AsyncConnection, kind: _AccountKind, key: dict[str, Any], new: dict[str, Any]
) -> uuid.UUID:
    """Select first (the common case, one round trip). On a miss, insert with ON CONFLICT DO
    NOTHING and select again: under READ COMMITTED the second select takes a new snapshot,
    so it sees the row a concurrent first use committed while our insert waited for it."""
    query, create = kind
    found = await query.first(conn, key)
    if found is None:
        await create.execute(conn, {**key, **new})
        found = await query.first(conn, key)
        assert found is not None, "the account exists once the insert returned"
    return as_uuid(found.id)


@dataclass(frozen=True)
class Header:
    """A ledger transaction's header, as claiming its idempotency key writes it."""

    kind: TransactionKind
    idempotency_key: str
    request_hash: str
    reason: str
    cause: Cause
    actor: str
    reverses_id: uuid.UUID | None = None
    details: dict[str, object] | None = None

    def values(self, tenant_id: uuid.UUID, transaction_id: uuid.UUID) -> dict[str, Any]:
        cause = self.cause
        return {
            "tenant_id": tenant_id,
            "id": transaction_id,
            "kind": self.kind.value,
            "idempotency_key": self.idempotency_key,
            "request_hash": self.request_hash,
            "reason": self.reason,
            "cause_kind": cause.kind,
            "cause_id": cause.id,
            "event_id": cause.event_id,
            "rule_id": cause.rule_id,
            "rule_version": cause.rule_version,
            "actor": self.actor,
            "reverses_id": self.reverses_id,
            "details": self.details or {},
        }

    def transaction(self, transaction_id: uuid.UUID, created_at: datetime) -> LedgerTransaction:
        """The transaction this header was written as (without reading it back)."""
        return LedgerTransaction(
            id=transaction_id,
            kind=self.kind,
            idempotency_key=self.idempotency_key,
            reason=self.reason,
            cause=self.cause,
            actor=self.actor,
            reverses_id=self.reverses_id,
            created_at=created_at,
            details=dict(self.details or {}),
        )


async def claim_idempotency_key(
    conn: AsyncConnection, tenant_id: uuid.UUID, header: Header
) -> LedgerTransaction | None:
    """Insert the transaction header, or return None when the key is already taken.

    A concurrent writer holding the same key makes this insert wait until it commits or
    rolls back; then ON CONFLICT DO NOTHING (it committed) or the insert goes through (it
    rolled back). Either way exactly one transaction per key is ever written.
    """
    row = await _CLAIM.first(conn, header.values(tenant_id, new_id()))
    return None if row is None else transaction_from_row(row)


async def get_transaction_by_key(
    conn: AsyncConnection, tenant_id: uuid.UUID, idempotency_key: str
) -> tuple[LedgerTransaction, str] | None:
    row = (
        await conn.execute(
            select(ledger_transactions).where(
                ledger_transactions.c.tenant_id == tenant_id,
                ledger_transactions.c.idempotency_key == idempotency_key,
            )
        )
    ).first()
    return None if row is None else (transaction_from_row(row), row.request_hash)


async def get_transaction(
    conn: AsyncConnection, tenant_id: uuid.UUID, transaction_id: uuid.UUID
) -> LedgerTransaction | None:
    """A ledger transaction by id, or None (absent, or another tenant's)."""
    row = (
        await conn.execute(
            select(ledger_transactions).where(
                ledger_transactions.c.tenant_id == tenant_id,
                ledger_transactions.c.id == transaction_id,
            )
        )
    ).first()
    return None if row is None else transaction_from_row(row)


def transaction_from_row(row: Any) -> LedgerTransaction:
    return LedgerTransaction(
        id=as_uuid(row.id),
        kind=TransactionKind(row.kind),
        idempotency_key=row.idempotency_key,
        reason=row.reason,
        cause=Cause(
            kind=row.cause_kind,
            id=row.cause_id,
            event_id=_optional_uuid(row.event_id),
            rule_id=_optional_uuid(row.rule_id),
            rule_version=row.rule_version,
        ),
        actor=row.actor,
        reverses_id=_optional_uuid(row.reverses_id),
        created_at=row.created_at,
        details=dict(row.details),
    )


def as_uuid(value: object) -> uuid.UUID:
    """A driver value as a ``uuid.UUID``: asyncpg's own UUID class (a subclass, which
    :func:`loyalty_core.ids.new_id` makes too) as it is, anything else parsed."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _optional_uuid(value: object) -> uuid.UUID | None:
    return None if value is None else as_uuid(value)


async def apply_balance_delta(
    conn: AsyncConnection, tenant_id: uuid.UUID, account_id: uuid.UUID, delta: int
) -> int | None:
    """Add ``delta`` to a balance unless that would overdraw it or cut into what holds set
    aside (``ledger.holds``); None when it would.

    One conditional UPDATE, no read-modify-write: the row lock it takes serialises writers
    of this account, and the WHERE clause is re-checked against the committed balance of
    the writer it waited for, so concurrent spends can never overdraw.
    """
    row = await _BALANCE_DELTA.first(
        conn, {"b_tenant_id": tenant_id, "b_account_id": account_id, "b_delta": delta}
    )
    return None if row is None else int(row.balance)


async def lock_account(conn: AsyncConnection, tenant_id: uuid.UUID, account_id: uuid.UUID) -> Funds:
    """Lock an account row (before its lots, the order every writer uses) and read its funds.

    ``FOR NO KEY UPDATE``, the lock an UPDATE of the balance takes anyway: it serialises the
    account's writers without blocking inserts whose foreign keys merely reference the row.
    """
    row = (
        await conn.execute(
            select(ledger_accounts.c.balance, ledger_accounts.c.held)
            .where(ledger_accounts.c.tenant_id == tenant_id, ledger_accounts.c.id == account_id)
            .with_for_update(key_share=True)
        )
    ).one()
    return Funds(int(row.balance), int(row.held))


@dataclass(frozen=True)
class Credit:
    """A credit as a new lot on a member's account, against a tenant counter-account."""

    member_id: uuid.UUID
    asset: Asset
    purpose: Purpose
    counter: Purpose
    amount: int
    available_from: datetime
    expires_at: datetime | None

    def params(self, tenant_id: uuid.UUID, transaction_id: uuid.UUID) -> dict[str, Any]:
        return {
            "tenant_id": tenant_id,
            "member_id": self.member_id,
            "asset_id": self.asset.id,
            "purpose": self.purpose.value,
            "counter": self.counter.value,
            "transaction_id": transaction_id,
            "lot_id": new_id(),
            "entry_id": new_id(),
            "counter_entry_id": new_id(),
            "amount": self.amount,
            "available_from": self.available_from,
            "expires_at": self.expires_at,
        }


async def claim_and_credit(
    conn: AsyncConnection, tenant_id: uuid.UUID, header: Header, credit: Credit
) -> LedgerTransaction | None:
    """Claim an earn's idempotency key and credit it, in one statement once both accounts
    exist; None when the key is taken (the caller replays). See :func:`claim_idempotency_key`
    for how concurrent claims of one key resolve."""
    transaction_id = new_id()
    params = {
        **credit.params(tenant_id, transaction_id),
        **header.values(tenant_id, transaction_id),
    }
    row = await _CLAIM_AND_CREDIT.first(conn, params)
    if row is None:
        return None
    if row.lot_id is None:  # an account's first use: the header is claimed, nothing else
        await member_account(conn, tenant_id, credit.member_id, credit.asset, credit.purpose)
        await tenant_account(conn, tenant_id, credit.asset, credit.counter)
        credited = await _CREDIT_NEW_LOT.first(conn, params)
        assert credited is not None, "both accounts exist once created"
    return transaction_from_row(row)


async def insert_lot(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    account_id: uuid.UUID,
    member_id: uuid.UUID,
    asset_id: uuid.UUID,
    transaction_id: uuid.UUID,
    amount: int,
    available_from: datetime,
    expires_at: datetime | None,
) -> uuid.UUID:
    lot_id = new_id()
    await _NEW_LOT.execute(
        conn,
        {
            "tenant_id": tenant_id,
            "id": lot_id,
            "account_id": account_id,
            "member_id": member_id,
            "asset_id": asset_id,
            "transaction_id": transaction_id,
            "earned": amount,
            "remaining": amount,
            "available_from": available_from,
            "expires_at": expires_at,
        },
    )
    return lot_id


async def lots_for_spending(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    account_id: uuid.UUID,
) -> list[Any]:
    """Lots with points left, locked (``FOR NO KEY UPDATE``, as :func:`lock_account`), in
    spending order: first-expiring first (lots that never expire last), then oldest first."""
    return await _LOTS_FOR_SPENDING.all(conn, {"tenant_id": tenant_id, "account_id": account_id})


async def take_from_lot(
    conn: AsyncConnection, tenant_id: uuid.UUID, lot_id: uuid.UUID, amount: int
) -> None:
    await _TAKE_FROM_LOT.execute(
        conn, {"b_tenant_id": tenant_id, "b_lot_id": lot_id, "b_amount": amount}
    )


async def move_lot(
    conn: AsyncConnection, tenant_id: uuid.UUID, lot_id: uuid.UUID, account_id: uuid.UUID
) -> None:
    await conn.execute(
        update(ledger_lots)
        .where(ledger_lots.c.tenant_id == tenant_id, ledger_lots.c.id == lot_id)
        .values(account_id=account_id)
    )


async def insert_entries(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    transaction_id: uuid.UUID,
    legs: Iterable[tuple[uuid.UUID, uuid.UUID, int, uuid.UUID | None]],
) -> None:
    """Insert entries ``(account_id, asset_id, amount, lot_id)``; zero amounts are skipped."""
    rows = [
        {
            "tenant_id": tenant_id,
            "id": new_id(),
            "transaction_id": transaction_id,
            "account_id": account_id,
            "asset_id": asset_id,
            "amount": amount,
            "lot_id": lot_id,
        }
        for account_id, asset_id, amount, lot_id in legs
        if amount != 0
    ]
    await _NEW_ENTRIES.execute_many(conn, rows)


async def due_lots(
    conn: AsyncConnection, tenant_id: uuid.UUID, *, column: str, now: datetime, limit: int
) -> list[uuid.UUID]:
    """Ids of lots with points left whose ``available_from`` or ``expires_at`` has come."""
    moment = ledger_lots.c[column]
    query = (
        select(ledger_lots.c.id)
        .where(ledger_lots.c.tenant_id == tenant_id, ledger_lots.c.remaining > 0, moment <= now)
        .order_by(moment)
        .limit(limit)
    )
    if column == "available_from":
        pending = select(ledger_accounts.c.id).where(
            ledger_accounts.c.tenant_id == tenant_id,
            ledger_accounts.c.purpose == Purpose.PENDING.value,
        )
        query = query.where(ledger_lots.c.account_id.in_(pending))
    return [uuid.UUID(str(v)) for v in (await conn.execute(query)).scalars()]


async def get_lot(conn: AsyncConnection, tenant_id: uuid.UUID, lot_id: uuid.UUID) -> Row[Any]:
    return (
        await conn.execute(
            select(ledger_lots).where(
                ledger_lots.c.tenant_id == tenant_id, ledger_lots.c.id == lot_id
            )
        )
    ).one()


async def credited_to_member(
    conn: AsyncConnection, tenant_id: uuid.UUID, transaction_id: uuid.UUID, member_id: uuid.UUID
) -> int:
    """What a transaction credited to a member: the earned amount of the lots it created."""
    total = (
        await conn.execute(
            select(func.coalesce(func.sum(ledger_lots.c.earned), 0)).where(
                ledger_lots.c.tenant_id == tenant_id,
                ledger_lots.c.transaction_id == transaction_id,
                ledger_lots.c.member_id == member_id,
            )
        )
    ).scalar_one()
    return int(total)


_MEMBER_MOVEMENT = Prepared(
    select(func.coalesce(func.sum(ledger_entries.c.amount), 0))
    .select_from(
        ledger_entries.join(
            ledger_accounts,
            and_(
                ledger_accounts.c.tenant_id == ledger_entries.c.tenant_id,
                ledger_accounts.c.id == ledger_entries.c.account_id,
            ),
        )
    )
    .where(
        ledger_entries.c.tenant_id == _p("tenant_id"),
        ledger_entries.c.transaction_id == func.any(_p("transaction_ids", type_=ARRAY(PG_UUID))),
        ledger_entries.c.asset_id == _p("asset_id"),
        ledger_accounts.c.member_id == _p("member_id"),
    )
)


async def member_movement(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    asset_id: uuid.UUID,
    transaction_ids: Iterable[uuid.UUID],
) -> int:
    """What ``transaction_ids`` moved into (positive) or out of (negative) the member's
    accounts of one asset, over every purpose (pending or available): the status points an
    event's campaigns awarded, or what its refund took back. One indexed read."""
    ids = list(transaction_ids)
    if not ids:
        return 0
    row = await _MEMBER_MOVEMENT.first(
        conn,
        {
            "tenant_id": tenant_id,
            "transaction_ids": ids,
            "asset_id": asset_id,
            "member_id": member_id,
        },
    )
    assert row is not None
    return int(row[0])


async def undone_so_far(
    conn: AsyncConnection, tenant_id: uuid.UUID, original_id: uuid.UUID, *, returned: bool
) -> int:
    """What the transactions undoing ``original_id`` moved on the member's side so far: the
    points clawbacks took back (their debits) or, with ``returned``, the points give-backs
    returned (their credits). The counter-account leg is each one's only entry of the other
    sign."""
    member_side = ledger_entries.c.amount > 0 if returned else ledger_entries.c.amount < 0
    total = (
        await conn.execute(
            select(func.coalesce(func.sum(func.abs(ledger_entries.c.amount)), 0))
            .select_from(
                ledger_entries.join(
                    ledger_transactions,
                    and_(
                        ledger_transactions.c.tenant_id == ledger_entries.c.tenant_id,
                        ledger_transactions.c.id == ledger_entries.c.transaction_id,
                    ),
                )
            )
            .where(
                ledger_entries.c.tenant_id == tenant_id,
                ledger_transactions.c.reverses_id == original_id,
                member_side,
            )
        )
    ).scalar_one()
    return int(total)


async def credited_by(
    conn: AsyncConnection, tenant_id: uuid.UUID, transaction_id: uuid.UUID
) -> int:
    """The sum of a transaction's credits (its positive entries): what a give-back
    returned, whichever account received it."""
    total = await conn.scalar(
        select(func.coalesce(func.sum(ledger_entries.c.amount), 0)).where(
            ledger_entries.c.tenant_id == tenant_id,
            ledger_entries.c.transaction_id == transaction_id,
            ledger_entries.c.amount > 0,
        )
    )
    return int(total or 0)


async def spent_from_lots(
    conn: AsyncConnection, tenant_id: uuid.UUID, transaction_id: uuid.UUID, member_id: uuid.UUID
) -> list[tuple[datetime | None, int]]:
    """What a spend took from a member's lots, in spending order: (lot expiry, points)."""
    rows = await conn.execute(
        select(ledger_lots.c.expires_at, -ledger_entries.c.amount)
        .select_from(
            ledger_entries.join(
                ledger_lots,
                and_(
                    ledger_lots.c.tenant_id == ledger_entries.c.tenant_id,
                    ledger_lots.c.id == ledger_entries.c.lot_id,
                ),
            )
        )
        .where(
            ledger_entries.c.tenant_id == tenant_id,
            ledger_entries.c.transaction_id == transaction_id,
            ledger_entries.c.amount < 0,
            ledger_lots.c.member_id == member_id,
        )
        .order_by(ledger_lots.c.expires_at.asc().nulls_last(), ledger_lots.c.id)
    )
    return [(expires_at, int(part)) for expires_at, part in rows]


async def sum_of_entries(conn: AsyncConnection, tenant_id: uuid.UUID, account_id: uuid.UUID) -> int:
    total = (
        await conn.execute(
            select(func.coalesce(func.sum(ledger_entries.c.amount), 0)).where(
                ledger_entries.c.tenant_id == tenant_id, ledger_entries.c.account_id == account_id
            )
        )
    ).scalar_one()
    return int(total)


__all__ = [
    "Header",
    "account_balance",
    "account_funds",
    "apply_balance_delta",
    "as_uuid",
    "asset_from_row",
    "claim_idempotency_key",
    "credited_by",
    "credited_to_member",
    "due_lots",
    "get_asset",
    "get_lot",
    "get_transaction",
    "get_transaction_by_key",
    "insert_asset",
    "insert_entries",
    "insert_lot",
    "list_assets",
    "lock_account",
    "lots_for_spending",
    "member_account",
    "member_movement",
    "member_owned",
    "move_lot",
    "owned_account",
    "spent_from_lots",
    "sum_of_entries",
    "take_from_lot",
    "tenant_account",
    "tenant_timezone",
    "tracked_accounts",
    "transaction_from_row",
    "undone_so_far",
]
