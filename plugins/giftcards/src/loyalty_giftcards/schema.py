"""GraphQL of gift cards: the card type, its event log, the queries and the mutations.

Who may do what: tenant admins issue, batch-issue, cancel, assign and list; tills (API keys
with ``points:redeem``) and admins activate, redeem, reload, refund and transfer; any caller
of the tenant may ask a card's balance with its code (and PIN); a member (member token) may
reveal the code of a card issued to them. Every look-up by code goes through
:func:`loyalty_giftcards.lookup.authenticate` (counted, lockable), and one request may make
one such look-up: aliases cannot multiply a caller's guesses.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

import strawberry
from loyalty_core.sdk import (
    Connection,
    Cursors,
    Forbidden,
    LoyaltyError,
    Member,
    NotFound,
    RequestContext,
    Scope,
    UserError,
    ValidationFailed,
    connection,
    ledger,
    may_read_member,
    page_size,
    require_admin,
    require_id,
    require_principal,
    require_scope,
    require_tenant,
    run_mutation,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from loyalty_giftcards import models, service
from loyalty_giftcards import repository as repo
from loyalty_giftcards.lookup import CardLocked, authenticate
from loyalty_giftcards.settings import GiftCardSettings

NAME = "giftcards"
MAX_KEY = 150
_LOOKUP_MARK = "giftcards.lookup"


GiftCardStatus = models.CardStatus
GiftCardEventKind = models.EventKind
strawberry.enum(GiftCardStatus, name="GiftCardStatus", description="Where a card is in its life.")
strawberry.enum(GiftCardEventKind, name="GiftCardEventKind", description="What happened to a card.")


@strawberry.type(description="One entry of a card's event log: what, how much, who and why.")
class GiftCardEvent:
    id: strawberry.ID
    kind: GiftCardEventKind
    amount: int = strawberry.field(description="Minor units moved (0 for lifecycle events).")
    balance_after: int
    transaction_id: strawberry.ID | None = strawberry.field(
        description="The core ledger transaction that moved the value."
    )
    actor: str
    cause: str
    created_at: datetime

    @classmethod
    def of(cls, event: models.CardEvent) -> GiftCardEvent:
        return cls(
            id=strawberry.ID(str(event.id)),
            kind=event.kind,
            amount=event.amount,
            balance_after=event.balance_after,
            transaction_id=None
            if event.transaction_id is None
            else strawberry.ID(str(event.transaction_id)),
            actor=event.actor,
            cause=event.cause_kind
            if event.cause_id is None
            else f"{event.cause_kind}:{event.cause_id}",
            created_at=event.created_at,
        )


@strawberry.type(
    description="A gift card. Its code is shown at issue; afterwards only the member it was "
    "issued to can see it again (giftCardReveal)."
)
class GiftCard:
    card: strawberry.Private[models.Card]
    id: strawberry.ID
    last_four: str = strawberry.field(description="The code's last four symbols, for display.")
    code_held: bool = strawberry.field(
        description="The code is kept (encrypted) for the card's member, who may reveal it."
    )
    currency: str
    status: GiftCardStatus
    member_id: strawberry.ID | None
    batch_id: strawberry.ID | None
    expires_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime

    @strawberry.field(
        description="What the card can spend now, in minor units of its currency (value "
        "held for authorised payments is not counted)."
    )
    async def balance(self, info: Info[RequestContext, None]) -> int:
        return (await _funds(info.context).load(self.card)).available

    @strawberry.field(
        description="Minor units set aside for authorised payments: still on the card, "
        "spent when the payment captures, spendable again when it is voided."
    )
    async def held(self, info: Info[RequestContext, None]) -> int:
        return (await _funds(info.context).load(self.card)).held

    @strawberry.field(description="Everything that happened to the card, oldest first.")
    async def events(self, info: Info[RequestContext, None]) -> list[GiftCardEvent]:
        found = await _events(info.context).load(self.card.id)
        return [GiftCardEvent.of(event) for event in found]

    @classmethod
    def of(cls, card: models.Card) -> GiftCard:
        return cls(
            card=card,
            id=strawberry.ID(str(card.id)),
            last_four=card.last_four,
            code_held=card.code_held,
            currency=card.currency,
            status=card.status,
            member_id=None if card.member_id is None else strawberry.ID(str(card.member_id)),
            batch_id=None if card.batch_id is None else strawberry.ID(str(card.batch_id)),
            expires_at=card.expires_at,
            last_used_at=card.last_used_at,
            created_at=card.created_at,
        )


@strawberry.type(description="A print run of physical cards.")
class GiftCardBatch:
    id: strawberry.ID
    currency: str
    size: int
    export_path: str = strawberry.field(
        description="Where the batch's codes can be downloaded as CSV, once (admins)."
    )
    exported_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, batch: models.Batch) -> GiftCardBatch:
        return cls(
            id=strawberry.ID(str(batch.id)),
            currency=batch.currency,
            size=batch.size,
            export_path=f"/modules/{NAME}/batches/{batch.id}/export",
            exported_at=batch.exported_at,
            created_at=batch.created_at,
        )


# -- inputs and payloads -------------------------------------------------------------------


@strawberry.input
class GiftCardIssueInput:
    amount: int = strawberry.field(description="Initial load, in minor units.")
    currency: str = "EUR"
    member_id: strawberry.ID | None = None
    idempotency_key: str | None = None


@strawberry.input
class GiftCardBatchIssueInput:
    count: int
    currency: str = "EUR"
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="A retry with the same key returns the first batch and makes no cards.",
    )


@strawberry.input
class GiftCardMoveInput:
    code: str
    amount: int
    idempotency_key: str
    pin: str | None = None


@strawberry.input
class GiftCardTransferInput:
    code: str
    target_code: str
    amount: int
    idempotency_key: str
    pin: str | None = None
    target_pin: str | None = None


@strawberry.input
class GiftCardCancelInput:
    id: strawberry.ID


@strawberry.input
class GiftCardRevealInput:
    id: strawberry.ID


@strawberry.input
class GiftCardAssignInput:
    id: strawberry.ID
    member_id: strawberry.ID


@strawberry.type
class GiftCardIssuePayload:
    gift_card: GiftCard | None
    code: str | None = strawberry.field(description="The full code: shown this once only.")
    pin: str | None = strawberry.field(description="The PIN, when cards have one: once only.")
    event: GiftCardEvent | None
    replayed: bool
    errors: list[UserError]


@strawberry.type
class GiftCardBatchIssuePayload:
    batch: GiftCardBatch | None
    replayed: bool = strawberry.field(
        description="The idempotency key was known: this is the first request's batch."
    )
    errors: list[UserError]


@strawberry.type
class GiftCardRevealPayload:
    gift_card: GiftCard | None
    code: str | None = strawberry.field(description="The card's full code.")
    event: GiftCardEvent | None = strawberry.field(description="The reveal, as logged.")
    errors: list[UserError]


@strawberry.type
class GiftCardPayload:
    gift_card: GiftCard | None
    event: GiftCardEvent | None = strawberry.field(
        description="What this request did (on a replay: what the first request did)."
    )
    replayed: bool
    errors: list[UserError]


@strawberry.type
class GiftCardTransferPayload:
    gift_card: GiftCard | None
    target: GiftCard | None
    event: GiftCardEvent | None
    replayed: bool
    errors: list[UserError]


# -- queries and mutations -----------------------------------------------------------------


@strawberry.type
class GiftCardQuery:
    @strawberry.field(
        description="Balance inquiry by code (and PIN). Null when nothing matches; failed "
        "look-ups are counted and lock the card or the caller for a while (GIFT_CARD_LOCKED)."
    )
    async def gift_card(
        self, info: Info[RequestContext, None], code: str, pin: str | None = None
    ) -> GiftCard | None:
        require_tenant(info.context.principal)
        try:
            card_id = await _look_up(info, code, pin)
        except CardLocked:
            raise
        except LoyaltyError:
            return None
        async with info.context.read() as conn:
            card = await repo.get_card(conn, info.context.tenant_id, card_id)
        return None if card is None else GiftCard.of(card)

    @strawberry.field(description="The tenant's gift cards, newest first (tenant admins).")
    async def gift_cards(
        self,
        info: Info[RequestContext, None],
        first: int | None = None,
        after: str | None = None,
        status: GiftCardStatus | None = None,
        currency: str | None = None,
        member_id: strawberry.ID | None = None,
        batch_id: strawberry.ID | None = None,
        last_four: str | None = None,
    ) -> Connection[GiftCard]:
        tenant_id = require_admin(info.context.principal)
        size = page_size(first)
        cursors = Cursors(tenant_id, "giftcards.cards")
        async with info.context.read() as conn:
            found = await repo.list_cards(
                conn,
                tenant_id,
                limit=size + 1,
                after=cursors.decode(after),
                status=status,
                currency=currency,
                member_id=None if member_id is None else require_id(member_id, field="memberId"),
                batch_id=None if batch_id is None else require_id(batch_id, field="batchId"),
                last_four=last_four,
            )
        return connection(cursors, found, size, lambda card: card.id, GiftCard.of)


@strawberry.type
class GiftCardMutation:
    @strawberry.mutation(description="Issue a digital card with an initial load (tenant admins).")
    async def gift_card_issue(
        self, info: Info[RequestContext, None], input: GiftCardIssueInput
    ) -> GiftCardIssuePayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        actor = _actor(ctx)

        async def work(conn: AsyncConnection, _: object) -> models.Issued:
            _check_key(input.idempotency_key, required=False)
            member = (
                None if input.member_id is None else require_id(input.member_id, field="memberId")
            )
            return await service.issue(
                conn,
                tenant_id,
                _settings(ctx),
                currency=input.currency,
                amount=input.amount,
                actor=actor,
                now=ctx.now(),
                member_id=member,
                idempotency_key=input.idempotency_key,
            )

        issued, errors = await run_mutation(info, work)
        if issued is None:
            return GiftCardIssuePayload(
                gift_card=None, code=None, pin=None, event=None, replayed=False, errors=errors
            )
        return GiftCardIssuePayload(
            gift_card=GiftCard.of(issued.card),
            code=issued.code,
            pin=issued.pin,
            event=GiftCardEvent.of(issued.event),
            replayed=issued.replayed,
            errors=[],
        )

    @strawberry.mutation(
        description="Issue inactive physical cards for printing (tenant admins); the codes "
        "are downloaded once as CSV from the batch's exportPath."
    )
    async def gift_card_batch_issue(
        self, info: Info[RequestContext, None], input: GiftCardBatchIssueInput
    ) -> GiftCardBatchIssuePayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        actor = _actor(ctx)

        async def work(conn: AsyncConnection, _: object) -> models.Batch:
            _check_key(input.idempotency_key, required=False)
            return await service.issue_batch(
                conn,
                tenant_id,
                _settings(ctx),
                currency=input.currency,
                count=input.count,
                actor=actor,
                now=ctx.now(),
                idempotency_key=input.idempotency_key,
            )

        batch, errors = await run_mutation(info, work)
        return GiftCardBatchIssuePayload(
            batch=None if batch is None else GiftCardBatch.of(batch),
            replayed=batch is not None and batch.replayed,
            errors=errors,
        )

    @strawberry.mutation(
        description="The full code of a card issued to the calling member (member tokens "
        "only; any other card is NOT_FOUND). Repeatable; every reveal is logged on the card."
    )
    async def gift_card_reveal(
        self, info: Info[RequestContext, None], input: GiftCardRevealInput
    ) -> GiftCardRevealPayload:
        ctx = info.context
        principal = require_principal(ctx.principal)
        tenant_id = require_tenant(principal)
        member_id = principal.member_id
        if member_id is None:
            raise Forbidden("only the member a card was issued to may reveal its code")
        actor = service.Actor(principal.actor, "member", ctx.request_id)

        async def work(conn: AsyncConnection, _: object) -> models.Revealed:
            card_id = require_id(input.id)
            return await service.reveal(conn, tenant_id, card_id, member_id, actor=actor)

        revealed, errors = await run_mutation(info, work)
        if revealed is None:
            return GiftCardRevealPayload(gift_card=None, code=None, event=None, errors=errors)
        return GiftCardRevealPayload(
            gift_card=GiftCard.of(revealed.card),
            code=revealed.code,
            event=GiftCardEvent.of(revealed.event),
            errors=[],
        )

    @strawberry.mutation(description="Activate a physical card at a till with its first load.")
    async def gift_card_activate(
        self, info: Info[RequestContext, None], input: GiftCardMoveInput
    ) -> GiftCardPayload:
        return await _move(info, input, service.activate)

    @strawberry.mutation(description="Spend from a card (partial redemptions allowed).")
    async def gift_card_redeem(
        self, info: Info[RequestContext, None], input: GiftCardMoveInput
    ) -> GiftCardPayload:
        return await _move(info, input, service.redeem)

    @strawberry.mutation(description="Load more money onto an active card.")
    async def gift_card_reload(
        self, info: Info[RequestContext, None], input: GiftCardMoveInput
    ) -> GiftCardPayload:
        return await _move(info, input, service.reload)

    @strawberry.mutation(description="Refund a returned purchase to the card it was paid with.")
    async def gift_card_refund(
        self, info: Info[RequestContext, None], input: GiftCardMoveInput
    ) -> GiftCardPayload:
        return await _move(info, input, service.refund)

    @strawberry.mutation(description="Move balance from one card to another.")
    async def gift_card_transfer(
        self, info: Info[RequestContext, None], input: GiftCardTransferInput
    ) -> GiftCardTransferPayload:
        ctx = info.context
        tenant_id = require_scope(ctx.principal, Scope.POINTS_REDEEM)
        actor = _actor(ctx)
        try:
            _check_key(input.idempotency_key)
            source = await _look_up(info, input.code, input.pin)
            target = await _look_up(info, input.target_code, input.target_pin, again=True)
        except LoyaltyError as error:
            return GiftCardTransferPayload(
                gift_card=None,
                target=None,
                event=None,
                replayed=False,
                errors=[UserError.of(error)],
            )

        async def work(conn: AsyncConnection, _: object) -> tuple[models.Movement, models.Card]:
            return await service.transfer(
                conn,
                tenant_id,
                _settings(ctx),
                source,
                target,
                amount=input.amount,
                idempotency_key=input.idempotency_key,
                actor=actor,
                now=ctx.now(),
            )

        done, errors = await run_mutation(info, work)
        if done is None:
            return GiftCardTransferPayload(
                gift_card=None, target=None, event=None, replayed=False, errors=errors
            )
        movement, target_card = done
        return GiftCardTransferPayload(
            gift_card=GiftCard.of(movement.card),
            target=GiftCard.of(target_card),
            event=GiftCardEvent.of(movement.event),
            replayed=movement.replayed,
            errors=[],
        )

    @strawberry.mutation(description="Cancel a card; its remainder leaves it (tenant admins).")
    async def gift_card_cancel(
        self, info: Info[RequestContext, None], input: GiftCardCancelInput
    ) -> GiftCardPayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        actor = _actor(ctx)

        async def work(conn: AsyncConnection, _: object) -> models.Movement:
            card_id = require_id(input.id)
            if await repo.get_card(conn, tenant_id, card_id) is None:
                raise NotFound("no such gift card", field="id")
            return await service.cancel(conn, tenant_id, card_id, actor=actor, now=ctx.now())

        return _payload(*await run_mutation(info, work))

    @strawberry.mutation(description="Give a card to a member (tenant admins).")
    async def gift_card_assign(
        self, info: Info[RequestContext, None], input: GiftCardAssignInput
    ) -> GiftCardPayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        actor = _actor(ctx)

        async def work(conn: AsyncConnection, _: object) -> models.Card:
            card_id = require_id(input.id)
            if await repo.get_card(conn, tenant_id, card_id) is None:
                raise NotFound("no such gift card", field="id")
            member = require_id(input.member_id, field="memberId")
            return await service.assign(conn, tenant_id, card_id, member, actor=actor)

        card, errors = await run_mutation(info, work)
        return GiftCardPayload(
            gift_card=None if card is None else GiftCard.of(card),
            event=None,
            replayed=False,
            errors=errors,
        )


@strawberry.field(name="giftCards", description="The member's gift cards, newest first.")
async def member_gift_cards(root: Member, info: Info[RequestContext, None]) -> list[GiftCard]:
    member_id = uuid.UUID(str(root.id))
    if not may_read_member(info.context.principal, member_id):
        return []
    cards = await _member_cards(info.context).load(member_id)
    return [GiftCard.of(card) for card in cards]


# -- helpers ------------------------------------------------------------------------------


async def _move(
    info: Info[RequestContext, None],
    input: GiftCardMoveInput,
    operation: Callable[..., Awaitable[models.Movement]],
) -> GiftCardPayload:
    """Look the card up (counted, in its own committed transaction), then move its value in
    the mutation's transaction, which locks the card row first."""
    ctx = info.context
    tenant_id = require_scope(ctx.principal, Scope.POINTS_REDEEM)
    actor = _actor(ctx)
    try:
        _check_key(input.idempotency_key)
        card_id = await _look_up(info, input.code, input.pin)
    except LoyaltyError as error:
        return GiftCardPayload(
            gift_card=None, event=None, replayed=False, errors=[UserError.of(error)]
        )

    async def work(conn: AsyncConnection, _: object) -> models.Movement:
        return await operation(
            conn,
            tenant_id,
            _settings(ctx),
            card_id,
            amount=input.amount,
            idempotency_key=input.idempotency_key,
            actor=actor,
            now=ctx.now(),
        )

    return _payload(*await run_mutation(info, work))


def _payload(movement: models.Movement | None, errors: list[UserError]) -> GiftCardPayload:
    if movement is None:
        return GiftCardPayload(gift_card=None, event=None, replayed=False, errors=errors)
    return GiftCardPayload(
        gift_card=GiftCard.of(movement.card),
        event=GiftCardEvent.of(movement.event),
        replayed=movement.replayed,
        errors=[],
    )


async def _look_up(
    info: Info[RequestContext, None], code: str, pin: str | None, *, again: bool = False
) -> uuid.UUID:
    """One look-up field per request: a second (an alias) is refused before it counts or
    looks, so a document of a hundred aliases is one guess, not a hundred."""
    ctx = info.context
    mark = ctx.loaders.get(_LOOKUP_MARK)
    here = tuple(info.path.as_list())
    if mark is not None and (mark != here or not again):
        raise CardLocked("one gift card look-up per request", field="code")
    ctx.loaders[_LOOKUP_MARK] = here
    return await authenticate(
        ctx.database,
        ctx.tenant_id,
        actor=require_principal(ctx.principal).actor,
        code=code,
        pin=pin,
        settings=_settings(ctx),
        now=ctx.now(),
    )


def _settings(ctx: RequestContext) -> GiftCardSettings:
    settings = ctx.module_settings(NAME)
    if not isinstance(settings, GiftCardSettings):  # the schema only has our fields when enabled
        raise RuntimeError("gift cards are not enabled for this tenant")
    return settings


def _actor(ctx: RequestContext) -> service.Actor:
    return service.Actor(require_principal(ctx.principal).actor, "operator", ctx.request_id)


def _check_key(key: str | None, *, required: bool = True) -> None:
    if key is None and not required:
        return
    if key is None or not key.strip() or len(key) > MAX_KEY:
        raise ValidationFailed(f"idempotencyKey: 1-{MAX_KEY} characters", field="idempotencyKey")


def _cache_key(card: models.Card) -> uuid.UUID:
    return card.id


async def _load_funds(
    conn: AsyncConnection, tenant_id: uuid.UUID, cards: list[models.Card]
) -> list[ledger.Funds]:
    found = await service.funds_of(conn, tenant_id, cards)
    return [found[card.id] for card in cards]


async def _load_events(
    conn: AsyncConnection, tenant_id: uuid.UUID, ids: list[uuid.UUID]
) -> list[list[models.CardEvent]]:
    found = await repo.events_of(conn, tenant_id, ids)
    return [found[card_id] for card_id in ids]


async def _load_member_cards(
    conn: AsyncConnection, tenant_id: uuid.UUID, ids: list[uuid.UUID]
) -> list[list[models.Card]]:
    found = await repo.cards_of_members(conn, tenant_id, ids)
    return [found[member_id] for member_id in ids]


def _funds(ctx: RequestContext) -> DataLoader[models.Card, ledger.Funds]:
    return ctx.loader(
        "giftcards.funds",
        lambda conn, cards: _load_funds(conn, ctx.tenant_id, cards),
        cache_key=_cache_key,
    )


def _events(ctx: RequestContext) -> DataLoader[uuid.UUID, list[models.CardEvent]]:
    return ctx.loader("giftcards.events", lambda conn, ids: _load_events(conn, ctx.tenant_id, ids))


def _member_cards(ctx: RequestContext) -> DataLoader[uuid.UUID, list[models.Card]]:
    return ctx.loader(
        "giftcards.member_cards", lambda conn, ids: _load_member_cards(conn, ctx.tenant_id, ids)
    )


__all__ = [
    "GiftCard",
    "GiftCardBatch",
    "GiftCardEvent",
    "GiftCardMutation",
    "GiftCardQuery",
    "member_gift_cards",
]
