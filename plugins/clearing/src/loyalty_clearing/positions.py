"""Posting a line: the money of one partner-attributed movement, into the ledger and onto
the partner's account, in the caller's transaction.

Every line is a balanced ledger transaction between the partner's clearing account and the
operator's (``accounts``), with an idempotency key derived from what caused it, and a
``clearing_movements`` row that explains it (points, rate, exact value, cause). A line of
no money (points drawn from a prepaid block, a rate of zero) posts no transaction but is
still a line: the statement counts its points.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from loyalty_core.sdk import ErrorCode, LoyaltyError, ledger
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_clearing import repository as repo
from loyalty_clearing.accounts import accounts_of
from loyalty_clearing.models import Billing, MovementKind, Partner, RateCard
from loyalty_clearing.pricing import exact_money, percent_of, rounded
from loyalty_clearing.settings import NAME


@dataclass(frozen=True)
class Line:
    """What moved for a partner, priced: ``amount`` in minor units, signed from the
    partner's side; ``exact`` is the value before rounding."""

    kind: MovementKind
    amount: int
    exact: Decimal
    occurred_at: datetime
    reason: str
    cause: str
    actor: str
    points: int = 0
    asset_code: str | None = None
    rate: Decimal | None = None
    rate_card_id: uuid.UUID | None = None
    block_id: uuid.UUID | None = None
    event_id: uuid.UUID | None = None
    statement_id: uuid.UUID | None = None
    origin_id: uuid.UUID | None = None
    """The line this one reverses, or the line a fee was charged on."""


async def post_line(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    partner: Partner,
    line: Line,
    *,
    key: str,
    now: datetime,
    counter: uuid.UUID | None = None,
) -> uuid.UUID:
    """Post ``line`` (idempotent by ``key``) and record it; the movement's id. The money
    moves between the partner's account and the operator's, or ``counter`` (the rounding
    account)."""
    transaction_id = None
    if line.amount:
        accounts = await accounts_of(conn, tenant_id, partner.id, partner.currency)
        posted = await ledger.post(
            conn,
            ledger.Posting(
                tenant_id=tenant_id,
                idempotency_key=f"{NAME}:{key}",
                reason=line.reason,
                cause=ledger.Cause(kind=NAME, id=line.cause[:200], event_id=line.event_id),
                actor=line.actor,
                now=now,
            ),
            kind=_transaction_kind(line.kind),
            asset=accounts.asset,
            legs=[(accounts.partner, line.amount), (counter or accounts.operator, -line.amount)],
            request={"partner": str(partner.id), "amount": line.amount, "kind": line.kind.value},
            details={"partner": str(partner.id), "points": line.points},
        )
        transaction_id = posted.transaction.id
        if posted.replayed:
            return await repo.movement_of_transaction(conn, tenant_id, transaction_id)
    return await repo.insert_movement(
        conn,
        {
            "tenant_id": tenant_id,
            "partner_id": partner.id,
            "kind": line.kind.value,
            "asset_code": line.asset_code,
            "points": line.points,
            "currency": partner.currency,
            "rate": line.rate,
            "exact_amount": line.exact,
            "amount": line.amount,
            "occurred_at": line.occurred_at,
            "transaction_id": transaction_id,
            "event_id": line.event_id,
            "rate_card_id": line.rate_card_id,
            "block_id": line.block_id,
            "cause": line.cause[:200],
            "reason": line.reason[:500],
            "actor": line.actor[:200],
            "statement_id": line.statement_id,
            "origin_id": line.origin_id,
        },
    )


async def require_within_credit(
    conn: AsyncConnection, tenant_id: uuid.UUID, partner: Partner, code: ErrorCode
) -> None:
    """Refuse (rolling the caller's write back) when the partner's position, this movement
    included, is below its credit limit. The partner's row is locked first, so movements of
    a partner with a limit are checked one after the other, each seeing those committed
    before it; partners without a limit never wait here."""
    if partner.credit_limit is None:
        return
    await repo.get_partner(conn, tenant_id, partner.id, lock=True)
    balance = await repo.position(conn, tenant_id, partner.id)
    if balance < -partner.credit_limit:
        raise LoyaltyError(
            f"the partner's position would be {balance}, beyond its credit limit of "
            f"{partner.credit_limit}",
            code=code,
        )


async def can_issue(
    conn: AsyncConnection, tenant_id: uuid.UUID, partner: Partner, card: RateCard, points: int
) -> bool:
    """Whether issuing ``points`` for ``partner`` would be accepted now (``ingestion.issue``):
    what its prepaid blocks lack, with its fee, within its credit limit. It takes the locks
    the issuance takes (the blocks, then the partner's row), held until the transaction
    ends, so an issuance asked about and then made in one transaction is never refused."""
    left = points
    if partner.billing is Billing.PREPAID:
        blocks = await repo.blocks_for_drawing(
            conn, tenant_id, partner.id, card.asset_code, datetime.now(UTC)
        )
        left = max(0, points - sum(block.remaining for block in blocks))
        if left and partner.credit_limit is None:
            return False
    if not left or partner.credit_limit is None:
        return True
    await repo.get_partner(conn, tenant_id, partner.id, lock=True)
    cost = rounded(-exact_money(left, card.issue_price, partner.currency))
    fee = rounded(-percent_of(cost, card.fee_percent)) if card.fee_percent and cost else 0
    balance = await repo.position(conn, tenant_id, partner.id)
    return balance + cost + fee >= -partner.credit_limit


def _transaction_kind(kind: MovementKind) -> ledger.TransactionKind:
    if kind in (MovementKind.ADJUSTMENT, MovementKind.ROUNDING):
        return ledger.TransactionKind.ADJUSTMENT
    if kind is MovementKind.REVERSAL:
        return ledger.TransactionKind.REVERSAL
    return ledger.TransactionKind.TRANSFER


__all__ = ["Line", "can_issue", "post_line", "require_within_credit"]
