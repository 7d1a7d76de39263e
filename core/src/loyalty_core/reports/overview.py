"""The programme overview: members, activity and the points ledger of a period, in a few
set-based statements, each scoped to the tenant and served by an index.

Periods are cut by time, and the tables that grow with time (members, events, ledger
transactions and entries) have time-ordered ids (UUIDv7): the primary key ``(tenant_id,
id)`` and ``ix_ledger_entries_account`` ``(tenant_id, account_id, id)`` are already indexes
by time. So each statement bounds the id by the period (:func:`first_id_at`, with an hour's
slack for clocks: an id is made by the application, ``created_at`` by the database) and
filters on ``created_at`` exactly: a range scan of the period's rows, with no index of its
own to write on every posting.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import Date, and_, cast, distinct, func, literal, select, union
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from loyalty_core.events.tables import events
from loyalty_core.ledger.models import Asset, Purpose, TransactionKind
from loyalty_core.ledger.repository import list_assets
from loyalty_core.ledger.tables import (
    ledger_accounts,
    ledger_entries,
    ledger_transactions,
)
from loyalty_core.members.tables import members

ACTIVE_DAYS = 90
"""A member is active with an event, or a movement of its points it caused (anything but
an expiry or a release), in this many days before now."""
MAX_POINTS = 366
"""The most intervals one overview's series may have."""
CLOCK_SLACK = timedelta(hours=1)
"""How far an id's time may be from its row's ``created_at`` (application and database
clocks)."""
PASSIVE_KINDS = (TransactionKind.EXPIRY.value, TransactionKind.RELEASE.value)
"""Movements a job makes on its own: they do not make a member active."""


class Interval(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass
class Movements:
    """Points of one asset issued (earned, net of reversals), redeemed (net of
    cancellations) and expired in a period."""

    issued: int = 0
    redeemed: int = 0
    expired: int = 0


@dataclass
class AssetOverview:
    asset: Asset
    totals: Movements
    outstanding: int | None
    """What members hold (available and pending): the liability; None for an asset that
    cannot be spent (status points)."""
    series: list[tuple[date, Movements]]


@dataclass
class Overview:
    start: date
    end: date
    interval: Interval
    members_by_status: dict[str, int]
    active_members: int
    members_joined: list[tuple[date, int]]
    assets: list[AssetOverview] = field(default_factory=list)


def first_id_at(moment: datetime) -> uuid.UUID:
    """The smallest UUIDv7 made at ``moment`` or later: its 48 high bits are the Unix time in
    milliseconds, and PostgreSQL orders uuids by their bytes."""
    millis = max(0, int(moment.timestamp() * 1000))
    return uuid.UUID(bytes=millis.to_bytes(6, "big") + bytes(10))


EARLIEST = date(1970, 1, 1)
LATEST = date(9000, 12, 31)
"""The days an overview may cover: ids are Unix milliseconds, and a day far from either
end keeps every time zone's midnight a valid datetime."""


def interval_count(start: date, end: date, interval: Interval) -> int:
    """How many intervals meet ``start``..``end``, counted without listing them."""
    first = _truncate(start, interval)
    if interval is Interval.DAY:
        return (end - first).days + 1
    if interval is Interval.WEEK:
        return (end - first).days // 7 + 1
    return (end.year - first.year) * 12 + end.month - first.month + 1


def period_starts(start: date, end: date, interval: Interval) -> list[date]:
    """The first day of every interval that meets ``start``..``end`` (weeks from Monday)."""
    first = _truncate(start, interval)
    found: list[date] = []
    current = first
    while current <= end:
        found.append(current)
        current = _next(current, interval)
    return found


def _truncate(day: date, interval: Interval) -> date:
    if interval is Interval.DAY:
        return day
    if interval is Interval.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _next(day: date, interval: Interval) -> date:
    if interval is Interval.DAY:
        return day + timedelta(days=1)
    if interval is Interval.WEEK:
        return day + timedelta(days=7)
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


async def overview(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    start: date,
    end: date,
    interval: Interval,
    timezone: str,
    now: datetime,
) -> Overview:
    """The overview of ``start``..``end`` (whole days in ``timezone``, both included)."""
    zone = ZoneInfo(timezone)
    since = datetime.combine(start, time(), zone).astimezone(UTC)
    until = datetime.combine(end + timedelta(days=1), time(), zone).astimezone(UTC)
    starts = period_starts(start, end, interval)
    by_status = await _members_by_status(conn, tenant_id)
    active = await _active_members(conn, tenant_id, now - timedelta(days=ACTIVE_DAYS))
    joined = await _members_joined(conn, tenant_id, since, until, interval, timezone)
    movements = await _movements(conn, tenant_id, since, until, interval, timezone)
    outstanding = await _outstanding(conn, tenant_id)
    found = Overview(
        start=start,
        end=end,
        interval=interval,
        members_by_status=by_status,
        active_members=active,
        members_joined=[(day, joined.get(day, 0)) for day in starts],
    )
    for asset in await list_assets(conn, tenant_id):
        per_period = movements.get(asset.id, {})
        totals = Movements()
        for moved in per_period.values():
            totals.issued += moved.issued
            totals.redeemed += moved.redeemed
            totals.expired += moved.expired
        found.assets.append(
            AssetOverview(
                asset=asset,
                totals=totals,
                outstanding=outstanding.get(asset.id, 0) if asset.spendable else None,
                series=[(day, per_period.get(day, Movements())) for day in starts],
            )
        )
    return found


def _bucket(
    column: ColumnElement[datetime], interval: Interval, timezone: str
) -> ColumnElement[date]:
    """The first day of ``column``'s interval in ``timezone`` (PostgreSQL's weeks start on
    Monday, as :func:`period_starts`'s)."""
    local = func.timezone(literal(timezone), column)
    return cast(func.date_trunc(literal(interval.value), local), Date)


async def _members_by_status(conn: AsyncConnection, tenant_id: uuid.UUID) -> dict[str, int]:
    """Members by status: the tenant's range of the primary key (every member, once)."""
    rows = await conn.execute(
        select(members.c.status, func.count())
        .where(members.c.tenant_id == tenant_id)
        .group_by(members.c.status)
    )
    return {status: int(count) for status, count in rows}


async def _active_members(conn: AsyncConnection, tenant_id: uuid.UUID, since: datetime) -> int:
    """Members with an event recorded, or a movement of their points they caused, since
    ``since``: the events' and the transactions' primary keys from ``since`` on, the
    entries of each transaction by ``ix_ledger_entries_transaction`` and their accounts by
    primary key."""
    low = first_id_at(since - CLOCK_SLACK)
    by_events = select(events.c.member_id).where(
        events.c.tenant_id == tenant_id, events.c.id >= low, events.c.created_at >= since
    )
    by_ledger = (
        select(ledger_accounts.c.member_id)
        .select_from(
            ledger_transactions.join(
                ledger_entries,
                and_(
                    ledger_entries.c.tenant_id == ledger_transactions.c.tenant_id,
                    ledger_entries.c.transaction_id == ledger_transactions.c.id,
                ),
            ).join(
                ledger_accounts,
                and_(
                    ledger_accounts.c.tenant_id == ledger_entries.c.tenant_id,
                    ledger_accounts.c.id == ledger_entries.c.account_id,
                ),
            )
        )
        .where(
            ledger_transactions.c.tenant_id == tenant_id,
            ledger_transactions.c.id >= low,
            ledger_transactions.c.created_at >= since,
            ledger_transactions.c.kind.not_in(PASSIVE_KINDS),
            ledger_accounts.c.member_id.is_not(None),
        )
    )
    either = union(by_events, by_ledger).subquery()
    return int((await conn.execute(select(func.count(distinct(either.c.member_id))))).scalar_one())


async def _members_joined(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    since: datetime,
    until: datetime,
    interval: Interval,
    timezone: str,
) -> dict[date, int]:
    """Members enrolled per interval: the primary key's range of the period."""
    bucket = _bucket(members.c.created_at, interval, timezone)
    rows = await conn.execute(
        select(bucket, func.count())
        .where(
            members.c.tenant_id == tenant_id,
            members.c.id >= first_id_at(since - CLOCK_SLACK),
            members.c.id < first_id_at(until + CLOCK_SLACK),
            members.c.created_at >= since,
            members.c.created_at < until,
        )
        .group_by(bucket)
    )
    return {day: int(count) for day, count in rows}


_COUNTERS = (Purpose.ISSUED.value, Purpose.REDEEMED.value, Purpose.BREAKAGE.value)


async def _movements(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    since: datetime,
    until: datetime,
    interval: Interval,
    timezone: str,
) -> dict[uuid.UUID, dict[date, Movements]]:
    """Issued, redeemed and expired per asset and interval, from the entries of the tenant's
    counter-accounts (issued, redeemed, breakage: a handful of rows by
    ``uq_ledger_accounts_tenant_purpose``), each account's entries of the period by
    ``ix_ledger_entries_account``. Breakage counts only expiries (not the points an erasure
    forfeits), by the transaction's primary key."""
    bucket = _bucket(ledger_entries.c.created_at, interval, timezone)
    rows = await conn.execute(
        select(
            ledger_accounts.c.asset_id,
            ledger_accounts.c.purpose,
            bucket.label("day"),
            func.sum(ledger_entries.c.amount),
        )
        .select_from(
            ledger_accounts.join(
                ledger_entries,
                and_(
                    ledger_entries.c.tenant_id == ledger_accounts.c.tenant_id,
                    ledger_entries.c.account_id == ledger_accounts.c.id,
                ),
            ).join(
                ledger_transactions,
                and_(
                    ledger_transactions.c.tenant_id == ledger_entries.c.tenant_id,
                    ledger_transactions.c.id == ledger_entries.c.transaction_id,
                ),
            )
        )
        .where(
            ledger_accounts.c.tenant_id == tenant_id,
            ledger_accounts.c.member_id.is_(None),
            ledger_accounts.c.owner_ref.is_(None),
            ledger_accounts.c.purpose.in_(_COUNTERS),
            ledger_entries.c.id >= first_id_at(since - CLOCK_SLACK),
            ledger_entries.c.id < first_id_at(until + CLOCK_SLACK),
            ledger_entries.c.created_at >= since,
            ledger_entries.c.created_at < until,
            (ledger_accounts.c.purpose != Purpose.BREAKAGE.value)
            | (ledger_transactions.c.kind == TransactionKind.EXPIRY.value),
        )
        .group_by(ledger_accounts.c.asset_id, ledger_accounts.c.purpose, bucket)
    )
    found: dict[uuid.UUID, dict[date, Movements]] = defaultdict(dict)
    for asset_id, purpose, day, amount in rows:
        moved = found[asset_id].setdefault(day, Movements())
        if purpose == Purpose.ISSUED.value:
            moved.issued -= int(amount)  # the issuing account is debited what members earn
        elif purpose == Purpose.REDEEMED.value:
            moved.redeemed += int(amount)
        else:
            moved.expired += int(amount)
    return found


async def _outstanding(conn: AsyncConnection, tenant_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """What members hold now, available and pending, per asset: the sum of the balances the
    member accounts keep (``uq_ledger_accounts_member_purpose``: one row per member, asset
    and purpose), not of their entries."""
    rows = await conn.execute(
        select(ledger_accounts.c.asset_id, func.sum(ledger_accounts.c.balance))
        .where(
            ledger_accounts.c.tenant_id == tenant_id,
            ledger_accounts.c.member_id.is_not(None),
            ledger_accounts.c.purpose.in_((Purpose.AVAILABLE.value, Purpose.PENDING.value)),
        )
        .group_by(ledger_accounts.c.asset_id)
    )
    return {asset_id: int(amount) for asset_id, amount in rows}


__all__ = [
    "ACTIVE_DAYS",
    "EARLIEST",
    "LATEST",
    "MAX_POINTS",
    "AssetOverview",
    "Interval",
    "Movements",
    "Overview",
    "first_id_at",
    "interval_count",
    "overview",
    "period_starts",
]
