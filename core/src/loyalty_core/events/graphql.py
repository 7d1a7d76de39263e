"""GraphQL of events: ingestion (single and batch) and the tenant's event types."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.scalars import JSON
from strawberry.types import Info

from loyalty_core.auth import Scope, require_admin, require_principal, require_scope, require_tenant
from loyalty_core.context import RequestContext
from loyalty_core.errors import LoyaltyError, NotFound, ValidationFailed
from loyalty_core.events import batches, requests, service
from loyalty_core.events.models import EventInput, IngestResult, NoticeCode, StoredEvent
from loyalty_core.graphql.common import UserError, run_mutation
from loyalty_core.ids import parse_id
from loyalty_core.inputs import ITEMS_ALONE, RefusedItem
from loyalty_core.ledger.graphql_types import LedgerTransaction
from loyalty_core.members.graphql import IdentifierInput
from loyalty_core.modules.dispatch import DomainEvents

MAX_BATCH = batches.MAX_BATCH


@strawberry.type(description="Something a member did, as a touchpoint reported it.")
class Event:
    id: strawberry.ID
    type: str
    source: str
    external_id: str
    member_id: strawberry.ID
    occurred_at: datetime
    payload: dict[str, Any] = strawberry.field(graphql_type=JSON)
    refunded_amount: int | None
    created_at: datetime

    @classmethod
    def of(cls, event: StoredEvent) -> Event:
        return cls(
            id=strawberry.ID(str(event.id)),
            type=event.type,
            source=event.source,
            external_id=event.external_id,
            member_id=strawberry.ID(str(event.member_id)),
            occurred_at=event.occurred_at,
            payload=event.payload,
            refunded_amount=event.refunded_amount if event.amount is not None else None,
            created_at=event.created_at,
        )


@strawberry.type(description="An event type and the JSON Schema its payload must match.")
class EventType:
    name: str
    description: str
    json_schema: dict[str, Any] = strawberry.field(graphql_type=JSON)
    builtin: bool


@strawberry.input
class EventIngestInput:
    type: str
    source: str = strawberry.field(description="The touchpoint, e.g. `pos-berlin-12`.")
    external_id: str = strawberry.field(
        description="The event's id at its source: the idempotency key."
    )
    payload: dict[str, Any] = strawberry.field(graphql_type=JSON)
    member_id: strawberry.ID | None = None
    identifier: IdentifierInput | None = None
    occurred_at: datetime | None = None


@strawberry.input
class EventIngestBatchInput:
    events: list[EventIngestInput] = strawberry.field(metadata={ITEMS_ALONE: True})


@strawberry.input
class EventTypeSaveInput:
    name: str
    json_schema: dict[str, Any] = strawberry.field(graphql_type=JSON)
    description: str = ""


strawberry.enum(NoticeCode, name="NoticeCode", description="What a notice on an event says.")


@strawberry.type(
    description="Something the sender of a stored event should know that is not an error: "
    "the event is valid and was stored (e.g. `CURRENCY_NOT_EARNED`: no base points)."
)
class Notice:
    code: NoticeCode
    message: str


@strawberry.type
class EventIngestPayload:
    event: Event | None
    transactions: list[LedgerTransaction]
    replayed: bool
    notices: list[Notice] = strawberry.field(
        description="What to know about the stored event besides its transactions; empty "
        "when it failed (see `errors`)."
    )
    errors: list[UserError]

    @classmethod
    def of(cls, result: IngestResult) -> EventIngestPayload:
        return cls(
            event=Event.of(result.event),
            transactions=[LedgerTransaction.of(t) for t in result.transactions],
            replayed=result.replayed,
            notices=[Notice(code=n.code, message=n.message) for n in result.notices],
            errors=[],
        )

    @classmethod
    def failed(cls, errors: list[UserError]) -> EventIngestPayload:
        return cls(event=None, transactions=[], replayed=False, notices=[], errors=errors)


@strawberry.type(description="One result per event, in order; a failed event writes nothing.")
class EventIngestBatchPayload:
    results: list[EventIngestPayload]
    errors: list[UserError]


@strawberry.type
class EventTypeSavePayload:
    event_type: EventType | None
    errors: list[UserError]


@strawberry.type
class EventQuery:
    @strawberry.field(description="Built-in, module and custom event types of the tenant.")
    async def event_types(self, info: Info[RequestContext, None]) -> list[EventType]:
        ctx = info.context
        tenant_id = require_tenant(ctx.principal)
        async with ctx.read() as conn:
            found = await service.list_event_types(conn, tenant_id, requests.module_types(ctx))
        return [
            EventType(
                name=t.name, description=t.description, json_schema=t.json_schema, builtin=t.builtin
            )
            for t in found
        ]


@strawberry.type
class EventMutation:
    @strawberry.mutation(description="Ingest one event (touchpoints with events:write).")
    async def event_ingest(
        self, info: Info[RequestContext, None], input: EventIngestInput
    ) -> EventIngestPayload:
        ctx = info.context
        require_scope(ctx.principal, Scope.EVENTS_WRITE)

        async def work(conn: AsyncConnection, events: DomainEvents) -> IngestResult:
            ingestion = requests.ingestions(ctx, requests.campaigns(ctx))(events)
            return await service.ingest(conn, ingestion, _event_input(input))

        result, errors = await run_mutation(info, work)
        return EventIngestPayload.of(result) if result else EventIngestPayload.failed(errors)

    @strawberry.mutation(
        description=f"Ingest up to {MAX_BATCH} events at once; each succeeds or fails alone "
        "(and is idempotent: sending a batch again after a failure replays what was written)."
    )
    async def event_ingest_batch(
        self, info: Info[RequestContext, None], input: EventIngestBatchInput
    ) -> EventIngestBatchPayload:
        ctx = info.context
        require_scope(ctx.principal, Scope.EVENTS_WRITE)
        if not 1 <= len(input.events) <= MAX_BATCH:
            error = ValidationFailed(f"send 1 to {MAX_BATCH} events", field="events")
            return EventIngestBatchPayload(results=[], errors=[UserError.of(error)])

        outcomes = await batches.ingest_batch(ctx, input.events, _event_input)
        results: list[EventIngestPayload] = []
        for index, outcome in enumerate(outcomes):
            if isinstance(outcome, LoyaltyError):
                where = f"events[{index}]"
                outcome.field = f"{where}.{outcome.field}" if outcome.field else where
                results.append(EventIngestPayload.failed([UserError.of(outcome)]))
            else:
                results.append(EventIngestPayload.of(outcome))
        return EventIngestBatchPayload(results=results, errors=[])

    @strawberry.mutation(description="Register or change a custom event type (tenant admins).")
    async def event_type_save(
        self, info: Info[RequestContext, None], input: EventTypeSaveInput
    ) -> EventTypeSavePayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        actor = require_principal(ctx.principal).actor

        async def work(conn: AsyncConnection, _: DomainEvents) -> EventType:
            if not isinstance(input.json_schema, dict):
                raise ValidationFailed("jsonSchema must be a JSON object", field="jsonSchema")
            saved = await service.save_event_type(
                conn,
                tenant_id,
                name=input.name,
                json_schema=input.json_schema,
                description=input.description,
                module_types=requests.module_types(ctx),
                actor=actor,
            )
            return EventType(
                name=saved.name,
                description=saved.description,
                json_schema=saved.json_schema,
                builtin=False,
            )

        saved, errors = await run_mutation(info, work)
        return EventTypeSavePayload(event_type=saved, errors=errors)


def _event_input(item: EventIngestInput | RefusedItem) -> EventInput:
    if isinstance(item, RefusedItem):  # a value no field takes, refused when coerced
        raise item.error
    if not isinstance(item.payload, dict):
        raise ValidationFailed("payload must be a JSON object", field="payload")
    member_id: uuid.UUID | None = None
    if item.member_id is not None:
        member_id = parse_id(item.member_id)
        if member_id is None:
            raise NotFound("member not found", field="memberId")
    return EventInput(
        type=item.type,
        source=item.source,
        external_id=item.external_id,
        payload=item.payload,
        member_id=member_id,
        identifier=(item.identifier.kind.value, item.identifier.value) if item.identifier else None,
        occurred_at=item.occurred_at,
    )


__all__ = ["Event", "EventMutation", "EventQuery", "EventType"]
