"""GraphQL over WebSocket with the ``graphql-transport-ws`` protocol, at ``/graphql``.

The client opens the socket with the sub-protocol ``graphql-transport-ws`` and sends
``connection_init`` within :data:`INIT_TIMEOUT_SECONDS`; its credential (the payload's
``authorization`` or ``apiKey``, else the upgrade request's headers) picks the caller and the
schema for the whole connection, exactly as an HTTP request would. Then ``subscribe`` /
``next`` / ``error`` / ``complete`` per operation, ``ping`` / ``pong`` any time.

Close codes (from the protocol): 4400 bad message, 4401 subscribe before the ack, 4403 init
refused (no or bad credential), 4406 wrong sub-protocol, 4408 no init in time, 4409 duplicate
operation id, 4429 a second init, 4500 internal error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping
from enum import IntEnum
from typing import Any, NoReturn

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
)
from loyalty_core.context import RequestContext
from loyalty_core.errors import Unauthenticated
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from loyalty_gateway.auth import Caller
from loyalty_gateway.documents import PreparedDocument
from loyalty_gateway.errors import (
    BAD_REQUEST,
    coded,
    format_errors,
    format_result,
    is_request_error,
    is_unavailable,
)
from loyalty_gateway.errors import error as error_entry
from loyalty_gateway.execution import GraphQLParams, execute_operation, subscribe_operation
from loyalty_gateway.http import dump_json, new_request_id
from loyalty_gateway.logs import request_id_var
from loyalty_gateway.metrics import Outcome
from loyalty_gateway.schema_cache import CompiledSchema
from loyalty_gateway.state import GatewayState
from loyalty_gateway.variables import text_refusal

PROTOCOL = "graphql-transport-ws"
INIT_TIMEOUT_SECONDS = 10.0

_log = logging.getLogger(__name__)


class CloseCode(IntEnum):
    BAD_REQUEST = 4400
    UNAUTHORIZED = 4401
    FORBIDDEN = 4403
    SUBPROTOCOL_NOT_ACCEPTABLE = 4406
    INIT_TIMEOUT = 4408
    SUBSCRIBER_EXISTS = 4409
    TOO_MANY_INITIALISATION_REQUESTS = 4429
    INTERNAL = 4500
    TRY_AGAIN_LATER = 1013
    """The database is unavailable: reconnect after a while (RFC 6455's code)."""


class GraphQLWebSocket:
    """The ``/graphql`` WebSocket endpoint."""

    def __init__(self, gateway: GatewayState, *, init_timeout: float | None = None) -> None:
        self._gateway = gateway
        self._init_timeout = init_timeout

    async def handle(self, websocket: WebSocket) -> None:
        if PROTOCOL not in websocket.scope.get("subprotocols", ()):
            await websocket.accept()
            await websocket.close(
                CloseCode.SUBPROTOCOL_NOT_ACCEPTABLE, "Subprotocol not acceptable"
            )
            return
        await websocket.accept(subprotocol=PROTOCOL)
        init_timeout = INIT_TIMEOUT_SECONDS if self._init_timeout is None else self._init_timeout
        await _Connection(self._gateway, websocket, init_timeout).serve()


class _Closed(Exception):
    """The connection was closed (by us, with a code, or by the client)."""


class _Connection:
    """One socket: its caller once initialised, and its running operations by id."""

    def __init__(self, gateway: GatewayState, websocket: WebSocket, init_timeout: float) -> None:
        self._gateway = gateway
        self._suggestions = gateway.settings.introspection_allowed  # as over HTTP
        self._websocket = websocket
        self._deadline = time.monotonic() + init_timeout
        self._init_received = False
        self._caller: Caller | None = None
        self._compiled: CompiledSchema | None = None
        self._operations: dict[str, asyncio.Task[None]] = {}
        self._send_lock = asyncio.Lock()

    async def serve(self) -> None:
        try:
            while True:
                await self._on_message(await self._receive())
        except _Closed:
            pass
        finally:
            tasks = list(self._operations.values())
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _receive(self) -> Mapping[str, Any]:
        try:
            if self._caller is None and not self._init_received:
                remaining = self._deadline - time.monotonic()
                try:
                    raw = await asyncio.wait_for(self._websocket.receive(), max(remaining, 0))
                except TimeoutError:
                    await self._close(CloseCode.INIT_TIMEOUT, "Connection initialisation timeout")
            else:
                raw = await self._websocket.receive()
        except WebSocketDisconnect as exc:
            raise _Closed from exc
        if raw["type"] == "websocket.disconnect":
            raise _Closed
        text = raw.get("text")
        if text is None and raw.get("bytes") is not None:
            text = raw["bytes"].decode("utf-8", "replace")
        try:
            message = orjson.loads(text or "")
        except orjson.JSONDecodeError:
            message = None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self._close(CloseCode.BAD_REQUEST, "Invalid message received")
        return message

    async def _on_message(self, message: Mapping[str, Any]) -> None:
        kind = message["type"]
        if kind == "connection_init":
            await self._on_init(message.get("payload"))
        elif kind == "ping":
            await self._send({"type": "pong"})
        elif kind == "pong":
            return
        elif kind == "subscribe":
            await self._on_subscribe(message)
        elif kind == "complete":
            task = self._operations.pop(str(message.get("id")), None)
            if task is not None:
                task.cancel()
        else:
            await self._close(CloseCode.BAD_REQUEST, f"Unexpected message type {kind!r}")

    async def _on_init(self, payload: object) -> None:
        if self._init_received:
            await self._close(
                CloseCode.TOO_MANY_INITIALISATION_REQUESTS, "Too many initialisation requests"
            )
        self._init_received = True
        if payload is not None and not isinstance(payload, dict):
            await self._close(CloseCode.BAD_REQUEST, "Invalid connection_init payload")
        try:
            caller = await self._gateway.authenticator.connection_caller(
                payload, self._websocket.headers
            )
            if caller.principal is None:
                raise Unauthenticated("subscriptions need a credential")
            self._compiled = self._gateway.schemas.get(caller.modules)
        except Unauthenticated:
            await self._close(CloseCode.FORBIDDEN, "Forbidden")
        except Exception as exc:
            if is_unavailable(exc):
                _log.warning("WebSocket connection_init: the database is unavailable")
                await self._close(CloseCode.TRY_AGAIN_LATER, "Database unavailable")
            _log.exception("WebSocket connection_init failed")
            await self._close(CloseCode.INTERNAL, "Internal error")
        self._caller = caller
        await self._send({"type": "connection_ack"})

    async def _on_subscribe(self, message: Mapping[str, Any]) -> None:
        if self._caller is None:
            await self._close(CloseCode.UNAUTHORIZED, "Unauthorized")
        operation_id = message.get("id")
        payload = message.get("payload")
        if not isinstance(operation_id, str) or not operation_id or not isinstance(payload, dict):
            await self._close(CloseCode.BAD_REQUEST, "Invalid subscribe message")
        try:
            params = GraphQLParams.parse(payload)
        except ValueError as exc:
            await self._close(CloseCode.BAD_REQUEST, f"Invalid subscribe message: {exc}")
        if operation_id in self._operations:
            await self._close(
                CloseCode.SUBSCRIBER_EXISTS, f"Subscriber for {operation_id} already exists"
            )
        self._operations[operation_id] = asyncio.create_task(
            self._operate(operation_id, params), name=f"graphql-ws-{operation_id}"
        )

    async def _operate(self, operation_id: str, params: GraphQLParams) -> None:
        """Run one operation to its end; cancelled when the client completes it."""
        request_id = new_request_id()
        request_id_var.set(request_id)  # this task's own context
        try:
            await self._run(operation_id, params, request_id)
        except asyncio.CancelledError:
            raise
        except (_Closed, WebSocketDisconnect):
            return
        except Exception as exc:
            with contextlib.suppress(Exception):
                await self._send_error(operation_id, _errors_of(exc, request_id))
        finally:
            if self._operations.get(operation_id) is asyncio.current_task():
                del self._operations[operation_id]

    async def _run(self, operation_id: str, params: GraphQLParams, request_id: str) -> None:
        caller, compiled = self._caller, self._compiled
        assert caller is not None
        assert compiled is not None
        prepared = await compiled.documents.prepare(params.query)
        if prepared.document is None:
            errors = coded(
                prepared.errors,
                prepared.code or BAD_REQUEST,
                suggestions=self._suggestions,
            )
            return await self._send_error(operation_id, errors)
        operation = prepared.operation(params.operation_name)
        if operation is None:
            errors = [error_entry("no such operation in the document", BAD_REQUEST)]
            return await self._send_error(operation_id, errors)
        if operation.operation is OperationType.SUBSCRIPTION:
            # graphql-core coerces a subscription's variables, and takes any string
            refusal = text_refusal(operation, params.variables)
            if refusal is not None:
                self._gateway.metrics.requests.count("subscription", Outcome.INVALID)
                errors = coded([refusal], BAD_REQUEST, suggestions=self._suggestions)
                return await self._send_error(operation_id, errors)
        context = self._gateway.context(caller, request_id)
        try:
            if operation.operation is OperationType.SUBSCRIPTION:
                finished = await self._stream(
                    operation_id, compiled, prepared.document, params, context, request_id
                )
            else:
                finished = await self._execute(
                    operation_id, compiled, prepared, operation, params, context, request_id
                )
        finally:
            await context.close()
        if finished:
            await self._send({"id": operation_id, "type": "complete"})
        return None

    async def _execute(
        self,
        operation_id: str,
        compiled: CompiledSchema,
        prepared: PreparedDocument,
        operation: OperationDefinitionNode,
        params: GraphQLParams,
        context: RequestContext,
        request_id: str,
    ) -> bool:
        assert prepared.document is not None
        variables = prepared.coerced_variables(operation, params.variables)
        result = await execute_operation(compiled, prepared.document, params, context, variables)
        outcome = Outcome.ERRORS if result.errors else Outcome.OK
        self._gateway.metrics.requests.count(operation.operation.value, outcome)
        if is_request_error(result):
            await self._send_error(
                operation_id,
                coded(
                    result.errors or [],
                    BAD_REQUEST,
                    suggestions=self._suggestions,
                ),
            )
            return False
        await self._next(operation_id, result, request_id)
        return True

    async def _stream(
        self,
        operation_id: str,
        compiled: CompiledSchema,
        document: DocumentNode,
        params: GraphQLParams,
        context: RequestContext,
        request_id: str,
    ) -> bool:
        results = await subscribe_operation(compiled, document, params, context)
        if isinstance(results, ExecutionResult):
            self._gateway.metrics.requests.count("subscription", Outcome.INVALID)
            errors = results.errors or []
            if is_request_error(results):
                await self._send_error(
                    operation_id,
                    coded(
                        errors,
                        BAD_REQUEST,
                        suggestions=self._suggestions,
                    ),
                )
            else:
                await self._send_error(operation_id, format_errors(errors, request_id=request_id))
            return False
        self._gateway.metrics.requests.count("subscription", Outcome.OK)
        self._gateway.metrics.subscriptions.inc()
        try:
            async for result in results:
                await self._next(operation_id, result, request_id)
                await context.end_snapshot()  # the next result reads a moment of its own
        finally:
            self._gateway.metrics.subscriptions.dec()
            await _aclose(results)
        return True

    async def _next(self, operation_id: str, result: ExecutionResult, request_id: str) -> None:
        payload = format_result(result, request_id=request_id)
        await self._send({"id": operation_id, "type": "next", "payload": payload})

    async def _send_error(self, operation_id: str, errors: list[dict[str, Any]]) -> None:
        await self._send({"id": operation_id, "type": "error", "payload": errors})

    async def _send(self, message: Mapping[str, Any]) -> None:
        async with self._send_lock:
            if self._websocket.application_state is not WebSocketState.CONNECTED:
                raise _Closed
            await self._websocket.send_text(dump_json(message).decode())

    async def _close(self, code: CloseCode, reason: str) -> NoReturn:
        """Close the socket with a protocol code and stop serving it (always raises)."""
        async with self._send_lock:
            if self._websocket.application_state is WebSocketState.CONNECTED:
                with contextlib.suppress(Exception):
                    await self._websocket.close(code, reason)
        raise _Closed


def _errors_of(exc: Exception, request_id: str) -> list[dict[str, Any]]:
    """An exception that ended a stream, as GraphQL errors (masked unless expected)."""
    wrapped = exc if isinstance(exc, GraphQLError) else GraphQLError(str(exc), original_error=exc)
    return format_errors([wrapped], request_id=request_id)


async def _aclose(results: AsyncIterator[ExecutionResult]) -> None:
    close = getattr(results, "aclose", None)
    if close is not None:
        with contextlib.suppress(Exception):
            await close()


__all__ = ["INIT_TIMEOUT_SECONDS", "PROTOCOL", "CloseCode", "GraphQLWebSocket"]
