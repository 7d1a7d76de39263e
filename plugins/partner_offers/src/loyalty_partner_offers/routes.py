"""The catalogue in bulk: ``POST /modules/partner_offers/catalog`` with NDJSON; and the
performance report as a CSV download: ``GET /modules/partner_offers/performance.csv``.

A partner's system (with its own API key) or the operator (an admin token; ``?partnerId=``
to sync for a partner) sends one offer per line, as ``offerCatalogSync`` takes them::

    {"externalId": "tue-2x", "version": 7, "offer": {"title": "Double points on Tuesdays",
     "startsAt": "2026-12-01T00:00:00+01:00", "endsAt": "2027-01-01T00:00:00+01:00",
     "reward": "MULTIPLIER", "value": "2", "activation": "CLIP"}}
    {"externalId": "old-offer", "version": 3, "retire": true}

All lines are synced in one transaction, each at its version (older or equal versions write
nothing). A bad line answers 400 naming the line and its field, and nothing is written; a
caller who may not sync answers 403. The answer counts the lines and those written.

The download takes ``since`` and ``until`` (ISO dates, the tenant's days) and optionally
``offerId`` (repeated), and answers what ``offerPerformance``'s ``csv`` holds: a partner's
key its own offers' rows (with the money it owes), the operator every offer's.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from loyalty_core.sdk import (
    LoyaltyError,
    RequestContext,
    ValidationFailed,
    aware_datetime,
    check_json,
    require_id,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from loyalty_partner_offers import catalogue, models, reporting
from loyalty_partner_offers.schema import caller_of, sync_items

E = TypeVar("E", models.RewardKind, models.Activation)
MAX_BODY = 8 * 1024 * 1024
MAX_LINES = 500


async def receive_catalog(request: Request) -> Response:
    context: RequestContext = request.state.context
    if context.principal is None:
        return _error(401, "a credential is needed", None)
    body = await request.body()
    if len(body) > MAX_BODY:
        return _error(413, "body too large", None)
    try:
        items = _parse(body)
        async with context.write() as (conn, _):
            caller = await caller_of(context, conn)
            partner_id = caller.partner_id
            raw = request.query_params.get("partnerId")
            if raw is not None:
                if caller.partner_id is not None:
                    raise ValidationFailed("a partner's key syncs its own", field="partnerId")
                partner_id = require_id(raw, field="partnerId")
            results = await sync_items(context, conn, caller, partner_id, items)
    except LoyaltyError as error:
        status = {"FORBIDDEN": 403, "NOT_FOUND": 404}.get(error.code.value, 400)
        return _error(status, error.message, error.field, error.code.value)
    return JSONResponse({"synced": len(results), "written": sum(1 for r in results if r.written)})


async def performance_csv(request: Request) -> Response:
    context: RequestContext = request.state.context
    if context.principal is None:
        return _error(401, "a credential is needed", None)
    query = request.query_params
    try:
        since, until = _day(query.get("since"), "since"), _day(query.get("until"), "until")
        ids = [require_id(raw, field="offerId") for raw in query.getlist("offerId")[:100]]
        async with context.read() as conn:
            caller = await caller_of(context, conn)
            rows = await reporting.performance(
                conn,
                caller.tenant_id,
                partner_id=caller.partner_id,
                offer_ids=ids or None,
                since=since,
                until=until,
                zone=context.tenant.timezone if context.tenant is not None else "UTC",
            )
    except LoyaltyError as error:
        status = {"FORBIDDEN": 403, "NOT_FOUND": 404}.get(error.code.value, 400)
        return _error(status, error.message, error.field, error.code.value)
    return Response(
        reporting.to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="offer-performance-{since}-{until}.csv"',
            "Cache-Control": "no-store",
        },
    )


def _day(value: str | None, field: str) -> date:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        raise ValidationFailed("an ISO date (2026-12-01)", field=field) from None


def _parse(body: bytes) -> list[tuple[str, int, catalogue.Draft | None]]:
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise ValidationFailed("the body is not UTF-8") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValidationFailed("no offers", field="offers")
    if len(lines) > MAX_LINES:
        raise ValidationFailed(f"at most {MAX_LINES} lines", field="offers")
    items: list[tuple[str, int, catalogue.Draft | None]] = []
    for number, line in enumerate(lines):
        try:
            items.append(_item(line))
        except ValidationFailed as error:
            error.field = f"offers[{number}].{error.field or ''}".rstrip(".")
            raise
    return items


def _item(line: str) -> tuple[str, int, catalogue.Draft | None]:
    try:
        data = json.loads(line)
    except ValueError:
        raise ValidationFailed("not a JSON object") from None
    if not isinstance(data, dict):
        raise ValidationFailed("not a JSON object")
    check_json(data)
    external_id = data.get("externalId")
    version = data.get("version")
    if not isinstance(external_id, str):
        raise ValidationFailed("a string", field="externalId")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValidationFailed("a whole number", field="version")
    if data.get("retire") is True:
        return external_id, version, None
    offer = data.get("offer")
    if not isinstance(offer, dict):
        raise ValidationFailed("an offer to upsert, or retire", field="offer")
    return external_id, version, draft_of(offer)


def draft_of(data: dict[str, Any]) -> catalogue.Draft:
    """An offer of a line, with the fields and enum names of ``OfferInput``."""
    req = _dict(data.get("requirements", {}), "requirements")
    value = _optional_str(data, "value")
    effect = data.get("effect")
    if effect is not None:
        effect = _dict(effect, "effect")
        params = _dict(effect.get("params") or {}, "effect.params")
        effect = {"kind": _str(effect, "kind"), "params": params}
    return catalogue.Draft(
        title=_str(data, "title"),
        starts_at=_time(data, "startsAt"),
        ends_at=_time(data, "endsAt"),
        terms=models.Terms(
            reward=_enum(models.RewardKind, data, "reward", None),
            value=Decimal(0) if value is None else catalogue.decimal_of(value, "value"),
            effect=effect,
            requirements=models.Requirements(
                minimum_spend=_int(req, "minimumSpend", 0) or 0,
                stores=_strings(req, "stores"),
                channels=_strings(req, "channels"),
                skus=_strings(req, "skus"),
                categories=_strings(req, "categories"),
                first_purchase=req.get("firstPurchase") is True,
                weekdays=_ints(req, "weekdays"),
            ),
            per_member_limit=_int(data, "perMemberLimit", 1) or 1,
        ),
        activation=_enum(models.Activation, data, "activation", models.Activation.CLIP),
        description=_str(data, "description", ""),
        image_url=_optional_str(data, "imageUrl"),
        terms_text=_str(data, "termsText", ""),
        segment=_str(data, "segment", ""),
        budget=_int(data, "budget", None),
        daily_cap=_int(data, "dailyCap", None),
    )


def _dict(value: object, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationFailed("a JSON object", field=field)
    return value


def _str(data: dict[str, Any], field: str, default: str | None = None) -> str:
    value = data.get(field, default)
    if not isinstance(value, str):
        raise ValidationFailed("a string", field=field)
    return value


def _optional_str(data: dict[str, Any], field: str) -> str | None:
    return None if data.get(field) is None else _str(data, field)


def _int(data: dict[str, Any], field: str, default: int | None) -> int | None:
    value = data.get(field, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationFailed("a whole number", field=field)
    return value


def _strings(data: dict[str, Any], field: str) -> tuple[str, ...]:
    value = data.get(field, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationFailed("a list of strings", field=field)
    return tuple(value)


def _ints(data: dict[str, Any], field: str) -> tuple[int, ...]:
    value = data.get(field, [])
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise ValidationFailed("a list of whole numbers", field=field)
    return tuple(value)


def _time(data: dict[str, Any], field: str) -> datetime:
    return aware_datetime(_str(data, field), field)


def _enum(kind: type[E], data: dict[str, Any], field: str, default: E | None) -> E:
    value = data.get(field)
    if value is None and default is not None:
        return default
    if not isinstance(value, str) or value not in kind.__members__:
        raise ValidationFailed(f"one of {', '.join(kind.__members__)}", field=field)
    return kind[value]


def _error(status: int, message: str, field: str | None, code: str = "INVALID_INPUT") -> Response:
    return JSONResponse({"code": code, "field": field, "message": message}, status_code=status)


ROUTES = [
    Route("/catalog", receive_catalog, methods=["POST"]),
    Route("/performance.csv", performance_csv, methods=["GET"]),
]

__all__ = ["ROUTES", "draft_of", "performance_csv", "receive_catalog"]
