"""GraphQL of payments: the payment type with its tenders and timeline, the queries and the
four operations of a two-phase payment.

Who may do what: tills (API keys with ``points:redeem``) and tenant admins authorise,
capture, void and refund; admins and keys with ``members:read`` list payments and read any
payment; a member (member token) reads their own payments, also through ``Member.payments``.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import strawberry
from loyalty_core.sdk import (
    Connection,
    Cursors,
    IdentifierInput,
    LoyaltyError,
    Member,
    NotFound,
    RequestContext,
    Role,
    Scope,
    UserError,
    ValidationFailed,
    connection,
    db_answers,
    may_read_member,
    members,
    page_size,
    require_id,
    require_principal,
    require_scope,
    run_mutation,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from loyalty_payment import models, offers, service
from loyalty_payment import repository as repo
from loyalty_payment.settings import PaymentSettings

NAME = "payment"
MAX_KEY = 150

PaymentStatus = models.PaymentStatus
PaymentOperationKind = models.OperationKind
strawberry.enum(PaymentStatus, name="PaymentStatus", description="Where a payment is.")
strawberry.enum(
    PaymentOperationKind, name="PaymentOperationKind", description="What happened to a payment."
)


@strawberry.type(description="What one tender of a payment held, captured and refunded.")
class PaymentTender:
    position: int = strawberry.field(description="Its place in the till's order of preference.")
    tender: str = strawberry.field(description="POINTS, GIFT_CARD, or a module's tender.")
    label: str = strawberry.field(description="For receipts: '1200 points', '•••• K7QD'.")
    held: int = strawberry.field(description="Minor units this tender held at authorisation.")
    held_units: int = strawberry.field(description="The same in the tender's own units.")
    captured: int
    captured_units: int
    refunded: int
    refunded_units: int

    @classmethod
    def of(cls, tender: models.Tender) -> PaymentTender:
        return cls(
            position=tender.position,
            tender=tender.tender,
            label=tender.label,
            held=tender.held,
            held_units=tender.held_units,
            captured=tender.captured,
            captured_units=tender.captured_units,
            refunded=tender.refunded,
            refunded_units=tender.refunded_units,
        )


@strawberry.type(description="What one operation moved on one tender.")
class PaymentOperationPart:
    position: int
    tender: str
    amount: int = strawberry.field(description="Minor units.")
    units: int = strawberry.field(description="The same in the tender's own units.")
    transaction_id: strawberry.ID | None = strawberry.field(
        description="The core ledger transaction that moved the value (none for holds)."
    )

    @classmethod
    def of(cls, part: dict[str, Any]) -> PaymentOperationPart:
        transaction = part.get("transactionId")
        return cls(
            position=int(part["position"]),
            tender=str(part["tender"]),
            amount=int(part["amount"]),
            units=int(part["units"]),
            transaction_id=None if transaction is None else strawberry.ID(str(transaction)),
        )


@strawberry.type(description="One entry of a payment's timeline.")
class PaymentOperation:
    id: strawberry.ID
    kind: PaymentOperationKind
    amount: int = strawberry.field(description="Minor units the operation concerned.")
    actor: str
    created_at: datetime
    parts: list[PaymentOperationPart]

    @classmethod
    def of(cls, operation: models.Operation) -> PaymentOperation:
        return cls(
            id=strawberry.ID(str(operation.id)),
            kind=operation.kind,
            amount=operation.amount,
            actor=operation.actor,
            created_at=operation.created_at,
            parts=[PaymentOperationPart.of(part) for part in operation.parts],
        )


@strawberry.type(description="A payment of an order with points and stored value.")
class Payment:
    id: strawberry.ID
    member_id: strawberry.ID | None
    order_reference: str
    currency: str
    amount: int = strawberry.field(description="The amount to pay, in minor units.")
    status: PaymentStatus
    held: int = strawberry.field(description="What the tenders held at authorisation.")
    captured: int
    refunded: int
    amount_due: int = strawberry.field(
        description="What the till collects by cash or card: amount - held."
    )
    expires_at: datetime = strawberry.field(description="When an uncaptured authorisation lapses.")
    created_at: datetime
    updated_at: datetime
    tenders: list[PaymentTender]

    @strawberry.field(description="Every operation on the payment, oldest first.")
    async def timeline(self, info: Info[RequestContext, None]) -> list[PaymentOperation]:
        found = await _operations(info.context).load(uuid.UUID(str(self.id)))
        return [PaymentOperation.of(operation) for operation in found]

    @classmethod
    def of(cls, payment: models.Payment) -> Payment:
        return cls(
            id=strawberry.ID(str(payment.id)),
            member_id=None if payment.member_id is None else strawberry.ID(str(payment.member_id)),
            order_reference=payment.order_reference,
            currency=payment.currency,
            amount=payment.amount,
            status=payment.status,
            held=payment.held,
            captured=payment.captured,
            refunded=payment.refunded,
            amount_due=payment.amount_due,
            expires_at=payment.expires_at,
            created_at=payment.created_at,
            updated_at=payment.updated_at,
            tenders=[PaymentTender.of(tender) for tender in payment.tenders],
        )


@strawberry.type(description="A payment after an operation, or why the operation failed.")
class PaymentPayload:
    payment: Payment | None
    operation: PaymentOperation | None
    replayed: bool = strawberry.field(description="True when the idempotency key was known.")
    errors: list[UserError]


@strawberry.input(description="One tender, in the order the customer prefers them.")
class PaymentTenderInput:
    tender: str = strawberry.field(description="POINTS, GIFT_CARD, or a module's tender.")
    amount: int | None = strawberry.field(
        default=None,
        description="Exactly this much (minor units), or the whole authorisation fails; "
        "omitted: as much as the tender can pay of what remains due.",
    )
    asset: str | None = strawberry.field(default=None, description="POINTS: the asset code.")
    code: str | None = strawberry.field(default=None, description="GIFT_CARD: the card's code.")
    pin: str | None = strawberry.field(default=None, description="GIFT_CARD: the card's PIN.")


@strawberry.input
class PaymentAuthorizeInput:
    order_reference: str
    amount: int = strawberry.field(description="The amount to pay, in minor units.")
    currency: str
    tenders: list[PaymentTenderInput]
    idempotency_key: str
    member_id: strawberry.ID | None = None
    identifier: IdentifierInput | None = strawberry.field(
        default=None, description="The member by card number, e-mail or phone instead of id."
    )


@strawberry.input
class PaymentCaptureInput:
    payment_id: strawberry.ID
    idempotency_key: str
    amount: int | None = strawberry.field(default=None, description="Default: all that is held.")


@strawberry.input
class PaymentVoidInput:
    payment_id: strawberry.ID


@strawberry.input
class PaymentRefundInput:
    payment_id: strawberry.ID
    idempotency_key: str
    amount: int | None = strawberry.field(
        default=None, description="Default: all that is not refunded yet."
    )


@strawberry.type
class PaymentQuery:
    @strawberry.field(description="One payment; members see their own only.")
    async def payment(self, info: Info[RequestContext, None], id: strawberry.ID) -> Payment | None:
        ctx = info.context
        payment_id = require_id(id)
        async with ctx.read() as conn:
            found = await repo.get_payment(conn, ctx.tenant_id, payment_id)
        if found is None or not _may_read(ctx, found.member_id):
            return None
        return Payment.of(found)

    @strawberry.field(description="The tenant's payments, newest first (admins, members:read).")
    async def payments(
        self,
        info: Info[RequestContext, None],
        first: int | None = None,
        after: str | None = None,
        status: PaymentStatus | None = None,
        member_id: strawberry.ID | None = None,
        order_reference: str | None = None,
    ) -> Connection[Payment]:
        ctx = info.context
        tenant_id = require_scope(ctx.principal, Scope.MEMBERS_READ)
        size = page_size(first)
        cursors = Cursors(tenant_id, "payment.payments")
        async with ctx.read() as conn:
            found = await repo.list_payments(
                conn,
                tenant_id,
                member_ids=None if member_id is None else [require_id(member_id, field="memberId")],
                status=status,
                order_reference=order_reference,
                before=cursors.decode(after),
                limit=size + 1,
            )
        return connection(cursors, found, size, lambda payment: payment.id, Payment.of)


@strawberry.type
class PaymentMutation:
    @strawberry.mutation(
        description="Hold the amount across the tenders (all or nothing per tender); the rest "
        "is amountDue, for the till to collect by cash or card."
    )
    async def payment_authorize(
        self, info: Info[RequestContext, None], input: PaymentAuthorizeInput
    ) -> PaymentPayload:
        ctx = info.context
        try:
            require_scope(ctx.principal, Scope.POINTS_REDEEM)
            _check_key(input.idempotency_key)
            till = _till(ctx)
            with db_answers():  # it opens its own transactions, not run_mutation's
                member_id = await _member(ctx, input)
                outcome = await service.authorize(
                    till,
                    service.Authorization(
                        order_reference=input.order_reference,
                        amount=input.amount,
                        currency=input.currency.upper(),
                        member_id=member_id,
                        tenders=[_tender(t) for t in input.tenders],
                        idempotency_key=input.idempotency_key,
                    ),
                )
        except LoyaltyError as error:
            return PaymentPayload(
                payment=None, operation=None, replayed=False, errors=[UserError.of(error)]
            )
        return _payload(outcome, [])

    @strawberry.mutation(description="Capture all or part of what an authorisation holds.")
    async def payment_capture(
        self, info: Info[RequestContext, None], input: PaymentCaptureInput
    ) -> PaymentPayload:
        def work(
            conn: AsyncConnection, till: service.Till, payment_id: uuid.UUID
        ) -> Awaitable[models.Outcome]:
            _check_key(input.idempotency_key)
            return service.capture(
                conn, till, payment_id, amount=input.amount, idempotency_key=input.idempotency_key
            )

        return await _operate(info, input.payment_id, work)

    @strawberry.mutation(description="Release everything an authorisation holds.")
    async def payment_void(
        self, info: Info[RequestContext, None], input: PaymentVoidInput
    ) -> PaymentPayload:
        return await _operate(info, input.payment_id, service.void)

    @strawberry.mutation(
        description="Give all or part of a captured payment back to the tenders it came from."
    )
    async def payment_refund(
        self, info: Info[RequestContext, None], input: PaymentRefundInput
    ) -> PaymentPayload:
        def work(
            conn: AsyncConnection, till: service.Till, payment_id: uuid.UUID
        ) -> Awaitable[models.Outcome]:
            _check_key(input.idempotency_key)
            return service.refund(
                conn, till, payment_id, amount=input.amount, idempotency_key=input.idempotency_key
            )

        return await _operate(info, input.payment_id, work)


@strawberry.field(name="payments", description="The member's payments, newest first.")
async def member_payments(
    root: Member, info: Info[RequestContext, None], first: int | None = None
) -> list[Payment]:
    member_id = uuid.UUID(str(root.id))
    if not may_read_member(info.context.principal, member_id):
        return []
    found = await _member_payments(info.context, page_size(first)).load(member_id)
    return [Payment.of(payment) for payment in found]


# -- helpers ------------------------------------------------------------------------------


async def _operate(
    info: Info[RequestContext, None],
    payment_ref: strawberry.ID,
    operation: Callable[[AsyncConnection, service.Till, uuid.UUID], Awaitable[models.Outcome]],
) -> PaymentPayload:
    ctx = info.context
    try:
        require_scope(ctx.principal, Scope.POINTS_REDEEM)
        till = _till(ctx)
    except LoyaltyError as error:
        return PaymentPayload(
            payment=None, operation=None, replayed=False, errors=[UserError.of(error)]
        )
    payment_id = require_id(payment_ref, field="paymentId")
    outcome, errors = await run_mutation(info, lambda conn, _: operation(conn, till, payment_id))
    return _payload(outcome, errors)


def _payload(outcome: models.Outcome | None, errors: list[UserError]) -> PaymentPayload:
    if outcome is None:
        return PaymentPayload(payment=None, operation=None, replayed=False, errors=errors)
    return PaymentPayload(
        payment=Payment.of(outcome.payment),
        operation=None if outcome.operation is None else PaymentOperation.of(outcome.operation),
        replayed=outcome.replayed,
        errors=errors,
    )


def _till(ctx: RequestContext) -> service.Till:
    settings = ctx.module_settings(NAME)
    assert isinstance(settings, PaymentSettings)
    return offers.till(
        database=ctx.database,
        registry=ctx.registry,
        enabled_modules=ctx.enabled_modules,
        tenant_id=ctx.tenant_id,
        settings=settings,
        actor=require_principal(ctx.principal).actor,
        now=ctx.now(),
    )


async def _member(ctx: RequestContext, input: PaymentAuthorizeInput) -> uuid.UUID | None:
    if input.member_id is not None and input.identifier is not None:
        raise ValidationFailed("give memberId or identifier, not both", field="memberId")
    if input.member_id is not None:
        return require_id(input.member_id, field="memberId")
    if input.identifier is None:
        return None
    async with ctx.read() as conn:
        found = await members.find_member(
            conn, ctx.tenant_id, input.identifier.kind.value, input.identifier.value
        )
    if found is None:
        raise NotFound("no member holds this identifier", field="identifier")
    return found.id


def _tender(tender: PaymentTenderInput) -> service.TenderRequest:
    credentials = {
        name: value
        for name, value in (("asset", tender.asset), ("code", tender.code), ("pin", tender.pin))
        if value is not None
    }
    return service.TenderRequest(tender.tender.upper(), tender.amount, credentials)


def _check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY:
        raise ValidationFailed(
            f"an idempotency key of 1 to {MAX_KEY} characters", field="idempotencyKey"
        )


def _may_read(ctx: RequestContext, member_id: uuid.UUID | None) -> bool:
    principal = require_principal(ctx.principal)
    if principal.role is Role.MEMBER:
        return member_id is not None and may_read_member(principal, member_id)
    return principal.role is Role.ADMIN or Scope.MEMBERS_READ in principal.scopes


def _operations(ctx: RequestContext) -> DataLoader[uuid.UUID, list[models.Operation]]:
    async def load(conn: AsyncConnection, keys: list[uuid.UUID]) -> list[list[models.Operation]]:
        found = await repo.operations_of(conn, ctx.tenant_id, keys)
        return [found[key] for key in keys]

    return ctx.loader("payment.operations", load)


def _member_payments(
    ctx: RequestContext, limit: int
) -> DataLoader[uuid.UUID, list[models.Payment]]:
    async def load(conn: AsyncConnection, keys: list[uuid.UUID]) -> list[list[models.Payment]]:
        found = await repo.recent_payments_of(conn, ctx.tenant_id, keys, limit)
        return [found[key] for key in keys]

    return ctx.loader(f"payment.member_payments.{limit}", load)


__all__ = ["Payment", "PaymentMutation", "PaymentQuery", "member_payments"]
