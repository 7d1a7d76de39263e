"""Read models of the ledger for the API: a member's history with the cause of every entry."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Date, DateTime, Integer, String, any_, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.db.prepared import Prepared
from loyalty_core.ledger.models import Asset, Balance, Cause, Funds, Purpose, TransactionKind
from loyalty_core.ledger.repository import asset_from_row
from loyalty_core.ledger.tables import (
    assets,
    ledger_accounts,
    ledger_entries,
    ledger_lots,
    ledger_transactions,
)


@dataclass(slots=True)
class LedgerLine:
    """One entry on a member's account, joined with what explains it.

    A read model made per row of a page, and never changed: not frozen only because a frozen
    dataclass's ``__init__`` sets each field through ``object.__setattr__``, three times the
    cost, on what is a dashboard's most built object."""

    entry_id: uuid.UUID
    amount: int
    asset_code: str
    purpose: Purpose
    transaction_id: uuid.UUID
    kind: TransactionKind
    reason: str
    cause: Cause
    actor: str
    reverses_id: uuid.UUID | None
    expires_at: datetime | None
    created_at: datetime


def _member_ledger(*, after: bool) -> Prepared:
    query = (
        select(
            ledger_entries.c.id.label("entry_id"),
            ledger_entries.c.amount,
            ledger_entries.c.created_at,
            assets.c.code,
            ledger_accounts.c.purpose,
            ledger_transactions.c.id.label("transaction_id"),
            ledger_transactions.c.kind,
            ledger_transactions.c.reason,
            ledger_transactions.c.cause_kind,
            ledger_transactions.c.cause_id,
            ledger_transactions.c.event_id,
            ledger_transactions.c.rule_id,
            ledger_transactions.c.rule_version,
            ledger_transactions.c.actor,
            ledger_transactions.c.reverses_id,
            ledger_lots.c.expires_at,
        )
        .join(
            ledger_accounts,
            (ledger_accounts.c.tenant_id == ledger_entries.c.tenant_id)
            & (ledger_accounts.c.id == ledger_entries.c.account_id),
        )
        .join(
            assets,
            (assets.c.tenant_id == ledger_entries.c.tenant_id)
            & (assets.c.id == ledger_entries.c.asset_id),
        )
        .join(
            ledger_transactions,
            (ledger_transactions.c.tenant_id == ledger_entries.c.tenant_id)
            & (ledger_transactions.c.id == ledger_entries.c.transaction_id),
        )
        .outerjoin(
            ledger_lots,
            (ledger_lots.c.tenant_id == ledger_entries.c.tenant_id)
            & (ledger_lots.c.id == ledger_entries.c.lot_id),
        )
        .where(
            ledger_entries.c.tenant_id == bindparam("tenant_id"),
            ledger_accounts.c.member_id == bindparam("member_id"),
        )
        .order_by(ledger_entries.c.id.desc())
        .limit(bindparam("limit", type_=Integer))  # NULL: no limit
    )
    if after:
        query = query.where(ledger_entries.c.id < bindparam("after"))
    return Prepared(query)


# Every member dashboard and history page reads these: built once, run by asyncpg.
_LEDGER = _member_ledger(after=False)
_LEDGER_AFTER = _member_ledger(after=True)
_BALANCES = Prepared(
    select(
        assets,
        ledger_accounts.c.member_id,
        ledger_accounts.c.purpose,
        ledger_accounts.c.balance,
        ledger_accounts.c.held,
    )
    .select_from(
        assets.outerjoin(
            ledger_accounts,
            (ledger_accounts.c.tenant_id == assets.c.tenant_id)
            & (ledger_accounts.c.asset_id == assets.c.id)
            & (
                ledger_accounts.c.member_id
                == any_(bindparam("ids", type_=ARRAY(UUID(as_uuid=True))))
            ),
        )
    )
    .where(assets.c.tenant_id == bindparam("tenant_id"))
    .order_by(assets.c.code)
)
"""The tenant's assets, each with the members' accounts of it (or none), in one read."""


_PURPOSES = {purpose.value: purpose for purpose in Purpose}
_KINDS = {kind.value: kind for kind in TransactionKind}
"""Enum members by stored value: a dict look-up, where calling the enum costs ten times more."""


async def member_ledger(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    after: uuid.UUID | None,
    limit: int | None,
) -> list[LedgerLine]:
    """Entries on a member's accounts, newest first, keyset-paginated by entry id
    (``limit`` None: all of them, as a privacy export needs)."""
    params = {"tenant_id": tenant_id, "member_id": member_id, "limit": limit}
    if after is None:
        rows = await _LEDGER.all(conn, params)
    else:
        rows = await _LEDGER_AFTER.all(conn, {**params, "after": after})
    return [
        LedgerLine(
            entry_id=row.entry_id,
            amount=int(row.amount),
            asset_code=row.code,
            purpose=_PURPOSES[row.purpose],
            transaction_id=row.transaction_id,
            kind=_KINDS[row.kind],
            reason=row.reason,
            cause=Cause(
                kind=row.cause_kind,
                id=row.cause_id,
                event_id=row.event_id,
                rule_id=row.rule_id,
                rule_version=row.rule_version,
            ),
            actor=row.actor,
            reverses_id=row.reverses_id,
            expires_at=row.expires_at,
            created_at=row.created_at,
        )
        for row in rows
    ]


async def balances_of(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Balance]]:
    """Available and pending balance per asset for many members in one query (DataLoader)."""
    tenant_assets: dict[uuid.UUID, Asset] = {}
    accounts: dict[tuple[uuid.UUID, uuid.UUID], dict[str, Funds]] = {}
    for row in await _BALANCES.all(conn, {"tenant_id": tenant_id, "ids": member_ids}):
        if row.id not in tenant_assets:
            tenant_assets[row.id] = asset_from_row(row)
        if row.member_id is not None:
            by_purpose = accounts.setdefault((row.member_id, row.id), {})
            by_purpose[row.purpose] = Funds(int(row.balance), int(row.held))
    return {
        member_id: [
            Balance.of_accounts(asset, accounts.get((member_id, asset_id), {}))
            for asset_id, asset in tenant_assets.items()
        ]
        for member_id in member_ids
    }


@dataclass(frozen=True, slots=True)
class Expiring:
    """Points of one asset a member loses on one day (the tenant's calendar day): ``amount``,
    and ``at``, the first moment that day when some of them expire."""

    asset_id: uuid.UUID
    day: date
    at: datetime
    amount: int


_DAY = cast(func.timezone(bindparam("timezone", type_=String), ledger_lots.c.expires_at), Date)
_EXPIRING = Prepared(
    select(
        ledger_accounts.c.member_id,
        ledger_lots.c.asset_id,
        _DAY.label("day"),
        func.min(ledger_lots.c.expires_at).label("at"),
        func.sum(ledger_lots.c.remaining).label("amount"),
    )
    .select_from(
        ledger_accounts.join(
            ledger_lots,
            (ledger_lots.c.tenant_id == ledger_accounts.c.tenant_id)
            & (ledger_lots.c.account_id == ledger_accounts.c.id),
        )
    )
    .where(
        ledger_accounts.c.tenant_id == bindparam("tenant_id"),
        ledger_accounts.c.member_id == any_(bindparam("ids", type_=ARRAY(UUID(as_uuid=True)))),
        ledger_lots.c.remaining > 0,
        ledger_lots.c.expires_at.is_not(None),
        ledger_lots.c.expires_at <= bindparam("until", type_=DateTime(timezone=True)),
    )
    .group_by(ledger_accounts.c.member_id, ledger_lots.c.asset_id, _DAY)
    .order_by(_DAY)
)
"""Points expiring up to a moment, per member, asset and local day, in one read: the
members' accounts by ``uq_ledger_accounts_member_purpose``, then each account's lots with
points left in expiry order by ``ix_ledger_lots_spend_order`` (tenant, account, expires_at,
where remaining > 0), so the read touches only the members' own lots."""


async def expiring_of(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_ids: list[uuid.UUID],
    *,
    until: datetime,
    timezone: str,
) -> dict[uuid.UUID, list[Expiring]]:
    """What each member's lots (pending and available) lose to expiry up to ``until``, by
    asset and by day in ``timezone``, soonest first (DataLoader). Lots past their expiry that
    the expiry job has not moved yet are still in the balance, so they are counted too."""
    found: dict[uuid.UUID, list[Expiring]] = {member_id: [] for member_id in member_ids}
    params = {"tenant_id": tenant_id, "ids": member_ids, "until": until, "timezone": timezone}
    for row in await _EXPIRING.all(conn, params):
        found[row.member_id].append(Expiring(row.asset_id, row.day, row.at, int(row.amount)))
    return found


__all__ = ["Expiring", "LedgerLine", "balances_of", "expiring_of", "member_ledger"]
