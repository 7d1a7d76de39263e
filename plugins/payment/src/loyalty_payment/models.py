"""What the payment module hands back: plain frozen dataclasses, independent of GraphQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class PaymentStatus(StrEnum):
    """Where a payment is: holds placed (``AUTHORIZED``), then ``CAPTURED`` (and, once all
    of it went back, ``REFUNDED``), or ``VOIDED`` / ``EXPIRED`` with the holds released."""

    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    VOIDED = "voided"
    EXPIRED = "expired"
    REFUNDED = "refunded"


class OperationKind(StrEnum):
    AUTHORIZE = "authorize"
    CAPTURE = "capture"
    VOID = "void"
    EXPIRE = "expire"
    REFUND = "refund"


@dataclass(frozen=True)
class Tender:
    """One tender of a payment (satisfies ``tenders.TenderPart`` for its provider)."""

    position: int
    tender: str
    instrument: str
    label: str
    hold_id: uuid.UUID
    held: int
    held_units: int
    captured: int = 0
    captured_units: int = 0
    capture_transaction_id: uuid.UUID | None = None
    refunded: int = 0
    refunded_units: int = 0


@dataclass(frozen=True)
class Operation:
    """One entry of a payment's timeline; ``parts`` says what moved per tender."""

    id: uuid.UUID
    kind: OperationKind
    amount: int
    actor: str
    created_at: datetime
    parts: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Payment:
    id: uuid.UUID
    member_id: uuid.UUID | None
    order_reference: str
    currency: str
    amount: int
    status: PaymentStatus
    held: int
    captured: int
    refunded: int
    expires_at: datetime
    actor: str
    created_at: datetime
    updated_at: datetime
    tenders: list[Tender] = field(default_factory=list)

    @property
    def amount_due(self) -> int:
        """What the till still collects by cash or card."""
        return self.amount - self.held


@dataclass(frozen=True)
class Outcome:
    """A payment after an operation; ``replayed`` when the idempotency key was known."""

    payment: Payment
    operation: Operation | None
    replayed: bool = False


__all__ = ["Operation", "OperationKind", "Outcome", "Payment", "PaymentStatus", "Tender"]
