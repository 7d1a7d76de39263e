"""Events as newline-delimited JSON: the bulk endpoint's body and answer.

A till's end-of-day file or a shop's export is a list of events, one JSON object per line,
each written like ``EventIngestInput`` (``type``, ``source``, ``externalId``, ``payload``,
``memberId`` or ``identifier`` ``{kind, value}``, ``occurredAt``). They are ingested as
``eventIngestBatch`` ingests, :data:`MAX_BATCH` at a time, and answered line for line: each
line's event id, member, transactions, ``replayed`` and ``notices`` (what the sender should
know of a stored event, such as ``CURRENCY_NOT_EARNED``), or its errors, with the line number.
Without GraphQL the 1000 events of a batch are neither coerced into input objects nor their
results completed field by field, which took a third of a batch's CPU. A line is checked
as GraphQL checks its variables (:mod:`loyalty_core.inputs`: text the database can store, the
limits of the payload, a time with its offset, at most :data:`MAX_LINE_BYTES`), so a hostile
line fails alone, with its field, and the others are ingested.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson

from loyalty_core.context import RequestContext
from loyalty_core.errors import LoyaltyError, NotFound, ValidationFailed
from loyalty_core.events import batches
from loyalty_core.events.models import EventInput
from loyalty_core.ids import parse_id
from loyalty_core.inputs import MAX_LINE_BYTES, aware_datetime, check_json, check_text

MEDIA_TYPE = "application/x-ndjson"
MAX_LINES = 10_000
"""Events in one body; a larger file is sent in parts (each line is idempotent)."""
MAX_BATCH = batches.MAX_BATCH
"""Events ingested together, as one ``eventIngestBatch`` would."""


async def ingest(context: RequestContext, body: bytes) -> bytes:
    """Ingest the events of an NDJSON body (at most :data:`MAX_LINES`, checked by
    :func:`lines`); the answer, one JSON line per event line."""
    numbered = list(lines(body))
    answer = bytearray()
    for start in range(0, len(numbered), MAX_BATCH):
        part = numbered[start : start + MAX_BATCH]
        outcomes = await batches.ingest_batch(context, [item for _, item in part], event_of)
        for (number, _), outcome in zip(part, outcomes, strict=True):
            answer += orjson.dumps(_answer(number, outcome), default=str) + b"\n"
    return bytes(answer)


def lines(body: bytes) -> Iterator[tuple[int, Any]]:
    """``(line number, decoded JSON or the error decoding it)`` of every non-blank line.
    Raises ValidationFailed beyond :data:`MAX_LINES`."""
    count = 0
    body = body.removeprefix(b"\xef\xbb\xbf")  # a byte order mark, as some exports write
    for number, line in enumerate(body.split(b"\n"), start=1):  # "\r\n" too: JSON space
        if not line.strip():
            continue
        count += 1
        if count > MAX_LINES:
            raise ValidationFailed(f"send at most {MAX_LINES} events at once", field="body")
        if len(line) > MAX_LINE_BYTES:
            yield number, ValidationFailed(f"longer than {MAX_LINE_BYTES} bytes", field="line")
            continue
        try:
            yield number, orjson.loads(line)
        except orjson.JSONDecodeError as exc:  # orjson refuses lone surrogates, too deep nesting
            yield number, ValidationFailed(f"not JSON: {exc.msg}", field="line")


def event_of(item: Any) -> EventInput:
    """The event a line describes; ValidationFailed (with the field) when it is malformed."""
    if isinstance(item, LoyaltyError):
        raise item
    if not isinstance(item, dict):
        raise ValidationFailed("not a JSON object", field="line")
    payload = item.get("payload")
    if not isinstance(payload, dict):
        raise ValidationFailed("payload must be a JSON object", field="payload")
    check_json(payload, "payload")
    return EventInput(
        type=_text(item, "type"),
        source=_text(item, "source"),
        external_id=_text(item, "externalId"),
        payload=payload,
        member_id=_member_id(item.get("memberId")),
        identifier=_identifier(item.get("identifier")),
        occurred_at=_moment(item.get("occurredAt")),
    )


def _text(item: dict[str, Any], name: str) -> str:
    value = item.get(name)
    if not isinstance(value, str):
        raise ValidationFailed(f"{name} must be a string", field=name)
    return check_text(value, name)


def _member_id(value: object) -> uuid.UUID | None:
    if value is None:
        return None
    member_id = parse_id(value) if isinstance(value, str) else None
    if member_id is None:
        raise NotFound("member not found", field="memberId")
    return member_id


def _identifier(value: object) -> tuple[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(value.get(k), str) for k in ("kind", "value")
    ):
        raise ValidationFailed("identifier needs kind and value", field="identifier")
    kind = check_text(value["kind"], "identifier.kind")
    return kind.lower(), check_text(value["value"], "identifier.value")


def _moment(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationFailed("occurredAt must be a string (RFC 3339)", field="occurredAt")
    return aware_datetime(value, "occurredAt")


def _answer(number: int, outcome: batches.Outcome) -> dict[str, Any]:
    if isinstance(outcome, LoyaltyError):
        error = {"code": outcome.code.value, "field": outcome.field, "message": outcome.message}
        return {"line": number, "errors": [error]}
    event = outcome.event
    return {
        "line": number,
        "eventId": event.id,
        "memberId": event.member_id,
        "replayed": outcome.replayed,
        "transactions": [
            {"id": t.id, "kind": t.kind.name, "reason": t.reason}  # as GraphQL names it
            for t in outcome.transactions
        ],
        "notices": [{"code": n.code.value, "message": n.message} for n in outcome.notices],
        "errors": [],
    }


__all__ = ["MAX_BATCH", "MAX_LINES", "MEDIA_TYPE", "event_of", "ingest", "lines"]
