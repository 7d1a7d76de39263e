"""Business rules of payments: authorise, capture, void, refund, expire.

Invariants (checked by the tests through the API):

- an authorisation is all or nothing: every tender holds its part in the payment's one
  transaction, or none does; tenders are locked in one canonical order first, so payments
  that share instruments never deadlock, and two tills never over-commit one balance;
- every operation after the authorisation locks the payment row first, so operations on
  one payment run one at a time, and checks its state under that lock;
- authorise, capture and refund are idempotent by key: a replay returns the payment and
  the operation the first request wrote; the same key with another request is
  IDEMPOTENCY_CONFLICT; a void is idempotent by nature;
- what moves is in the ledger: holds while authorised, a posted debit per tender at
  capture, a posted credit per tender at refund; this module records which and when.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from loyalty_core.sdk import (
    Conflict,
    Database,
    ErrorCode,
    LoyaltyError,
    NotFound,
    ValidationFailed,
    fingerprint,
    members,
    new_id,
)
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_payment import allocation
from loyalty_payment import repository as repo
from loyalty_payment.models import OperationKind, Outcome, Payment, PaymentStatus, Tender
from loyalty_payment.points import POINTS
from loyalty_payment.settings import PaymentSettings
from loyalty_payment.tenders import TenderCall, TenderProvider

MAX_AMOUNT = 2**40
MAX_TENDERS = 10


@dataclass(frozen=True)
class Offered:
    """A tender a tenant can pay with: its provider and the providing module's settings."""

    provider: TenderProvider
    settings: BaseModel


@dataclass(frozen=True)
class Till:
    """Who operates on payments, when, under which settings, with which tenders."""

    database: Database
    tenant_id: uuid.UUID
    actor: str
    now: datetime
    settings: PaymentSettings
    tenders: Mapping[str, Offered]
    """Tenders of the modules the tenant enabled: what a new authorisation may use."""
    installed: Mapping[str, Offered] = field(default_factory=dict)
    """Tenders of every installed module: what an existing payment's tenders are captured,
    released and refunded with, even if the tenant disabled the module since."""

    def offered(self, tender: str, *, field: str = "tenders") -> Offered:
        """The provider of a tender a new authorisation names."""
        found = self.tenders.get(tender)
        if found is not None:
            return found
        if tender in self.installed:
            raise LoyaltyError(
                f"the module that provides {tender} is not enabled",
                code=ErrorCode.MODULE_NOT_ENABLED,
                field=field,
            )
        raise LoyaltyError(f"unknown tender {tender!r}", code=ErrorCode.UNKNOWN_TENDER, field=field)

    def provider_of(self, tender: Tender) -> Offered:
        """The provider of a tender a payment already holds."""
        found = self.installed.get(tender.tender) or self.tenders.get(tender.tender)
        if found is None:
            raise LoyaltyError(
                f"no installed module provides {tender.tender} any more",
                code=ErrorCode.MODULE_NOT_INSTALLED,
                field="paymentId",
            )
        return found


@dataclass(frozen=True)
class TenderRequest:
    """One tender as the till asks for it, in order of preference."""

    tender: str
    amount: int | None = None
    credentials: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Authorization:
    order_reference: str
    amount: int
    currency: str
    member_id: uuid.UUID | None
    tenders: Sequence[TenderRequest]
    idempotency_key: str


async def authorize(till: Till, request: Authorization) -> Outcome:
    """Hold ``request.amount`` across the tenders (or as much as they can: the rest is due)."""
    _check_authorization(till, request)
    request_hash = fingerprint(
        {
            "order": request.order_reference,
            "amount": request.amount,
            "currency": request.currency,
            "member": request.member_id,
            "tenders": [
                {"tender": t.tender, "amount": t.amount, "credentials": dict(t.credentials)}
                for t in request.tenders
            ],
        }
    )
    async with till.database.tenant_transaction(till.tenant_id) as conn:
        # Checked before the tenders are identified: a replay never counts a look-up again.
        replay = await _authorization_replay(conn, till, request.idempotency_key, request_hash)
    if replay is not None:
        return replay
    payment_id = new_id()
    expires_at = till.now + timedelta(minutes=till.settings.hold_minutes)
    calls = [
        _call(
            till,
            till.offered(t.tender),
            payment_id=payment_id,
            member_id=request.member_id,
            currency=request.currency,
            step=f"{i}:hold",
        )
        for i, t in enumerate(request.tenders)
    ]
    instruments = [
        await till.offered(t.tender).provider.identify(call, t.credentials)
        for t, call in zip(request.tenders, calls, strict=True)
    ]
    _require_distinct(request.tenders, instruments)
    async with till.database.tenant_transaction(till.tenant_id) as conn:
        if request.member_id is not None:  # before the claim, whose key names the member
            await members.require_active(conn, till.tenant_id, request.member_id)
        claimed = await repo.claim_payment(
            conn,
            {
                "tenant_id": till.tenant_id,
                "id": payment_id,
                "member_id": request.member_id,
                "order_reference": request.order_reference,
                "currency": request.currency,
                "amount": request.amount,
                "status": PaymentStatus.AUTHORIZED.value,
                "held": request.amount,  # provisional, set once the tenders held their parts
                "expires_at": expires_at,
                "idempotency_key": request.idempotency_key,
                "request_hash": request_hash,
                "actor": till.actor,
                "created_at": till.now,
                "updated_at": till.now,
            },
        )
        if not claimed:
            replay = await _authorization_replay(conn, till, request.idempotency_key, request_hash)
            assert replay is not None  # the key is taken by a committed payment
            return replay
        # Lock every instrument in one canonical order before holding anything.
        available: dict[int, int] = {}
        canonical = sorted(
            range(len(instruments)), key=lambda i: (request.tenders[i].tender, instruments[i])
        )
        for i in canonical:
            offered = till.offered(request.tenders[i].tender)
            available[i] = await offered.provider.available(conn, calls[i], instruments[i])
        parts = allocation.authorization(
            request.amount,
            [_ask(till, request, i, available[i]) for i in range(len(instruments))],
        )
        rows: list[dict[str, Any]] = []
        moved: list[dict[str, Any]] = []
        for i, part in enumerate(parts):
            if part == 0:
                continue
            tender = request.tenders[i].tender
            held = await till.offered(tender).provider.hold(
                conn, calls[i], instruments[i], part, expires_at
            )
            rows.append(
                {
                    "tenant_id": till.tenant_id,
                    "payment_id": payment_id,
                    "position": i,
                    "tender": tender,
                    "instrument": instruments[i],
                    "label": held.label[:100],
                    "hold_id": held.hold_id,
                    "held": part,
                    "held_units": held.units,
                }
            )
            moved.append(_part(i, tender, part, held.units, None))
        await repo.insert_tenders(conn, rows)
        await repo.update_payment(conn, till.tenant_id, payment_id, held=sum(parts))
        operation = await repo.insert_operation(
            conn,
            till.tenant_id,
            payment_id,
            kind=OperationKind.AUTHORIZE,
            amount=sum(parts),
            actor=till.actor,
            now=till.now,
            parts=moved,
            idempotency_key=request.idempotency_key,
            request_hash=request_hash,
        )
        return Outcome(await _payment(conn, till, payment_id), operation)


async def capture(
    conn: AsyncConnection,
    till: Till,
    payment_id: uuid.UUID,
    *,
    amount: int | None,
    idempotency_key: str,
) -> Outcome:
    """Capture ``amount`` (default: all that is held), tenders in order of preference; what
    is not captured is released."""
    payment = await _locked(conn, till, payment_id)
    request_hash = fingerprint({"op": "capture", "amount": amount})
    replay = await _replay(
        conn, till, payment, OperationKind.CAPTURE, idempotency_key, request_hash
    )
    if replay is not None:
        return replay
    _require_authorized(till, payment)
    wanted = payment.held if amount is None else amount
    if not 0 < wanted <= payment.held:
        raise ValidationFailed(f"capture between 1 and the {payment.held} held", field="amount")
    parts = allocation.capture(wanted, [t.held for t in payment.tenders])
    moved: list[dict[str, Any]] = []
    for tender, part in zip(payment.tenders, parts, strict=True):
        offered = till.provider_of(tender)
        result = await offered.provider.capture(
            conn, _call_for(till, offered, payment, tender, "capture"), tender, part
        )
        await repo.update_tender(
            conn,
            till.tenant_id,
            payment.id,
            tender.position,
            captured=part,
            captured_units=result.units,
            capture_transaction_id=result.transaction_id,
        )
        moved.append(
            _part(tender.position, tender.tender, part, result.units, result.transaction_id)
        )
    return await _record(
        conn,
        till,
        payment,
        OperationKind.CAPTURE,
        wanted,
        moved,
        {"status": PaymentStatus.CAPTURED.value, "captured": wanted},
        idempotency_key,
        request_hash,
    )


async def void(conn: AsyncConnection, till: Till, payment_id: uuid.UUID) -> Outcome:
    """Release every hold of an authorised payment. Voiding a voided payment changes
    nothing and answers like the first void; a captured one must be refunded instead."""
    payment = await _locked(conn, till, payment_id)
    if payment.status is PaymentStatus.VOIDED:
        last = await repo.last_operation(conn, till.tenant_id, payment.id, OperationKind.VOID)
        return Outcome(payment, last, replayed=True)
    _require_authorized(till, payment)
    moved = await _release_all(conn, till, payment)
    return await _record(
        conn,
        till,
        payment,
        OperationKind.VOID,
        payment.held,
        moved,
        {"status": PaymentStatus.VOIDED.value},
    )


async def expire(conn: AsyncConnection, till: Till, payment_id: uuid.UUID) -> Outcome | None:
    """Release the holds of an authorisation whose time is up; None when it is not due
    (captured, voided, or expired by a concurrent run meanwhile)."""
    payment = await _locked(conn, till, payment_id)
    if payment.status is not PaymentStatus.AUTHORIZED or payment.expires_at > till.now:
        return None
    moved = await _release_all(conn, till, payment)
    return await _record(
        conn,
        till,
        payment,
        OperationKind.EXPIRE,
        payment.held,
        moved,
        {"status": PaymentStatus.EXPIRED.value},
    )


async def refund(
    conn: AsyncConnection,
    till: Till,
    payment_id: uuid.UUID,
    *,
    amount: int | None,
    idempotency_key: str,
) -> Outcome:
    """Give back ``amount`` (default: all not yet refunded) to the tenders it was paid with,
    pro rata to what each captured (``allocation.refund``)."""
    payment = await _locked(conn, till, payment_id)
    request_hash = fingerprint({"op": "refund", "amount": amount})
    replay = await _replay(conn, till, payment, OperationKind.REFUND, idempotency_key, request_hash)
    if replay is not None:
        return replay
    if payment.status not in (PaymentStatus.CAPTURED, PaymentStatus.REFUNDED):
        raise Conflict(
            f"a payment that is {payment.status.value} has nothing to refund",
            code=ErrorCode.INVALID_PAYMENT_STATE,
            field="paymentId",
        )
    left = payment.captured - payment.refunded
    wanted = left if amount is None else amount
    if wanted <= 0 and amount is not None:
        raise ValidationFailed("a refund must be a positive amount", field="amount")
    if wanted > left or wanted == 0:
        raise LoyaltyError(
            f"only {left} of the {payment.captured} captured is left to refund",
            code=ErrorCode.REFUND_EXCEEDS_CAPTURE,
            field="amount",
        )
    parts = allocation.refund(
        wanted, [t.captured for t in payment.tenders], [t.refunded for t in payment.tenders]
    )
    operation_id = new_id()
    moved: list[dict[str, Any]] = []
    for tender, part in zip(payment.tenders, parts, strict=True):
        if part == 0:
            continue
        offered = till.provider_of(tender)
        call = _call_for(till, offered, payment, tender, f"refund:{operation_id}")
        result = await offered.provider.refund(conn, call, tender, part)
        await repo.update_tender(
            conn,
            till.tenant_id,
            payment.id,
            tender.position,
            refunded=tender.refunded + part,
            refunded_units=tender.refunded_units + result.units,
        )
        moved.append(
            _part(tender.position, tender.tender, part, result.units, result.transaction_id)
        )
    refunded = payment.refunded + wanted
    status = PaymentStatus.REFUNDED if refunded == payment.captured else PaymentStatus.CAPTURED
    return await _record(
        conn,
        till,
        payment,
        OperationKind.REFUND,
        wanted,
        moved,
        {"status": status.value, "refunded": refunded},
        idempotency_key,
        request_hash,
    )


# -- helpers -----------------------------------------------------------------------------


def _check_authorization(till: Till, request: Authorization) -> None:
    if not 0 < request.amount <= MAX_AMOUNT:
        raise ValidationFailed(
            "amount must be a positive whole number of minor units", field="amount"
        )
    if not (
        len(request.currency) == 3 and request.currency.isascii() and request.currency.isalpha()
    ):
        raise ValidationFailed("currency is an ISO 4217 code such as EUR", field="currency")
    if not request.order_reference.strip() or len(request.order_reference) > 100:
        raise ValidationFailed("an order reference of 1 to 100 characters", field="orderReference")
    if not 0 < len(request.tenders) <= MAX_TENDERS:
        raise ValidationFailed(f"between 1 and {MAX_TENDERS} tenders", field="tenders")
    for i, tender in enumerate(request.tenders):
        till.offered(tender.tender, field=f"tenders.{i}.tender")
        if tender.amount is not None and tender.amount <= 0:
            raise ValidationFailed(
                "a tender's amount must be positive", field=f"tenders.{i}.amount"
            )


def _require_distinct(requests: Sequence[TenderRequest], instruments: Sequence[str]) -> None:
    seen: set[tuple[str, str]] = set()
    for i, pair in enumerate(zip((t.tender for t in requests), instruments, strict=True)):
        if pair in seen:
            raise ValidationFailed("each instrument may pay once per payment", field=f"tenders.{i}")
        seen.add(pair)


def _ask(till: Till, request: Authorization, index: int, available: int) -> allocation.Ask:
    """What the tenant's rules allow a tender: points pay between the minimum and maximum
    share of the basket (rounded in the customer's favour: down for the most, up for the
    least)."""
    tender = request.tenders[index]
    if tender.tender != POINTS:
        return allocation.Ask(tender.amount, available, most=request.amount)
    settings = till.settings
    return allocation.Ask(
        tender.amount,
        available,
        most=math.floor(settings.max_points_share * request.amount),
        least=math.ceil(settings.min_points_share * request.amount),
    )


def _call(
    till: Till,
    offered: Offered,
    *,
    payment_id: uuid.UUID,
    member_id: uuid.UUID | None,
    currency: str,
    step: str,
) -> TenderCall:
    return TenderCall(
        database=till.database,
        tenant_id=till.tenant_id,
        payment_id=payment_id,
        member_id=member_id,
        currency=currency,
        actor=till.actor,
        now=till.now,
        key=f"payment:{payment_id}:{step}",
        settings=offered.settings,
    )


def _call_for(
    till: Till, offered: Offered, payment: Payment, tender: Tender, step: str
) -> TenderCall:
    """The call for an operation on a tender a payment already holds."""
    return _call(
        till,
        offered,
        payment_id=payment.id,
        member_id=payment.member_id,
        currency=payment.currency,
        step=f"{tender.position}:{step}",
    )


def _part(
    position: int, tender: str, amount: int, units: int, transaction_id: uuid.UUID | None
) -> dict[str, Any]:
    return {
        "position": position,
        "tender": tender,
        "amount": amount,
        "units": units,
        "transactionId": None if transaction_id is None else str(transaction_id),
    }


async def _release_all(conn: AsyncConnection, till: Till, payment: Payment) -> list[dict[str, Any]]:
    moved: list[dict[str, Any]] = []
    for tender in payment.tenders:
        offered = till.provider_of(tender)
        await offered.provider.release(
            conn, _call_for(till, offered, payment, tender, "release"), tender
        )
        moved.append(_part(tender.position, tender.tender, tender.held, tender.held_units, None))
    return moved


async def _record(
    conn: AsyncConnection,
    till: Till,
    payment: Payment,
    kind: OperationKind,
    amount: int,
    moved: list[dict[str, Any]],
    changes: dict[str, Any],
    idempotency_key: str | None = None,
    request_hash: str | None = None,
) -> Outcome:
    await repo.update_payment(conn, till.tenant_id, payment.id, updated_at=till.now, **changes)
    operation = await repo.insert_operation(
        conn,
        till.tenant_id,
        payment.id,
        kind=kind,
        amount=amount,
        actor=till.actor,
        now=till.now,
        parts=moved,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
    )
    return Outcome(await _payment(conn, till, payment.id), operation)


async def _locked(conn: AsyncConnection, till: Till, payment_id: uuid.UUID) -> Payment:
    payment = await repo.get_payment(conn, till.tenant_id, payment_id, lock=True)
    if payment is None:
        raise NotFound("payment not found", field="paymentId")
    return payment


async def _payment(conn: AsyncConnection, till: Till, payment_id: uuid.UUID) -> Payment:
    payment = await repo.get_payment(conn, till.tenant_id, payment_id)
    assert payment is not None
    return payment


def _require_authorized(till: Till, payment: Payment) -> None:
    """Only an authorisation whose time is not up may be captured or voided."""
    if payment.status is PaymentStatus.EXPIRED or (
        payment.status is PaymentStatus.AUTHORIZED and payment.expires_at <= till.now
    ):
        raise LoyaltyError(
            "the authorisation has expired and holds nothing any more",
            code=ErrorCode.PAYMENT_EXPIRED,
            field="paymentId",
        )
    if payment.status is not PaymentStatus.AUTHORIZED:
        raise Conflict(
            f"the payment is {payment.status.value}",
            code=ErrorCode.INVALID_PAYMENT_STATE,
            field="paymentId",
        )


async def _authorization_replay(
    conn: AsyncConnection, till: Till, key: str, request_hash: str
) -> Outcome | None:
    found = await repo.payment_by_key(conn, till.tenant_id, key)
    if found is None:
        return None
    payment_id, first = found
    if first != request_hash:
        raise _conflict()
    operation = await repo.last_operation(conn, till.tenant_id, payment_id, OperationKind.AUTHORIZE)
    return Outcome(await _payment(conn, till, payment_id), operation, replayed=True)


async def _replay(
    conn: AsyncConnection,
    till: Till,
    payment: Payment,
    kind: OperationKind,
    key: str,
    request_hash: str,
) -> Outcome | None:
    found = await repo.operation_by_key(conn, till.tenant_id, payment.id, kind, key)
    if found is None:
        return None
    operation, first = found
    if first != request_hash:
        raise _conflict()
    return Outcome(payment, operation, replayed=True)


def _conflict() -> Conflict:
    return Conflict(
        "this idempotency key was used for a different request",
        code=ErrorCode.IDEMPOTENCY_CONFLICT,
        field="idempotencyKey",
    )


__all__ = [
    "Authorization",
    "Offered",
    "TenderRequest",
    "Till",
    "authorize",
    "capture",
    "expire",
    "refund",
    "void",
]
