"""A module whose in-transaction handler refuses one kind of event: ``veto.claim`` events are
accepted by their schema and then refused while being ingested, as a module's rule can."""

from __future__ import annotations

from loyalty_core.sdk import (
    DomainEvent,
    EventHandler,
    EventTypeSpec,
    HandlerContext,
    ModuleInfo,
    ValidationFailed,
    hookimpl,
)

NAME = "veto"
VETOED = "veto.claim"


async def refuse_claims(event: DomainEvent, context: HandlerContext) -> None:
    if event.payload.get("type") == VETOED:
        raise ValidationFailed("claims are refused", field="type")


@hookimpl
def loyalty_module() -> ModuleInfo:
    return ModuleInfo(name=NAME, version="1.0.0", description="Refuses claims while ingesting.")


@hookimpl
def loyalty_event_types() -> list[EventTypeSpec]:
    return [EventTypeSpec(VETOED, {"type": "object"}, "A claim, always refused.")]


@hookimpl
def loyalty_event_handlers() -> list[EventHandler]:
    return [EventHandler("event.ingested", refuse_claims)]
