"""GraphQL over HTTP, per the GraphQL-over-HTTP specification, as one lean ASGI endpoint.

- POST with ``application/json`` (``query``, ``variables``, ``operationName``, ``extensions``);
  GET with the same as URL parameters, for queries only (a mutation over GET is 405).
- Responses are ``application/graphql-response+json`` when the client names that media type
  (and prefers it at least as much as ``application/json``), else ``application/json``: no
  Accept header, ``*/*`` or ``application/*`` are what legacy clients send, and the spec asks
  to answer them ``application/json``. With the former, a request that never reached
  execution (malformed, parse or validation errors, unknown operation, variables that do not
  coerce) is a 400; with the latter every well-formed GraphQL response is a 200, as legacy
  clients expect.
- 401 for a credential that does not verify, 406 for an Accept we cannot serve, 413 over
  :data:`MAX_BODY_BYTES`, 415 for a body that is not JSON.
- 503 with ``Retry-After`` when the database went away before execution (reading the
  caller); during execution, the fields it cut off have errors with ``extensions.code``
  ``UNAVAILABLE`` and the response is as usual.
- GraphiQL for browsers (``Accept: text/html``), in development only; the page loads its
  scripts from the gateway (:mod:`loyalty_gateway.graphiql`), never from a CDN.

Each request: authenticate, load the tenant and its modules, take the schema of that module set
from the cache, take the document from that schema's document cache (parsed, validated and
limited once), execute with graphql-core, answer with orjson.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import orjson
from graphql import OperationType
from loyalty_core.auth import Role
from loyalty_core.errors import Unauthenticated
from loyalty_core.ids import json_default
from starlette.types import Receive, Scope, Send

from loyalty_gateway.auth import Caller
from loyalty_gateway.errors import (
    BAD_REQUEST,
    INTERNAL,
    INTERNAL_MESSAGE,
    RETRY_AFTER_SECONDS,
    coded,
    error,
    format_result,
    is_request_error,
    is_unavailable,
    unavailable_reply_body,
)
from loyalty_gateway.execution import GraphQLParams, execute_operation
from loyalty_gateway.graphiql import graphiql_page
from loyalty_gateway.logs import request_id_var
from loyalty_gateway.metrics import Outcome
from loyalty_gateway.state import GatewayState

MAX_BODY_BYTES = 1024 * 1024
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
HTML = "text/html; charset=utf-8"
UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'Bearer realm="loyalty"'}

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_log = logging.getLogger(__name__)


@dataclass(slots=True)
class Reply:
    body: bytes
    status: int
    media_type: str
    headers: Mapping[str, str] | None = None
    operation: str = "unknown"
    outcome: str = Outcome.INVALID


@dataclass(slots=True)
class HttpRequest:
    """What the endpoint reads of an HTTP request: method, headers (lower-case names, the
    first of repeated ones, as Starlette's ``Headers.get`` gives) and the query string."""

    method: str
    headers: Mapping[str, str]
    query_string: bytes
    receive: Receive

    @classmethod
    def of(cls, scope: Scope, receive: Receive) -> HttpRequest:
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
        return cls(scope["method"], headers, scope["query_string"], receive)

    def query_params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query_string.decode("latin-1"), keep_blank_values=True))


class Refused(Exception):
    """A request refused before GraphQL: its status, message and code."""

    def __init__(self, status: int, message: str, code: str = BAD_REQUEST) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


class Disconnected(Exception):
    """The client went away before its body arrived: there is no one to answer."""


class GraphQLHttp:
    """The ``/graphql`` endpoint for GET and POST, as a plain ASGI app.

    Nearly every request a gateway serves comes here, and for a small operation Starlette's
    request and response objects (a linear scan of the raw headers per look-up, a mutable
    header list per response) cost as much as running it: the endpoint reads the scope and
    writes the two response messages itself.
    """

    def __init__(self, gateway: GatewayState) -> None:
        self._gateway = gateway
        self._graphiql = graphiql_page()
        # "Did you mean" reveals the schema, so it is shown where introspection is allowed.
        self._suggestions = gateway.settings.introspection_allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await serve(self._gateway, scope, receive, send, self._reply)

    async def _reply(self, request: HttpRequest, request_id: str) -> Reply:
        accept = request.headers.get("accept", "")
        if self._wants_graphiql(request, accept):
            return Reply(self._graphiql, 200, HTML, operation="graphiql", outcome=Outcome.OK)
        media_type = negotiate(accept)
        if media_type is None:
            body = {"errors": [error(f"cannot answer in {accept!r}", BAD_REQUEST)]}
            return json_reply(body, 406, JSON)
        try:
            params = await _params(request)
            caller = await self._gateway.authenticator.caller(request.headers)
            return await self._execute(request, caller, params, media_type, request_id)
        except Refused as refused:
            body = {"errors": [error(refused.message, refused.code)]}
            return json_reply(body, refused.status, media_type)
        except Unauthenticated as exc:
            body = {"errors": [error(exc.message, exc.code.value)]}
            reply = json_reply(body, 401, media_type, UNAUTHORIZED_HEADERS)
            return replace(reply, outcome=Outcome.UNAUTHENTICATED)
        except Disconnected:
            raise
        except Exception as exc:
            if is_unavailable(exc):
                return unavailable_reply(media_type)
            _log.exception("GraphQL request failed")
            masked = error(INTERNAL_MESSAGE, INTERNAL, requestId=request_id)
            return replace(
                json_reply({"errors": [masked]}, 500, media_type), outcome=Outcome.INTERNAL
            )

    async def _execute(
        self,
        request: HttpRequest,
        caller: Caller,
        params: GraphQLParams,
        media_type: str,
        request_id: str,
    ) -> Reply:
        # application/json answers every well-formed GraphQL response with 200 (legacy clients).
        request_error_status = 400 if media_type == GRAPHQL_RESPONSE_JSON else 200
        compiled = self._gateway.schemas.get(caller.modules)
        prepared = await compiled.documents.prepare(params.query)
        if prepared.document is None:
            body = {
                "errors": coded(
                    prepared.errors,
                    prepared.code or BAD_REQUEST,
                    suggestions=self._suggestions,
                )
            }
            return json_reply(body, request_error_status, media_type)
        operation = prepared.operation(params.operation_name)
        if operation is None:
            message = (
                f"no operation named {params.operation_name!r}"
                if params.operation_name
                else "the document holds several operations: give operationName"
            )
            body = {"errors": [error(message, BAD_REQUEST)]}
            return json_reply(body, request_error_status, media_type)
        kind = operation.operation
        if request.method in ("GET", "HEAD") and kind is not OperationType.QUERY:
            body = {"errors": [error(f"{kind.value}s need POST", BAD_REQUEST)]}
            return json_reply(body, 405, media_type, {"Allow": "POST"}, kind.value)
        if kind is OperationType.SUBSCRIPTION:
            message = "subscriptions are served over WebSocket (graphql-transport-ws)"
            body = {"errors": [error(message, BAD_REQUEST)]}
            return json_reply(body, request_error_status, media_type, operation=kind.value)
        context = self._gateway.context(caller, request_id)
        try:
            variables = prepared.coerced_variables(operation, params.variables)
            result = await execute_operation(
                compiled, prepared.document, params, context, variables
            )
        finally:
            await context.close()
            if kind is OperationType.MUTATION:
                self._forget_changes_of(caller)
        if is_request_error(result):
            body = {
                "errors": coded(
                    result.errors or [],
                    BAD_REQUEST,
                    suggestions=self._suggestions,
                )
            }
            return json_reply(body, request_error_status, media_type, operation=kind.value)
        outcome = Outcome.ERRORS if result.errors else Outcome.OK
        body = format_result(result, request_id=request_id)
        return json_reply(body, 200, media_type, operation=kind.value, outcome=outcome)

    def _forget_changes_of(self, caller: Caller) -> None:
        """After a tenant admin's mutation, drop what this process cached of the tenant (its
        row, modules, keys): the change reaches every replica as a notification, but the
        admin's next request, here, must not be answered from before it."""
        principal = caller.principal
        if principal is not None and principal.role is Role.ADMIN and caller.tenant is not None:
            self._gateway.authenticator.callers.changed(caller.tenant.id)

    def _wants_graphiql(self, request: HttpRequest, accept: str) -> bool:
        return (
            request.method == "GET"
            and self._gateway.settings.is_development
            and "text/html" in accept
            and "query" not in request.query_params()
        )


async def serve(
    gateway: GatewayState,
    scope: Scope,
    receive: Receive,
    send: Send,
    reply_to: Callable[[HttpRequest, str], Awaitable[Reply]],
) -> None:
    """Answer one HTTP request with what ``reply_to`` makes of it (given the request and its
    id, which log lines carry), and count it in the gateway's metrics."""
    started = time.perf_counter()
    request = HttpRequest.of(scope, receive)
    request_id = request_id_of(request.headers)
    token = request_id_var.set(request_id)
    try:
        reply = await reply_to(request, request_id)
    except Disconnected:
        return
    finally:
        request_id_var.reset(token)
    await send_reply(send, reply, request_id, head=request.method == "HEAD")
    gateway.metrics.requests.observe(reply.operation, reply.outcome, time.perf_counter() - started)


async def send_reply(send: Send, reply: Reply, request_id: str, *, head: bool = False) -> None:
    """Write ``reply`` as the two ASGI response messages (no body for ``HEAD``)."""
    headers = [
        (b"content-type", reply.media_type.encode()),
        (b"content-length", str(len(reply.body)).encode()),
        (b"x-request-id", request_id.encode()),
    ]
    if reply.headers:
        headers += [(k.lower().encode(), v.encode()) for k, v in reply.headers.items()]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else reply.body})


def negotiate(accept: str) -> str | None:
    """The response media type for an Accept header; None when we can serve none it accepts.

    The spec's media type only when the client names it, and wins a tie with
    ``application/json`` then; no header and wildcards are ``application/json``, which the
    GraphQL-over-HTTP spec asks for clients that may not know the newer type."""
    if not accept.strip():
        return JSON
    best: str | None = None
    best_quality = 0.0
    for part in accept.split(","):
        media_range, _, parameters = part.partition(";")
        media_range = media_range.strip().lower()
        quality = _quality(parameters)
        if media_range == GRAPHQL_RESPONSE_JSON:
            candidate = GRAPHQL_RESPONSE_JSON
        elif media_range in (JSON, "application/*", "*/*"):
            candidate = JSON
        else:
            continue
        better = quality > best_quality
        tie_to_spec = quality == best_quality and candidate == GRAPHQL_RESPONSE_JSON
        if quality > 0 and (better or tie_to_spec):
            best, best_quality = candidate, quality
    return best


def request_id_of(headers: Mapping[str, str]) -> str:
    """The caller's ``X-Request-Id`` when it is a sane token (so traces join up), else a new one."""
    given = headers.get("x-request-id")
    if given is not None and _REQUEST_ID.fullmatch(given):
        return given
    return new_request_id()


def new_request_id() -> str:
    """A request id no one can guess from another: a caller shown one id (in an error, in a
    shared log) must not be able to name the requests before or after it. 64 bits of the OS's
    randomness, never used twice."""
    return _random_ids.next()


class RandomIds:
    """Hex ids cut from the OS's randomness, read 4 KiB at a time: a system call per id
    (``secrets.token_hex``) cost 0.85 µs a request, a slice of the pool 0.3 µs. A child forked
    from this process reads a pool of its own, or parent and child would hand out the same
    ids."""

    POOL_BYTES = 4096
    ID_BYTES = 8

    def __init__(self) -> None:
        self._pool = b""
        self._at = 0
        os.register_at_fork(after_in_child=self.drain)

    def next(self) -> str:
        at, pool = self._at, self._pool
        if at >= len(pool):
            pool = self._pool = os.urandom(self.POOL_BYTES)
            at = 0
        self._at = at + self.ID_BYTES
        return pool[at : at + self.ID_BYTES].hex()

    def drain(self) -> None:
        """Forget the pool: the next id reads fresh randomness."""
        self._pool = b""
        self._at = 0


_random_ids = RandomIds()


def _quality(parameters: str) -> float:
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


async def _params(request: HttpRequest) -> GraphQLParams:
    if request.method in ("GET", "HEAD"):
        raw: dict[str, Any] = request.query_params()
        for name in ("variables", "extensions"):
            if name in raw:
                raw[name] = _json_parameter(raw[name], name)
    else:
        content_type = request.headers.get("content-type", "")
        if content_type.partition(";")[0].strip().lower() != JSON:
            raise Refused(415, "send the request as application/json")
        decoded = _decode(await read_body(request))
        if not isinstance(decoded, dict):
            raise Refused(400, "the body must be a JSON object (batching is not supported)")
        raw = decoded
    try:
        return GraphQLParams.parse(raw)
    except ValueError as exc:
        raise Refused(400, str(exc)) from exc


async def read_body(request: HttpRequest, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request's body; 413 past ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refused(413, f"the body exceeds {limit} bytes")
    chunks: bytes = b""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise Disconnected
        chunks += message.get("body", b"")  # nearly always one message: no copying
        if len(chunks) > limit:
            raise Refused(413, f"the body exceeds {limit} bytes")
        if not message.get("more_body", False):
            return chunks


def _decode(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Refused(400, "the body is not valid JSON") from exc


def _json_parameter(value: str, name: str) -> Any:
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise Refused(400, f"{name} is not valid JSON") from exc


def dump_json(body: Any) -> bytes:
    """JSON of a response body; Decimal (from JSON scalars) as a string, never a float, and
    any UUID (in a JSON scalar) as its text.

    Keys that are not strings (a JSON scalar a module built in Python, say) are written as
    strings, but only on a second attempt: orjson's option for them serialises the whole body
    at half the speed (measured on a dashboard: 13 µs against 7), for keys GraphQL makes str.
    """
    try:
        return orjson.dumps(body, default=_default)
    except orjson.JSONEncodeError:
        return orjson.dumps(body, default=_default, option=orjson.OPT_NON_STR_KEYS)


def json_reply(
    body: Any,
    status: int,
    media_type: str,
    headers: Mapping[str, str] | None = None,
    operation: str = "unknown",
    outcome: str = Outcome.INVALID,
) -> Reply:
    return Reply(dump_json(body), status, media_type, headers, operation, outcome)


def unavailable_reply(media_type: str) -> Reply:
    """503 for a request the database's going away stopped before anything ran: the client
    sends it again after ``Retry-After`` seconds."""
    _log.warning("the database is unavailable: answered 503")
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    reply = json_reply(unavailable_reply_body(), 503, media_type, headers)
    return replace(reply, outcome=Outcome.UNAVAILABLE)


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    return json_default(value)


__all__ = [
    "GRAPHQL_RESPONSE_JSON",
    "JSON",
    "MAX_BODY_BYTES",
    "Disconnected",
    "GraphQLHttp",
    "HttpRequest",
    "Refused",
    "Reply",
    "dump_json",
    "json_reply",
    "negotiate",
    "new_request_id",
    "read_body",
    "request_id_of",
    "send_reply",
    "serve",
    "unavailable_reply",
]
