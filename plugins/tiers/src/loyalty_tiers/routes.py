"""The payment provider's webhook: subscription lifecycle events, signed.

``POST /modules/tiers/memberships/<tenant id>/events``. The provider signs each request
with the tenant's secret (``membership_webhook_secret`` in the module's settings):
``Loyalty-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">``. A request is
refused (401) without a valid signature, or when its time is more than
:data:`TOLERANCE_SECONDS` away from ours (a captured request cannot be replayed later); an
event whose id was seen already is acknowledged and changes nothing (a provider retries,
and an attacker replaying within the tolerance gains nothing). The body::

    {"id": "evt_1", "type": "started", "memberId": "...", "plan": "prime",
     "subscription": "sub_1", "occurredAt": "2026-12-01T10:00:00Z",
     "periodEnd": "2027-01-01T10:00:00Z"}

``type`` is ``started``, ``renewed``, ``payment_failed``, ``cancelled`` or ``ended``;
``periodEnd`` is optional. Bad input answers 400 with what is wrong and writes nothing; an
unknown tenant, member or plan answers 404.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from loyalty_core.sdk import (
    LoyaltyError,
    NotFound,
    RequestContext,
    ValidationFailed,
    aware_datetime,
    check_json,
    check_text,
    parse_id,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from loyalty_tiers import subscriptions
from loyalty_tiers.memberships import Event, Kind

TOLERANCE_SECONDS = 300
HEADER = "Loyalty-Signature"
MAX_BODY = 16_384


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The header value a provider sends for ``body`` at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


async def receive_event(request: Request) -> Response:
    context: RequestContext = request.state.context
    tenant_id = parse_id(str(request.path_params["tenant_id"]))
    if tenant_id is None:
        return _error(404, "not found")
    body = await request.body()
    if len(body) > MAX_BODY:
        return _error(413, "body too large")
    async with context.database.tenant_transaction(tenant_id) as conn:
        config = await subscriptions.webhook_config(conn, tenant_id)
    if config is None or config.secret is None:
        return _error(404, "not found")
    if not _verified(config.secret, request.headers.get(HEADER, ""), body):
        return _error(401, "bad or missing signature")
    try:
        provider_id, member_id, event = _parse(body)
        async with context.database.tenant_transaction(tenant_id) as conn:
            received = await subscriptions.receive(
                conn,
                tenant_id,
                provider_event_id=provider_id,
                member_id=member_id,
                event=event,
                grace_days=int(config.grace_days),
            )
    except NotFound as error:
        return _error(404, error.message)
    except LoyaltyError as error:
        return _error(400, error.message, error.field)
    return JSONResponse(
        {
            "replayed": received.replayed,
            "state": None if received.state is None else received.state.value,
        }
    )


def _verified(secret: str, header: str, body: bytes) -> bool:
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(time.time() - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def _parse(body: bytes) -> tuple[str, uuid.UUID, Event]:
    try:
        data: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed("the body is not JSON") from None
    if not isinstance(data, dict):
        raise ValidationFailed("the body is a JSON object")
    check_json(data)
    provider_id = _text(data, "id", 200)
    member_id = parse_id(_text(data, "memberId", 100))
    if member_id is None:
        raise NotFound("member not found", field="memberId")
    try:
        kind = Kind(_text(data, "type", 20))
    except ValueError:
        raise ValidationFailed("type: " + ", ".join(k.value for k in Kind), field="type") from None
    period_end = data.get("periodEnd")
    event = Event(
        kind=kind,
        occurred_at=aware_datetime(_text(data, "occurredAt", 40), "occurredAt"),
        plan_code=_text(data, "plan", 40),
        subscription=_text(data, "subscription", 200),
        period_end=None
        if period_end is None
        else aware_datetime(_text(data, "periodEnd", 40), "periodEnd"),
    )
    return provider_id, member_id, event


def _text(data: dict[str, Any], field: str, most: int) -> str:
    value = data.get(field)
    if not isinstance(value, str) or not 1 <= len(value) <= most:
        raise ValidationFailed(f"{field}: a string of 1 to {most} characters", field=field)
    return check_text(value, field)


def _error(status: int, message: str, field: str | None = None) -> Response:
    return JSONResponse({"error": message, "field": field}, status)


ROUTES = [Route("/memberships/{tenant_id}/events", receive_event, methods=["POST"])]

__all__ = ["HEADER", "ROUTES", "TOLERANCE_SECONDS", "receive_event", "sign"]
