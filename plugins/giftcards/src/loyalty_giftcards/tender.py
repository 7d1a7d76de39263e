"""The ``GIFT_CARD`` tender: paying with a gift card through the payment module.

The payment module asks every enabled module for tender providers (its hook
``loyalty_payment_tenders``, implemented in ``__init__``) and calls them through a
structural contract (``loyalty_payment.tenders.TenderProvider``). Gift cards never import
the payment module, so they work where it is not installed: the Protocols below name only
what this tender reads of the payment's arguments, and :class:`Held` and :class:`Moved`
carry the attributes the contract asks back.

This class only translates: a payment's call becomes a card movement of
:mod:`loyalty_giftcards.service` (card row locked first, then the ledger), keyed by the
payment's ``key`` and caused by the payment (``payment:<id>`` in the ledger and the card's
event log), so the rules of cards hold whichever way their value moves.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from loyalty_core.sdk import Database, ValidationFailed, require_id
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_giftcards import codes, service
from loyalty_giftcards.lookup import authenticate
from loyalty_giftcards.settings import GiftCardSettings

TENDER = "GIFT_CARD"


class PaymentCall(Protocol):
    """What the tender reads of the payment module's ``TenderCall``."""

    @property
    def database(self) -> Database: ...
    @property
    def tenant_id(self) -> uuid.UUID: ...
    @property
    def payment_id(self) -> uuid.UUID: ...
    @property
    def currency(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def now(self) -> datetime: ...
    @property
    def key(self) -> str: ...
    @property
    def settings(self) -> BaseModel: ...


class PaymentPart(Protocol):
    """What the tender reads of the payment module's ``TenderPart``: the card and its hold."""

    @property
    def instrument(self) -> str: ...
    @property
    def hold_id(self) -> uuid.UUID: ...


@dataclass(frozen=True)
class Held:
    """A hold on a card (``TenderHeld``): units are minor units; the label is the masked code."""

    hold_id: uuid.UUID
    units: int
    label: str


@dataclass(frozen=True)
class Moved:
    """What a capture or refund posted (``TenderMoved``); no transaction when nothing moved."""

    transaction_id: uuid.UUID | None
    units: int


class GiftCardTender:
    """Pay with a gift card: the instrument is the card's id, found by code (and PIN)."""

    tender = TENDER

    async def identify(self, call: PaymentCall, credentials: Mapping[str, str]) -> str:
        """The card the code and PIN open, through the counted, lockable look-up (it commits
        on its own, so a payment that fails afterwards still counts a wrong guess)."""
        code = credentials.get("code")
        if not code:
            raise ValidationFailed("a gift card payment needs the card's code", field="code")
        card_id = await authenticate(
            call.database,
            call.tenant_id,
            actor=call.actor,
            code=code,
            pin=credentials.get("pin"),
            settings=_settings(call),
            now=call.now,
        )
        return str(card_id)

    async def available(self, conn: AsyncConnection, call: PaymentCall, instrument: str) -> int:
        return await service.spendable(
            conn, call.tenant_id, _card(instrument), currency=call.currency, now=call.now
        )

    async def hold(
        self,
        conn: AsyncConnection,
        call: PaymentCall,
        instrument: str,
        amount: int,
        expires_at: datetime,
    ) -> Held:
        card, held = await service.hold(
            conn,
            call.tenant_id,
            _card(instrument),
            amount=amount,
            currency=call.currency,
            expires_at=expires_at,
            key=call.key,
            actor=_actor(call),
            now=call.now,
        )
        return Held(hold_id=held.id, units=held.amount, label=codes.masked(card.last_four))

    async def capture(
        self, conn: AsyncConnection, call: PaymentCall, part: PaymentPart, amount: int
    ) -> Moved:
        movement = await service.capture(
            conn,
            call.tenant_id,
            _settings(call),
            _card(part.instrument),
            part.hold_id,
            amount=amount,
            key=call.key,
            actor=_actor(call),
            now=call.now,
        )
        return Moved(transaction_id=movement.event.transaction_id, units=amount)

    async def release(self, conn: AsyncConnection, call: PaymentCall, part: PaymentPart) -> None:
        await service.release(
            conn,
            call.tenant_id,
            _card(part.instrument),
            part.hold_id,
            key=call.key,
            actor=_actor(call),
            now=call.now,
        )

    async def refund(
        self, conn: AsyncConnection, call: PaymentCall, part: PaymentPart, amount: int
    ) -> Moved:
        movement = await service.refund_payment(
            conn,
            call.tenant_id,
            _settings(call),
            _card(part.instrument),
            amount=amount,
            key=call.key,
            actor=_actor(call),
            now=call.now,
        )
        return Moved(transaction_id=movement.event.transaction_id, units=amount)


def _card(instrument: str) -> uuid.UUID:
    return require_id(instrument, field="instrument")


def _actor(call: PaymentCall) -> service.Actor:
    """The till or member paying, with the payment as the cause of every movement."""
    return service.Actor(call.actor, "payment", str(call.payment_id))


def _settings(call: PaymentCall) -> GiftCardSettings:
    if not isinstance(call.settings, GiftCardSettings):  # the payment module passes ours
        raise RuntimeError("the GIFT_CARD tender needs the gift card settings")
    return call.settings


__all__ = ["TENDER", "GiftCardTender", "Held", "Moved", "PaymentCall", "PaymentPart"]
