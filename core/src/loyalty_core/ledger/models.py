"""What the ledger hands back: plain frozen dataclasses, independent of GraphQL and SQL."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class AssetKind(StrEnum):
    """What an asset counts: points of a programme, or money (stored value) in a currency."""

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
    (a gift card): stored value; a coalition partner's position: clearing. Tenant
    counter-accounts: the rest."""

    AVAILABLE = "available"
    PENDING = "pending"
    ISSUED = "issued"
    REDEEMED = "redeemed"
    BREAKAGE = "breakage"
    ADJUSTMENTS = "adjustments"
    STORED_VALUE = "stored_value"
    LIABILITY = "liability"
    CLEARING = "clearing"
    """What a coalition partner and the operator owe each other (the clearing module): a
    position that may go either way."""


TENANT_PURPOSES = frozenset(
    {Purpose.ISSUED, Purpose.REDEEMED, Purpose.BREAKAGE, Purpose.ADJUSTMENTS}
)


class ExpiryPolicy(StrEnum):
    """When points of an asset expire, counted from the moment they become available (the
    earn, or the end of its pending period). Month and year ends are midnight in the tenant's
    time zone; ``expiry_periods`` adds whole months or years (``END_OF_YEAR`` with 2: points
    available in 2026 expire at the end of 2028)."""

    NEVER = "never"
    DAYS_AFTER_EARN = "days_after_earn"
    END_OF_MONTH = "end_of_month"
    END_OF_YEAR = "end_of_year"
    FIXED_DATE = "fixed_date"


@dataclass(frozen=True)
class Asset:
    """A point currency or money asset. ``expiry_days`` belongs to ``DAYS_AFTER_EARN``,
    ``expiry_periods`` to the month and year ends, ``expiry_date`` (the last day points are
    valid) to ``FIXED_DATE``. An asset given only ``expiry_days`` expires by days after earn.

    A points asset that is not ``spendable`` only counts (status points that qualify a member
    for a tier): nothing spends it, holds it or transfers it (``ASSET_NOT_SPENDABLE``); its
    balance falls only by expiry, a reversal or refund, an operator's adjustment or erasure."""

    id: uuid.UUID
    code: str
    name: str
    kind: AssetKind
    scale: int
    allow_negative: bool
    expiry_days: int | None
    pending_days: int
    expiry_policy: ExpiryPolicy = ExpiryPolicy.NEVER
    expiry_periods: int = 0
    expiry_date: date | None = None
    spendable: bool = True

    def __post_init__(self) -> None:
        if self.expiry_policy is ExpiryPolicy.NEVER and self.expiry_days is not None:
            object.__setattr__(self, "expiry_policy", ExpiryPolicy.DAYS_AFTER_EARN)


@dataclass(frozen=True)
class Cause:
    """What made value move: an event, a rule (and its version), an operator, a job.

    ``kind`` (at most 32 characters) says which, and ``id`` names it. The core writes
    ``event`` (``id`` the event's ``type:externalId``), ``rule`` (with ``rule_id`` and
    ``rule_version``), ``operator``, ``redemption`` and ``transfer`` (``id`` the caller's
    actor), ``job`` and ``erasure``. A module uses its own name as the kind and its own
    object as the id (``Cause(kind="giftcards", id=str(card_id))``), and sets ``event_id``
    when an ingested event caused the movement (a handler of ``event.ingested`` may leave it
    out: it is filled in from the event), so ``explainBalance`` links the movement to it.
    """

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
    """An immutable ledger transaction header: kind, idempotency key, reason, cause, actor, and the
    transaction it reverses."""

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
class Funds:
    """What an account keeps in its row: ``balance`` of which ``held`` is set aside."""

    balance: int
    held: int

    @property
    def available(self) -> int:
        return self.balance - self.held


@dataclass(frozen=True)
class Balance:
    """``available`` is spendable now: the account's balance less what payments hold."""

    asset: Asset
    available: int
    pending: int
    held: int = 0

    @classmethod
    def of_accounts(cls, asset: Asset, accounts: Mapping[str, Funds]) -> Balance:
        """The balance of a member's accounts of ``asset``, by purpose (missing: none yet)."""
        available = accounts.get(Purpose.AVAILABLE.value, Funds(0, 0))
        pending = accounts.get(Purpose.PENDING.value, Funds(0, 0))
        return cls(asset, available.available, pending.balance, available.held)


class HoldStatus(StrEnum):
    """A hold is open (``HELD``) until it is captured or released (void, expiry)."""

    HELD = "held"
    CAPTURED = "captured"
    RELEASED = "released"


@dataclass(frozen=True)
class Hold:
    """A pending debit: ``amount`` of an account set aside, not yet posted."""

    id: uuid.UUID
    account_id: uuid.UUID
    asset_id: uuid.UUID
    amount: int
    status: HoldStatus
    idempotency_key: str
    expires_at: datetime | None
    transaction_id: uuid.UUID | None
    created_at: datetime
    closed_at: datetime | None
    replayed: bool = False


__all__ = [
    "TENANT_PURPOSES",
    "Asset",
    "AssetKind",
    "Balance",
    "Cause",
    "Entry",
    "ExpiryPolicy",
    "Funds",
    "Hold",
    "HoldStatus",
    "LedgerTransaction",
    "Posted",
    "Purpose",
    "TransactionKind",
]
