"""What the ledger hands back: plain frozen dataclasses, independent of GraphQL and SQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class AssetKind(StrEnum):
    POINTS = "points"
    MONEY = "money"


class TransactionKind(StrEnum):
    """Why value moved; every ledger transaction has exactly one kind."""

    EARN = "earn"
    SPEND = "spend"
    TRANSFER = "transfer"
    ADJUSTMENT = "adjustment"
    REVERSAL = "reversal"
    EXPIRY = "expiry"
    RELEASE = "release"
    LOAD = "load"
    REFUND = "refund"
    CANCELLATION = "cancellation"


class Purpose(StrEnum):
    """What an account holds. Member accounts: available, pending. Accounts a module owns
    (a gift card): stored value. Tenant counter-accounts: the rest."""

    AVAILABLE = "available"
    PENDING = "pending"
    ISSUED = "issued"
    REDEEMED = "redeemed"
    BREAKAGE = "breakage"
    ADJUSTMENTS = "adjustments"
    STORED_VALUE = "stored_value"
    LIABILITY = "liability"


TENANT_PURPOSES = frozenset(
    {Purpose.ISSUED, Purpose.REDEEMED, Purpose.BREAKAGE, Purpose.ADJUSTMENTS}
)


@dataclass(frozen=True)
class Asset:
    id: uuid.UUID
    code: str
    name: str
    kind: AssetKind
    scale: int
    allow_negative: bool
    expiry_days: int | None
    pending_days: int


@dataclass(frozen=True)
class Cause:
    """What made value move: an event, a rule (and its version), an operator, a job."""

    kind: str
    id: str | None = None
    event_id: uuid.UUID | None = None
    rule_id: uuid.UUID | None = None
    rule_version: int | None = None


@dataclass(frozen=True)
class Entry:
    id: uuid.UUID
    transaction_id: uuid.UUID
    account_id: uuid.UUID
    asset_id: uuid.UUID
    amount: int
    lot_id: uuid.UUID | None
    created_at: datetime


@dataclass(frozen=True)
class LedgerTransaction:
    id: uuid.UUID
    kind: TransactionKind
    idempotency_key: str
    reason: str
    cause: Cause
    actor: str
    reverses_id: uuid.UUID | None
    created_at: datetime
    details: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Posted:
    """The result of a value-moving write; ``replayed`` when the idempotency key was known."""

    transaction: LedgerTransaction
    replayed: bool


@dataclass(frozen=True)
class Balance:
    asset: Asset
    available: int
    pending: int


__all__ = [
    "TENANT_PURPOSES",
    "Asset",
    "AssetKind",
    "Balance",
    "Cause",
    "Entry",
    "LedgerTransaction",
    "Posted",
    "Purpose",
    "TransactionKind",
]
