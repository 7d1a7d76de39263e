"""SQL of the clearing module. Every statement filters by ``tenant_id`` (row-level security
is the second wall); what a partner's credential may read is narrowed before these run
(``access.readable_partner``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from loyalty_core.sdk import Prepared, new_id
from sqlalchemy import Row, bindparam, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_clearing.models import (
    Movement,
    MovementKind,
    Partner,
    PointBlock,
    RateCard,
    Statement,
)
from loyalty_clearing.tables import (
    movements,
    partner_keys,
    partners,
    periods,
    point_blocks,
    rate_cards,
    statements,
)

# The statements every partner's event runs, compiled once (``Prepared``).
_PARTNER = Prepared(
    select(partners).where(
        partners.c.tenant_id == bindparam("tenant_id"), partners.c.id == bindparam("partner_id")
    )
)
_RATE_CARD_AT = Prepared(
    select(rate_cards)
    .where(
        rate_cards.c.tenant_id == bindparam("tenant_id"),
        rate_cards.c.partner_id == bindparam("partner_id"),
        rate_cards.c.asset_code == bindparam("asset_code"),
        rate_cards.c.currency == bindparam("currency"),
        rate_cards.c.effective_from <= bindparam("at"),
    )
    .order_by(rate_cards.c.effective_from.desc(), rate_cards.c.version.desc())
    .limit(1)
)
_NEW_MOVEMENT = Prepared(insert(movements))

# --- partners -------------------------------------------------------------------------


async def insert_partner(conn: AsyncConnection, values: dict[str, Any]) -> Partner:
    row = (await conn.execute(insert(partners).values(**values).returning(partners))).one()
    return Partner.of(row)


async def update_partner(
    conn: AsyncConnection, tenant_id: uuid.UUID, partner_id: uuid.UUID, values: dict[str, Any]
) -> Partner | None:
    row = (
        await conn.execute(
            update(partners)
            .where(partners.c.tenant_id == tenant_id, partners.c.id == partner_id)
            .values(**values, updated_at=func.now())
            .returning(partners)
        )
    ).first()
    return None if row is None else Partner.of(row)


async def get_partner(
    conn: AsyncConnection, tenant_id: uuid.UUID, partner_id: uuid.UUID, *, lock: bool = False
) -> Partner | None:
    if lock:
        query = select(partners).where(
            partners.c.tenant_id == tenant_id, partners.c.id == partner_id
        )
        row = (await conn.execute(query.with_for_update())).first()
    else:
        row = await _PARTNER.first(conn, {"tenant_id": tenant_id, "partner_id": partner_id})
    return None if row is None else Partner.of(row)


async def list_partners(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    only: uuid.UUID | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[Partner]:
    """The tenant's partners by id; ``only`` narrows to one (a partner's own credential)."""
    query = select(partners).where(partners.c.tenant_id == tenant_id)
    if only is not None:
        query = query.where(partners.c.id == only)
    if after is not None:
        query = query.where(partners.c.id > after)
    rows = await conn.execute(query.order_by(partners.c.id).limit(limit))
    return [Partner.of(row) for row in rows]


async def all_partners(conn: AsyncConnection, tenant_id: uuid.UUID) -> list[Partner]:
    rows = await conn.execute(
        select(partners).where(partners.c.tenant_id == tenant_id).order_by(partners.c.id)
    )
    return [Partner.of(row) for row in rows]


async def bind_key(
    conn: AsyncConnection, tenant_id: uuid.UUID, api_key_id: uuid.UUID, partner_id: uuid.UUID
) -> None:
    await conn.execute(
        insert(partner_keys).values(
            tenant_id=tenant_id, api_key_id=api_key_id, partner_id=partner_id
        )
    )


async def partner_of_key(
    conn: AsyncConnection, tenant_id: uuid.UUID, api_key_id: uuid.UUID
) -> uuid.UUID | None:
    found = await conn.scalar(
        select(partner_keys.c.partner_id).where(
            partner_keys.c.tenant_id == tenant_id, partner_keys.c.api_key_id == api_key_id
        )
    )
    return None if found is None else uuid.UUID(str(found))


# --- rate cards -----------------------------------------------------------------------


async def insert_rate_card(conn: AsyncConnection, values: dict[str, Any]) -> RateCard:
    """A new version: one above the partner's latest for the asset and currency. Two cards
    set at once for the same key: the second meets the unique version and is told
    ALREADY_EXISTS (send it again)."""
    same = (
        (rate_cards.c.tenant_id == values["tenant_id"])
        & (rate_cards.c.partner_id == values["partner_id"])
        & (rate_cards.c.asset_code == values["asset_code"])
        & (rate_cards.c.currency == values["currency"])
    )
    version = select(func.coalesce(func.max(rate_cards.c.version), 0) + 1).where(same)
    row = (
        await conn.execute(
            insert(rate_cards)
            .values(**values, version=version.scalar_subquery())
            .returning(rate_cards)
        )
    ).one()
    return RateCard.of(row)


async def rate_card_at(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    partner_id: uuid.UUID,
    asset_code: str,
    currency: str,
    at: datetime,
) -> RateCard | None:
    """The card in effect at ``at``: the latest ``effective_from`` at or before it, the
    highest version among cards from the same moment (an index range scan, one row)."""
    row = await _RATE_CARD_AT.first(
        conn,
        {
            "tenant_id": tenant_id,
            "partner_id": partner_id,
            "asset_code": asset_code,
            "currency": currency,
            "at": at,
        },
    )
    return None if row is None else RateCard.of(row)


_CARD_COLUMNS = (
    "id",
    "partner_id",
    "asset_code",
    "currency",
    "effective_from",
    "version",
    "issue_price",
    "redeem_reimbursement",
    "fee_percent",
    "fee_fixed",
    "created_at",
)
_PARTNER_WITH_CARD = Prepared(
    text(
        """
        SELECT p.*,
               c.id AS card_id,
               c.partner_id AS card_partner_id,
               c.asset_code AS card_asset_code,
               c.currency AS card_currency,
               c.effective_from AS card_effective_from,
               c.version AS card_version,
               c.issue_price AS card_issue_price,
               c.redeem_reimbursement AS card_redeem_reimbursement,
               c.fee_percent AS card_fee_percent,
               c.fee_fixed AS card_fee_fixed,
               c.created_at AS card_created_at
          FROM clearing_partners p
          LEFT JOIN LATERAL (
              SELECT * FROM clearing_rate_cards c
               WHERE c.tenant_id = p.tenant_id AND c.partner_id = p.id
                 AND c.asset_code = :asset_code AND c.currency = p.currency
                 AND c.effective_from <= :at
               ORDER BY c.effective_from DESC, c.version DESC LIMIT 1
          ) c ON true
         WHERE p.tenant_id = :tenant_id AND p.id = :partner_id
        """
    )
)
"""The partner and its card in effect (``card_`` columns, null without one)."""


async def partner_with_card(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    partner_id: uuid.UUID,
    asset_code: str,
    at: datetime,
) -> tuple[Partner | None, RateCard | None]:
    """The partner and its card in effect at ``at`` for ``asset_code`` in its billing
    currency, in one round trip: what every partner's event reads."""
    row = await _PARTNER_WITH_CARD.first(
        conn,
        {"tenant_id": tenant_id, "partner_id": partner_id, "asset_code": asset_code, "at": at},
    )
    if row is None:
        return None, None
    return Partner.of(row), _card_of(row)


_ISSUED_BY_PARTNER = Prepared(
    text(
        """
        WITH moved AS (
            SELECT a.code AS asset_code, sum(e.amount)::bigint AS points
              FROM ledger_entries e
              JOIN ledger_accounts acc ON acc.tenant_id = e.tenant_id AND acc.id = e.account_id
              JOIN assets a ON a.tenant_id = e.tenant_id AND a.id = e.asset_id
             WHERE e.tenant_id = :tenant_id
               AND e.transaction_id = ANY(CAST(:transactions AS uuid[]))
               AND acc.member_id IS NOT NULL AND a.kind = 'points'
             GROUP BY a.code HAVING sum(e.amount) > 0
        )
        SELECT p.*,
               ARRAY(SELECT asset_code FROM moved ORDER BY asset_code) AS issued_codes,
               ARRAY(SELECT points FROM moved ORDER BY asset_code) AS issued_points,
               c.id AS card_id,
               c.partner_id AS card_partner_id,
               c.asset_code AS card_asset_code,
               c.currency AS card_currency,
               c.effective_from AS card_effective_from,
               c.version AS card_version,
               c.issue_price AS card_issue_price,
               c.redeem_reimbursement AS card_redeem_reimbursement,
               c.fee_percent AS card_fee_percent,
               c.fee_fixed AS card_fee_fixed,
               c.created_at AS card_created_at
          FROM clearing_partners p
          LEFT JOIN LATERAL (
              SELECT * FROM clearing_rate_cards c
               WHERE c.tenant_id = p.tenant_id AND c.partner_id = p.id
                 AND c.asset_code = (SELECT min(asset_code) FROM moved)
                 AND c.currency = p.currency AND c.effective_from <= :at
               ORDER BY c.effective_from DESC, c.version DESC LIMIT 1
          ) c ON true
         WHERE p.tenant_id = :tenant_id AND p.id = :partner_id
        """
    )
)
"""What a partner's event issued and the partner with its card for the first asset."""


@dataclass(frozen=True)
class PartnerIssue:
    """Points a partner's event moved onto members' accounts (positive, by asset, in code
    order), the partner, and its card in effect for the first of those assets."""

    points: dict[str, int]
    partner: Partner | None
    card: RateCard | None


async def partner_issue(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    partner_id: uuid.UUID,
    transactions: Sequence[uuid.UUID],
    at: datetime,
) -> PartnerIssue:
    """What every partner's purchase reads, in one round trip: the points its transactions
    moved onto members' accounts (one indexed read of their entries), the partner, and the
    card in effect at ``at`` for the first asset (an index range scan, one row)."""
    row = await _ISSUED_BY_PARTNER.first(
        conn,
        {
            "tenant_id": tenant_id,
            "partner_id": partner_id,
            "transactions": list(transactions),
            "at": at,
        },
    )
    if row is None:
        return PartnerIssue({}, None, None)
    points = dict(zip(row["issued_codes"], map(int, row["issued_points"]), strict=True))
    return PartnerIssue(points, Partner.of(row), _card_of(row))


def _card_of(row: Any) -> RateCard | None:
    if row["card_id"] is None:
        return None
    return RateCard(**{column: row[f"card_{column}"] for column in _CARD_COLUMNS})


async def rate_cards_of(
    conn: AsyncConnection, tenant_id: uuid.UUID, partner_id: uuid.UUID
) -> list[RateCard]:
    rows = await conn.execute(
        select(rate_cards)
        .where(rate_cards.c.tenant_id == tenant_id, rate_cards.c.partner_id == partner_id)
        .order_by(rate_cards.c.effective_from, rate_cards.c.version)
    )
    return [RateCard.of(row) for row in rows]


# --- movements ------------------------------------------------------------------------


async def insert_movement(conn: AsyncConnection, values: dict[str, Any]) -> uuid.UUID:
    movement_id = new_id()
    await _NEW_MOVEMENT.execute(conn, {"id": movement_id, **values})
    return movement_id


async def movement_of_transaction(
    conn: AsyncConnection, tenant_id: uuid.UUID, transaction_id: uuid.UUID
) -> uuid.UUID:
    found = await conn.scalar(
        select(movements.c.id).where(
            movements.c.tenant_id == tenant_id, movements.c.transaction_id == transaction_id
        )
    )
    assert found is not None, "a posted line has its movement"
    return uuid.UUID(str(found))


async def get_movement(
    conn: AsyncConnection, tenant_id: uuid.UUID, movement_id: uuid.UUID
) -> Movement:
    row = (
        await conn.execute(
            select(movements).where(
                movements.c.tenant_id == tenant_id, movements.c.id == movement_id
            )
        )
    ).one()
    return Movement.of(row)


async def movements_of(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    partner_id: uuid.UUID,
    *,
    after: uuid.UUID | None,
    limit: int,
) -> list[Movement]:
    query = select(movements).where(
        movements.c.tenant_id == tenant_id, movements.c.partner_id == partner_id
    )
    if after is not None:
        query = query.where(movements.c.id > after)
    rows = await conn.execute(query.order_by(movements.c.id).limit(limit))
    return [Movement.of(row) for row in rows]


async def statement_lines(
    conn: AsyncConnection, tenant_id: uuid.UUID, statement_id: uuid.UUID
) -> list[Movement]:
    rows = await conn.execute(
        select(movements)
        .where(movements.c.tenant_id == tenant_id, movements.c.statement_id == statement_id)
        .order_by(movements.c.occurred_at, movements.c.id)
    )
    return [Movement.of(row) for row in rows]


async def issued_for_event(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    event_id: uuid.UUID,
    asset_code: str,
    *,
    kind: MovementKind = MovementKind.ISSUED,
    partner_id: uuid.UUID | None = None,
) -> list[Movement]:
    """The issuance lines (or ``FUNDED`` lines, of ``partner_id``) a purchase caused for an
    asset, in the order they were posted (the blocks drawn, first-expiring first, then the
    points charged at the rate)."""
    scope = [] if partner_id is None else [movements.c.partner_id == partner_id]
    rows = await conn.execute(
        select(movements)
        .where(
            movements.c.tenant_id == tenant_id,
            movements.c.event_id == event_id,
            movements.c.kind == kind.value,
            movements.c.asset_code == asset_code,
            *scope,
        )
        .order_by(movements.c.id)
    )
    return [Movement.of(row) for row in rows]


async def redeemed_line(conn: AsyncConnection, tenant_id: uuid.UUID, cause: str) -> Movement | None:
    """The redeemed line of a redemption (its ``cause``), if an acceptor was reimbursed."""
    row = (
        await conn.execute(
            select(movements).where(
                movements.c.tenant_id == tenant_id,
                movements.c.kind == "redeemed",
                movements.c.cause == cause,
            )
        )
    ).first()
    return None if row is None else Movement.of(row)


async def lines_from(
    conn: AsyncConnection, tenant_id: uuid.UUID, origin_ids: Sequence[uuid.UUID]
) -> list[Movement]:
    """The lines that undo or were charged on ``origin_ids`` (reversals, fees)."""
    if not origin_ids:
        return []
    rows = await conn.execute(
        select(movements)
        .where(movements.c.tenant_id == tenant_id, movements.c.origin_id.in_(origin_ids))
        .order_by(movements.c.id)
    )
    return [Movement.of(row) for row in rows]


async def mark_reorder_alert(
    conn: AsyncConnection, tenant_id: uuid.UUID, partner_id: uuid.UUID, at: datetime
) -> None:
    await conn.execute(
        update(partners)
        .where(partners.c.tenant_id == tenant_id, partners.c.id == partner_id)
        .values(reorder_alerted_at=at)
    )


_MEMBER_POINTS = Prepared(
    text(
        """
        SELECT a.code AS asset_code, sum(e.amount)::bigint AS points
          FROM ledger_entries e
          JOIN ledger_accounts acc ON acc.tenant_id = e.tenant_id AND acc.id = e.account_id
          JOIN assets a ON a.tenant_id = e.tenant_id AND a.id = e.asset_id
          JOIN ledger_transactions t ON t.tenant_id = e.tenant_id AND t.id = e.transaction_id
          LEFT JOIN ledger_transactions o ON o.tenant_id = t.tenant_id AND o.id = t.reverses_id
         WHERE e.tenant_id = :tenant_id AND e.transaction_id = ANY(CAST(:transactions AS uuid[]))
           AND acc.member_id IS NOT NULL AND a.kind = 'points'
           AND (o.id IS NULL OR o.cause_kind <> ALL(CAST(:funders AS text[])))
         GROUP BY a.code
        """
    )
)


async def member_points(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    transactions: Sequence[uuid.UUID],
    funders: Sequence[str],
) -> dict[str, int]:
    """Net points the transactions moved on members' accounts, by asset (an earn is
    positive, a refund's reversal negative): one indexed read of the entries. Reversals of
    what a funding source awarded (its module's name is their cause) are left out: a
    refund's share of partner-funded points is credited through the source, never as
    issued points."""
    rows = await _MEMBER_POINTS.all(
        conn,
        {"tenant_id": tenant_id, "transactions": list(transactions), "funders": list(funders)},
    )
    return {row.asset_code: int(row.points) for row in rows if row.points}


_POSITION = text(
    """
    SELECT coalesce((SELECT s.closing FROM clearing_statements s
                      WHERE s.tenant_id = :tenant_id AND s.partner_id = :partner_id
                      ORDER BY s.period_starts_on DESC LIMIT 1), 0)
         + coalesce((SELECT sum(m.amount) FROM clearing_movements m
                      WHERE m.tenant_id = :tenant_id AND m.partner_id = :partner_id
                        AND m.statement_id IS NULL), 0)
    """
)


async def position(conn: AsyncConnection, tenant_id: uuid.UUID, partner_id: uuid.UUID) -> int:
    """A partner's position as the statements and the open lines add up (one snapshot, so a
    close committing meanwhile is seen whole or not at all): bounded by one period's lines,
    where the ledger's sum runs over every entry the partner ever had."""
    found = await conn.scalar(_POSITION, {"tenant_id": tenant_id, "partner_id": partner_id})
    return int(found or 0)


# --- point blocks ---------------------------------------------------------------------


async def insert_block(conn: AsyncConnection, values: dict[str, Any]) -> PointBlock | None:
    """The new block, or None when its idempotency key is known (a replay)."""
    row = (
        await conn.execute(
            pg_insert(point_blocks)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["tenant_id", "idempotency_key"])
            .returning(point_blocks)
        )
    ).first()
    return None if row is None else PointBlock.of(row)


async def block_by_key(conn: AsyncConnection, tenant_id: uuid.UUID, key: str) -> PointBlock:
    row = (
        await conn.execute(
            select(point_blocks).where(
                point_blocks.c.tenant_id == tenant_id, point_blocks.c.idempotency_key == key
            )
        )
    ).one()
    return PointBlock.of(row)


async def blocks_of(
    conn: AsyncConnection, tenant_id: uuid.UUID, partner_id: uuid.UUID
) -> list[PointBlock]:
    rows = await conn.execute(
        select(point_blocks)
        .where(point_blocks.c.tenant_id == tenant_id, point_blocks.c.partner_id == partner_id)
        .order_by(point_blocks.c.expires_at.asc().nulls_last(), point_blocks.c.id)
    )
    return [PointBlock.of(row) for row in rows]


async def blocks_for_drawing(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    partner_id: uuid.UUID,
    asset_code: str,
    now: datetime,
) -> list[PointBlock]:
    """The partner's unexpired blocks with points left, first-expiring first, locked: two
    issuances at once draw one after the other, so a block is never overdrawn."""
    rows = await conn.execute(
        select(point_blocks)
        .where(
            point_blocks.c.tenant_id == tenant_id,
            point_blocks.c.partner_id == partner_id,
            point_blocks.c.asset_code == asset_code,
            point_blocks.c.remaining > 0,
            (point_blocks.c.expires_at.is_(None)) | (point_blocks.c.expires_at > now),
        )
        .order_by(point_blocks.c.expires_at.asc().nulls_last(), point_blocks.c.id)
        .with_for_update()
    )
    return [PointBlock.of(row) for row in rows]


async def move_block(
    conn: AsyncConnection, tenant_id: uuid.UUID, block_id: uuid.UUID, delta: int
) -> None:
    """Take from (negative) or give back to (positive) a block; the check constraint keeps
    ``0 <= remaining <= points``."""
    await conn.execute(
        update(point_blocks)
        .where(point_blocks.c.tenant_id == tenant_id, point_blocks.c.id == block_id)
        .values(remaining=point_blocks.c.remaining + delta)
    )


# --- periods and statements -------------------------------------------------------------


async def last_closed_period(conn: AsyncConnection, tenant_id: uuid.UUID) -> Row[Any] | None:
    return (
        await conn.execute(
            select(periods)
            .where(periods.c.tenant_id == tenant_id)
            .order_by(periods.c.starts_on.desc())
            .limit(1)
        )
    ).first()


async def closed_period(
    conn: AsyncConnection, tenant_id: uuid.UUID, starts_on: Any
) -> Row[Any] | None:
    return (
        await conn.execute(
            select(periods).where(
                periods.c.tenant_id == tenant_id, periods.c.starts_on == starts_on
            )
        )
    ).first()


async def insert_period(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(insert(periods).values(**values))


async def insert_statements(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(statements), rows)


async def latest_closings(
    conn: AsyncConnection, tenant_id: uuid.UUID
) -> dict[uuid.UUID, tuple[int, Decimal]]:
    """Each partner's last closing (the next opening) and the residue it carried."""
    rows = await conn.execute(
        select(statements.c.partner_id, statements.c.closing, statements.c.residue)
        .where(statements.c.tenant_id == tenant_id)
        .ext(distinct_on(statements.c.partner_id))
        .order_by(statements.c.partner_id, statements.c.period_starts_on.desc())
    )
    return {
        uuid.UUID(str(row.partner_id)): (int(row.closing), Decimal(row.residue)) for row in rows
    }


@dataclass(frozen=True)
class Claimed:
    """What a close claimed for one partner and kind of line: how many, their points, their
    posted money and their rounding residue (exact less posted)."""

    partner_id: uuid.UUID
    kind: str
    lines: int
    points: int
    amount: int
    residue: Decimal


_CLAIM = text(
    """
    WITH claimed AS (
        UPDATE clearing_movements m SET statement_id = s.statement_id
          FROM unnest(CAST(:partners AS uuid[]), CAST(:statements AS uuid[]))
               AS s(partner_id, statement_id)
         WHERE m.tenant_id = :tenant_id AND m.partner_id = s.partner_id
           AND m.statement_id IS NULL AND m.occurred_at < :before
        RETURNING m.partner_id, m.kind, m.points, m.amount, m.exact_amount
    )
    SELECT partner_id, kind, count(*) AS lines, sum(points)::bigint AS points,
           sum(amount)::bigint AS amount, sum(exact_amount - amount) AS residue
      FROM claimed GROUP BY partner_id, kind
    """
)


async def claim_movements(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    before: datetime,
    statement_of: dict[uuid.UUID, uuid.UUID],
) -> list[Claimed]:
    """Give every unclaimed movement that happened before ``before`` to its partner's
    statement, in one statement, and total what was claimed per partner and kind (the
    lines stay in the database). A movement committed after this statement's snapshot
    stays unclaimed for the next close: so each lands in exactly one statement."""
    if not statement_of:
        return []
    rows = await conn.execute(
        _CLAIM,
        {
            "tenant_id": tenant_id,
            "before": before,
            "partners": list(statement_of),
            "statements": list(statement_of.values()),
        },
    )
    return [
        Claimed(
            uuid.UUID(str(row.partner_id)),
            row.kind,
            int(row.lines),
            int(row.points),
            int(row.amount),
            Decimal(row.residue),
        )
        for row in rows
    ]


async def list_statements(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    partner_id: uuid.UUID | None,
    period_starts_on: Any | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[Statement]:
    query = select(statements).where(statements.c.tenant_id == tenant_id)
    if partner_id is not None:
        query = query.where(statements.c.partner_id == partner_id)
    if period_starts_on is not None:
        query = query.where(statements.c.period_starts_on == period_starts_on)
    if after is not None:
        query = query.where(statements.c.id > after)
    rows = await conn.execute(query.order_by(statements.c.id).limit(limit))
    return [Statement.of(row) for row in rows]


async def get_statement(
    conn: AsyncConnection, tenant_id: uuid.UUID, statement_id: uuid.UUID
) -> Statement | None:
    row = (
        await conn.execute(
            select(statements).where(
                statements.c.tenant_id == tenant_id, statements.c.id == statement_id
            )
        )
    ).first()
    return None if row is None else Statement.of(row)


__all__ = [
    "Claimed",
    "PartnerIssue",
    "all_partners",
    "bind_key",
    "block_by_key",
    "blocks_for_drawing",
    "blocks_of",
    "claim_movements",
    "closed_period",
    "get_movement",
    "get_partner",
    "get_statement",
    "insert_block",
    "insert_movement",
    "insert_partner",
    "insert_period",
    "insert_rate_card",
    "insert_statements",
    "issued_for_event",
    "last_closed_period",
    "latest_closings",
    "lines_from",
    "list_partners",
    "list_statements",
    "mark_reorder_alert",
    "member_points",
    "move_block",
    "movement_of_transaction",
    "movements_of",
    "partner_issue",
    "partner_of_key",
    "partner_with_card",
    "position",
    "rate_card_at",
    "rate_cards_of",
    "redeemed_line",
    "statement_lines",
    "update_partner",
]
