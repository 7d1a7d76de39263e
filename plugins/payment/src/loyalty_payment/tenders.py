"""The tender contract: what a module implements to let payments use its instrument.

A tender provider is an object with the attributes and coroutines of :class:`TenderProvider`,
returned by the module's implementation of ``loyalty_payment_tenders`` (see
``loyalty_payment.hookspecs``). Providers never import this module: the contract is
structural (a Protocol), so a module such as gift cards offers its tender without depending
on the payment module, and the tender works only for tenants that enable both.

Amounts are money in minor units of the payment's currency; ``units`` are what the
instrument itself counts (points for the points tender, minor units for a gift card). Every
coroutine that takes a connection runs inside the payment's transaction: if any tender
fails, the whole operation rolls back and nothing is held or moved. Locks: ``available``
locks the instrument; the payment module calls it for every tender of a payment in one
canonical order (by tender, then instrument) before it holds anything, so two payments
sharing instruments cannot deadlock.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from loyalty_core.sdk import Database
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True)
class TenderCall:
    """Who asks, when, for which payment, and the key that makes the call idempotent.

    ``key`` is unique per payment, tender and operation (``payment:<id>:1:capture:<op>``):
    a provider uses it (or derives keys from it) as the idempotency key of what it writes.
    ``settings`` are the tenant's settings of the module that provides the tender.
    """

    database: Database
    tenant_id: uuid.UUID
    payment_id: uuid.UUID
    member_id: uuid.UUID | None
    currency: str
    actor: str
    now: datetime
    key: str
    settings: BaseModel


class TenderHeld(Protocol):
    """What a hold placed: the core ledger hold, the units it set aside, and a label for
    receipts and the POS screen (a card's last four symbols, "1,250 points")."""

    @property
    def hold_id(self) -> uuid.UUID: ...
    @property
    def units(self) -> int: ...
    @property
    def label(self) -> str: ...


class TenderMoved(Protocol):
    """What a capture or refund posted: the ledger transaction (None when nothing moved)
    and the units it moved."""

    @property
    def transaction_id(self) -> uuid.UUID | None: ...
    @property
    def units(self) -> int: ...


class TenderPart(Protocol):
    """What a payment knows of one of its tenders, handed back to the provider: the money
    amounts (held, captured, refunded) and the units behind them."""

    @property
    def instrument(self) -> str: ...
    @property
    def hold_id(self) -> uuid.UUID: ...
    @property
    def held(self) -> int: ...
    @property
    def held_units(self) -> int: ...
    @property
    def captured(self) -> int: ...
    @property
    def captured_units(self) -> int: ...
    @property
    def capture_transaction_id(self) -> uuid.UUID | None: ...
    @property
    def refunded(self) -> int: ...
    @property
    def refunded_units(self) -> int: ...


class TenderProvider(Protocol):
    """One way to pay, e.g. ``GIFT_CARD``. The payment module's own ``POINTS`` tender is one."""

    @property
    def tender(self) -> str:
        """The tender's name in the API: upper case, e.g. ``GIFT_CARD``."""
        ...

    async def identify(self, call: TenderCall, credentials: Mapping[str, str]) -> str:
        """The instrument the credentials open (a card's id, an asset's code), checked before
        the payment's transaction starts (a look-up that must count even when the payment
        fails commits on its own). Raise NotFound, ValidationFailed or the module's own
        errors; INVALID_INPUT with ``field`` for credentials that are missing."""
        ...

    async def available(self, conn: AsyncConnection, call: TenderCall, instrument: str) -> int:
        """Lock the instrument and return how much of ``call.currency`` it can hold now (0
        when it cannot pay at all, e.g. a card in another currency). Raise when the
        instrument cannot be used (a cancelled card)."""
        ...

    async def hold(
        self,
        conn: AsyncConnection,
        call: TenderCall,
        instrument: str,
        amount: int,
        expires_at: datetime,
    ) -> TenderHeld:
        """Set exactly ``amount`` aside (no more than ``available`` said, under its lock)."""
        ...

    async def capture(
        self, conn: AsyncConnection, call: TenderCall, part: TenderPart, amount: int
    ) -> TenderMoved:
        """Capture ``amount`` (at most ``part.held``) and release the rest of the hold."""
        ...

    async def release(self, conn: AsyncConnection, call: TenderCall, part: TenderPart) -> None:
        """Release the hold without posting (void, expiry); nothing when already closed."""
        ...

    async def refund(
        self, conn: AsyncConnection, call: TenderCall, part: TenderPart, amount: int
    ) -> TenderMoved:
        """Give ``amount`` back to the instrument, ``part.refunded`` having been refunded
        before (the sum never exceeds ``part.captured``)."""
        ...


@dataclass(frozen=True)
class Held:
    """The payment module's own :class:`TenderHeld`."""

    hold_id: uuid.UUID
    units: int
    label: str


@dataclass(frozen=True)
class Moved:
    """The payment module's own :class:`TenderMoved`."""

    transaction_id: uuid.UUID | None
    units: int


__all__ = [
    "Held",
    "Moved",
    "TenderCall",
    "TenderHeld",
    "TenderMoved",
    "TenderPart",
    "TenderProvider",
]
