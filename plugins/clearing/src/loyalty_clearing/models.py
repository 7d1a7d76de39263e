"""What the clearing services hand back: frozen read models, independent of SQL and GraphQL.

Money amounts are integers in the currency's minor unit, signed from the partner's side:
positive means the operator owes the partner, negative the partner owes the operator.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any


class PartnerRole(StrEnum):
    ISSUER = "issuer"
    ACCEPTOR = "acceptor"


class PartnerStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ENDED = "ended"


class Billing(StrEnum):
    POSTPAID = "postpaid"
    PREPAID = "prepaid"


class MovementKind(StrEnum):
    """Why a partner's position moved."""

    ISSUED = "issued"
    REDEEMED = "redeemed"
    REVERSAL = "reversal"
    FEE = "fee"
    ADJUSTMENT = "adjustment"
    BLOCK = "block"
    ROUNDING = "rounding"
    FUNDED = "funded"


class Direction(StrEnum):
    """Who owes whom at a statement's closing."""

    PARTNER_OWES = "partner_owes"
    OPERATOR_OWES = "operator_owes"
    SETTLED = "settled"


@dataclass(frozen=True)
class Contact:
    name: str
    email: str | None = None
    phone: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class Partner:
    id: uuid.UUID
    name: str
    roles: tuple[PartnerRole, ...]
    currency: str
    status: PartnerStatus
    billing: Billing
    credit_limit: int | None
    reorder_threshold: int | None
    contacts: tuple[Contact, ...]
    created_at: datetime
    reorder_alerted_at: datetime | None = None

    @classmethod
    def of(cls, row: Any) -> Partner:
        return cls(
            id=row.id,
            name=row.name,
            roles=tuple(PartnerRole(r) for r in row.roles),
            currency=row.currency,
            status=PartnerStatus(row.status),
            billing=Billing(row.billing),
            credit_limit=row.credit_limit,
            reorder_threshold=row.reorder_threshold,
            contacts=tuple(Contact(**c) for c in row.contacts),
            created_at=row.created_at,
            reorder_alerted_at=row.reorder_alerted_at,
        )


@dataclass(frozen=True)
class RateCard:
    """One version of a partner's prices for an asset in a currency, from ``effective_from``."""

    id: uuid.UUID
    partner_id: uuid.UUID
    asset_code: str
    currency: str
    effective_from: datetime
    version: int
    issue_price: Decimal
    redeem_reimbursement: Decimal
    fee_percent: Decimal
    fee_fixed: int
    created_at: datetime

    @classmethod
    def of(cls, row: Any) -> RateCard:
        return cls(
            id=row.id,
            partner_id=row.partner_id,
            asset_code=row.asset_code,
            currency=row.currency,
            effective_from=row.effective_from,
            version=row.version,
            issue_price=row.issue_price,
            redeem_reimbursement=row.redeem_reimbursement,
            fee_percent=row.fee_percent,
            fee_fixed=row.fee_fixed,
            created_at=row.created_at,
        )


@dataclass(frozen=True)
class PointBlock:
    id: uuid.UUID
    partner_id: uuid.UUID
    asset_code: str
    points: int
    remaining: int
    price: int
    expires_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: Any) -> PointBlock:
        return cls(
            id=row.id,
            partner_id=row.partner_id,
            asset_code=row.asset_code,
            points=row.points,
            remaining=row.remaining,
            price=row.price,
            expires_at=row.expires_at,
            created_at=row.created_at,
        )


@dataclass(frozen=True)
class Movement:
    """A line of a partner's account: one ledger transaction the module posted."""

    id: uuid.UUID
    partner_id: uuid.UUID
    kind: MovementKind
    asset_code: str | None
    points: int
    currency: str
    rate: Decimal | None
    exact_amount: Decimal
    amount: int
    occurred_at: datetime
    transaction_id: uuid.UUID | None
    event_id: uuid.UUID | None
    rate_card_id: uuid.UUID | None
    block_id: uuid.UUID | None
    cause: str
    reason: str
    actor: str
    statement_id: uuid.UUID | None
    created_at: datetime
    origin_id: uuid.UUID | None = None

    @classmethod
    def of(cls, row: Any) -> Movement:
        return cls(
            id=row.id,
            partner_id=row.partner_id,
            kind=MovementKind(row.kind),
            asset_code=row.asset_code,
            points=row.points,
            currency=row.currency,
            rate=row.rate,
            exact_amount=row.exact_amount,
            amount=row.amount,
            occurred_at=row.occurred_at,
            transaction_id=row.transaction_id,
            event_id=row.event_id,
            rate_card_id=row.rate_card_id,
            block_id=row.block_id,
            cause=row.cause,
            reason=row.reason,
            actor=row.actor,
            statement_id=row.statement_id,
            created_at=row.created_at,
            origin_id=row.origin_id,
        )


@dataclass(frozen=True)
class Period:
    """A settlement period: local dates ``[starts_on, ends_on)`` and the same as instants."""

    starts_on: date
    ends_on: date
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Statement:
    id: uuid.UUID
    partner_id: uuid.UUID
    period_starts_on: date
    currency: str
    opening: int
    points_issued: int
    issued_amount: int
    points_redeemed: int
    redeemed_amount: int
    points_reversed: int
    reversals_amount: int
    fees_amount: int
    adjustments_amount: int
    blocks_amount: int
    rounding_amount: int
    closing: int
    residue: Decimal
    lines: int
    created_at: datetime

    @property
    def direction(self) -> Direction:
        if self.closing < 0:
            return Direction.PARTNER_OWES
        return Direction.OPERATOR_OWES if self.closing > 0 else Direction.SETTLED

    @classmethod
    def of(cls, row: Any) -> Statement:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


__all__ = [
    "Billing",
    "Contact",
    "Direction",
    "Movement",
    "MovementKind",
    "Partner",
    "PartnerRole",
    "PartnerStatus",
    "Period",
    "PointBlock",
    "RateCard",
    "Statement",
]
