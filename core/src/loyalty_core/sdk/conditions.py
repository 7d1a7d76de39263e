"""Conditions in CEL as modules use them: ``from loyalty_core.sdk import conditions``.

A module whose retailer writes conditions (a badge that counts only purchases over 10 EUR,
an offer for one store) uses the rules engine's: the same language, the same variables
(``event``, ``member``, ``now``), the same check on save (a field the event type does not
have is refused with its line and column, like a syntax error) and the same compiled
programs, cached once per expression text for the process.

A condition over the member alone (who may see a reward, with no event at hand) is checked
with :func:`check_member` and sees what :func:`member_variables` reads: the member now, its
segments and the facts the tenant's modules contribute (``member.tier``, see
:func:`member_facts`).

At run time a condition can still fail for one event (a division by zero, a number compared
with a string): :func:`evaluate` raises :class:`ConditionFailed`, and the module skips its
definition for that event, counts the failure and shows it on the definition, as campaign
health does. It never fails the ingestion.

A module whose retailer writes an expression over the module's own variables (a tier
ladder's qualifying metric over the member's window aggregates) checks it on save with
:func:`check_variables` and computes it with :func:`evaluate_value`: the same language, the
same compiled-program cache, the same ``ConditionFailed`` at run time.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.context import RequestContext
from loyalty_core.errors import LoyaltyError
from loyalty_core.events.requests import module_types
from loyalty_core.members import service as _members
from loyalty_core.modules.contributions import EventTypeSpec, MemberFact
from loyalty_core.modules.topics import EventIngested
from loyalty_core.rules import conditions as _conditions
from loyalty_core.rules import engine as _engine
from loyalty_core.rules import repository as _rules_repo
from loyalty_core.rules import schedules as _schedules
from loyalty_core.rules import segments as _segments
from loyalty_core.rules import service as _rules
from loyalty_core.rules.conditions import (
    ConditionFailed,
    InvalidCondition,
    check_variables,
    evaluate,
    evaluate_value,
)


async def segment_names(conn: AsyncConnection, tenant_id: uuid.UUID) -> frozenset[str]:
    """The names of the tenant's segments: what a definition targeting a segment is checked
    against before it is saved. A condition asks whether the member is in one with
    ``"regulars" in member.segments``."""
    return frozenset(segment.name for segment in await _segments.list_segments(conn, tenant_id))


def event_types(context: RequestContext) -> Mapping[str, EventTypeSpec]:
    """The event types the caller's tenant's enabled modules declare, by name: what
    :func:`check` needs besides the built-in and the tenant's own types."""
    return module_types(context)


async def check(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    event_type: str,
    expression: str,
    module_types: Mapping[str, EventTypeSpec],
    *,
    event_type_field: str = "eventType",
    field: str = "condition",
) -> None:
    """Refuse a definition's event type or condition before it is saved: an event type the
    tenant does not have is ``UNKNOWN_EVENT_TYPE`` on ``event_type_field``; a condition that
    does not compile or names a field events of that type lack is ``INVALID_CONDITION`` on
    ``field``, with its line and column. An empty condition holds for every event."""
    try:
        schema = await _rules.trigger_schema(conn, tenant_id, event_type, module_types)
    except LoyaltyError as exc:
        exc.field = event_type_field
        raise
    _conditions.check(expression, schema, field=field)


async def variables(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    event: EventIngested,
    expressions: Iterable[str],
) -> dict[str, Any]:
    """What ``expressions`` see for ``event``, as campaigns see it: ``event`` (type, source,
    externalId, amount, currency, occurredAt, payload), ``now`` (the event's time) and
    ``member``. Built once for all the conditions an event meets: the member is read only
    when one of them names it, and its aggregates and segments only when one names those,
    so conditions on the event alone cost no statement."""
    found: dict[str, Any] = {
        "event": {
            "type": event.type,
            "source": event.source,
            "externalId": event.external_id,
            "amount": event.amount,
            "currency": event.currency,
            "occurredAt": event.occurred_at,
            "payload": event.payload,
        },
        "now": event.occurred_at,
    }
    wanted: set[str] = set()
    for expression in expressions:
        fields = _conditions.member_fields(expression)
        if fields is None:
            wanted = set(_conditions.MEMBER_FIELDS)
            break
        wanted |= fields
    if not wanted:
        return found
    member = await _members.get_member(conn, tenant_id, event.member_id)
    aggregates = None
    if not wanted <= _conditions.MEMBER_ROW_FIELDS:
        aggregates = await _rules_repo.member_aggregates(
            conn,
            tenant_id,
            event.member_id,
            event_type=event.type,
            upto=event.event_id,
            at=event.occurred_at,
        )
    found["member"] = await _engine.member_variables(
        conn, tenant_id, member, aggregates, event.occurred_at
    )
    return found


def member_facts(context: RequestContext) -> tuple[MemberFact, ...]:
    """The member facts the caller's tenant's enabled modules contribute (``member.tier``):
    their names are what :func:`check_member` accepts besides the core's fields, and
    :func:`member_variables` reads them."""
    return _engine.module_facts(context.registry, context.enabled_modules)


def check_member(
    expression: str, *, facts: Iterable[MemberFact] = (), field: str = "condition"
) -> None:
    """Refuse a condition over the member alone before it is saved: one that does not
    compile, or names a field the member lacks (an event's field included: there is no
    event), is ``INVALID_CONDITION`` on ``field`` with its line and column. ``eventCount``
    and ``eventsLast<N>Days`` count the trigger's event type, so they are refused too. An
    empty condition holds for everyone."""
    _conditions.check_member(expression, field=field, facts=[fact.name for fact in facts])


async def member_variables(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    expressions: Iterable[str],
    *,
    now: datetime,
    facts: Sequence[MemberFact] = (),
) -> dict[str, Any]:
    """What conditions over the member alone (:func:`check_member`) see now: ``member`` and
    ``now``, read once for all of ``expressions``. The member's row always (one statement
    by primary key); its aggregates, module ``facts`` and segments only when an expression
    names them (one more statement), as campaigns read them."""
    member = await _members.get_member(conn, tenant_id, member_id)
    wanted: set[str] = set()
    for expression in expressions:
        fields = _conditions.member_fields(expression)
        if fields is None:
            wanted = set(_conditions.MEMBER_FIELDS)
            break
        wanted |= fields
    aggregates, read = None, tuple(facts)
    if not wanted <= _conditions.MEMBER_ROW_FIELDS:
        aggregates = await _rules_repo.member_aggregates(
            conn, tenant_id, member_id, event_type="", upto=_schedules.LAST_ID, at=now, facts=read
        )
    return {
        "member": await _engine.member_variables(conn, tenant_id, member, aggregates, now, read),
        "now": now,
    }


__all__ = [
    "ConditionFailed",
    "InvalidCondition",
    "check",
    "check_member",
    "check_variables",
    "evaluate",
    "evaluate_value",
    "event_types",
    "member_facts",
    "member_variables",
    "segment_names",
    "variables",
]
