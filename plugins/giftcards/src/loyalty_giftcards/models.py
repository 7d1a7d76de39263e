"""What the service hands back: frozen dataclasses, independent of GraphQL and SQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class CardStatus(StrEnum):
    INACTIVE = "inactive"
    ACTIVE = "active"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class EventKind(StrEnum):
    ISSUED = "issued"
    ACTIVATED = "activated"
    REDEEMED = "redeemed"
    RELOADED = "reloaded"
    REFUNDED = "refunded"
    TRANSFERRED_OUT = "transferred_out"
    TRANSFERRED_IN = "transferred_in"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    ASSIGNED = "assigned"
    REVEALED = "revealed"
    UNASSIGNED = "unassigned"
    HELD = "held"
    """A payment set value aside (the GIFT_CARD tender's authorisation)."""
    RELEASED = "released"
    """A payment's hold ended without moving value (void, expiry, a capture of nothing)."""


@dataclass(frozen=True)
class Card:
    id: uuid.UUID
    last_four: str
    currency: str
    status: CardStatus
    member_id: uuid.UUID | None
    batch_id: uuid.UUID | None
    account_id: uuid.UUID | None
    has_pin: bool
    code_held: bool
    """The code is kept sealed for the card's member, who may reveal it."""
    expires_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class CardEvent:
    id: uuid.UUID
    card_id: uuid.UUID
    kind: EventKind
    amount: int
    balance_after: int
    transaction_id: uuid.UUID | None
    actor: str
    cause_kind: str
    cause_id: str | None
    counterpart_id: uuid.UUID | None
    created_at: datetime


@dataclass(frozen=True)
class Issued:
    """A new card and its secrets: the only moment the full code and PIN exist in clear."""

    card: Card
    code: str | None
    pin: str | None
    event: CardEvent
    replayed: bool = False


@dataclass(frozen=True)
class Movement:
    """A value movement on a card; ``replayed`` when its idempotency key was known."""

    card: Card
    event: CardEvent
    replayed: bool


@dataclass(frozen=True)
class Revealed:
    """A member's own card and its full code, opened for them (the event audits it)."""

    card: Card
    code: str
    event: CardEvent


@dataclass(frozen=True)
class Batch:
    id: uuid.UUID
    currency: str
    size: int
    created_at: datetime
    exported_at: datetime | None
    replayed: bool = False


__all__ = [
    "Batch",
    "Card",
    "CardEvent",
    "CardStatus",
    "EventKind",
    "Issued",
    "Movement",
    "Revealed",
]
