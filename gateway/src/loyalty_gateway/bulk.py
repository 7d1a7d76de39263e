"""``POST /events``: events in bulk as newline-delimited JSON, answered line for line.

For a till's end-of-day file or a shop's export: ``Content-Type: application/x-ndjson``, one
event per line written as ``eventIngestBatch`` takes it, up to ``MAX_LINES`` lines and
:data:`MAX_BODY_BYTES`; the same credentials and ``events:write`` scope as the mutation. The
answer (200, NDJSON) has one line per event line, in order, with its line number: the event,
its transactions and ``replayed``, or its errors. Events are ingested as a batch is
(``loyalty_core.events.ndjson``), each succeeding or failing alone and idempotent by external
id, so a body cut off midway is sent again whole.

A request refused as a whole gets a JSON ``{"errors": [...]}``: 401 for credentials, 403
without the scope, 413 past the limits, 415 for another content type, 503 with ``Retry-After``
(code ``UNAVAILABLE``) when the database went away: the body is sent again whole, and the
events that were ingested before replay.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from loyalty_core.auth import Scope, require_scope
from loyalty_core.errors import AuthError, LoyaltyError, Unauthenticated
from loyalty_core.events import ndjson
from starlette.types import Receive, Send
from starlette.types import Scope as AsgiScope

from loyalty_gateway.errors import INTERNAL, INTERNAL_MESSAGE, error, is_unavailable
from loyalty_gateway.http import (
    JSON,
    UNAUTHORIZED_HEADERS,
    Disconnected,
    HttpRequest,
    Refused,
    Reply,
    json_reply,
    read_body,
    serve,
    unavailable_reply,
)
from loyalty_gateway.metrics import Outcome
from loyalty_gateway.state import GatewayState

PATH = "/events"
MAX_BODY_BYTES = 16 * 1024 * 1024
OPERATION = "events.ndjson"
"""The ``operation`` label of these requests in the gateway's metrics."""

_log = logging.getLogger(__name__)


class BulkEvents:
    """The ``/events`` endpoint, a plain ASGI app like the GraphQL one."""

    def __init__(self, gateway: GatewayState) -> None:
        self._gateway = gateway

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        await serve(self._gateway, scope, receive, send, self._reply)

    async def _reply(self, request: HttpRequest, request_id: str) -> Reply:
        try:
            content_type = request.headers.get("content-type", "")
            if content_type.partition(";")[0].strip().lower() != ndjson.MEDIA_TYPE:
                raise Refused(415, f"send the events as {ndjson.MEDIA_TYPE}, one per line")
            caller = await self._gateway.authenticator.caller(request.headers)
            require_scope(caller.principal, Scope.EVENTS_WRITE)
            body = await read_body(request, MAX_BODY_BYTES)
            context = self._gateway.context(caller, request_id)
            try:
                answer = await ndjson.ingest(context, body)
            finally:
                await context.close()
        except Refused as refused:
            refusal = {"errors": [error(refused.message, refused.code)]}
            return json_reply(refusal, refused.status, JSON)
        except Unauthenticated as exc:
            reply = json_reply(_errors(exc), 401, JSON, UNAUTHORIZED_HEADERS)
            return replace(reply, outcome=Outcome.UNAUTHENTICATED)
        except AuthError as exc:
            return json_reply(_errors(exc), 403, JSON)
        except LoyaltyError as exc:  # too many lines
            status = 413 if exc.field == "body" else 400
            return json_reply(_errors(exc), status, JSON)
        except Disconnected:
            raise
        except Exception as exc:
            if is_unavailable(exc):
                return replace(unavailable_reply(JSON), operation=OPERATION)
            _log.exception("bulk ingest failed")
            masked = error(INTERNAL_MESSAGE, INTERNAL, requestId=request_id)
            return replace(json_reply({"errors": [masked]}, 500, JSON), outcome=Outcome.INTERNAL)
        return Reply(answer, 200, ndjson.MEDIA_TYPE, operation=OPERATION, outcome=Outcome.OK)


def _errors(exc: LoyaltyError | AuthError) -> dict[str, object]:
    return {"errors": [error(exc.message, exc.code.value)]}


__all__ = ["MAX_BODY_BYTES", "PATH", "BulkEvents"]
