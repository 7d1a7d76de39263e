"""Modules' own HTTP routes (callbacks, webhooks), mounted under ``/modules/<name>/``.

Every installed module's routes are mounted, and each request is checked against the caller's
tenant: an authenticated caller whose tenant has not enabled the module gets 404, as if the
route did not exist (disabling takes effect on the next request, like the schema). Callers
without a credential pass through with no tenant: a provider's webhook carries no credential
of ours, and the module verifies it its own way (a signature) before trusting it.

A route finds the request's :class:`loyalty_core.context.RequestContext` at
``request.state.context``: principal, tenant (or None), the module's settings, the database.
An expected failure a route raises (a :class:`LoyaltyError`, or what the database refused
because of the caller's value: :mod:`loyalty_core.db.errors`) is answered as JSON, ``404``
for NOT_FOUND and ``400`` for the rest, like the GraphQL errors, never as a ``500``. When the
database goes away before a route has answered, the gateway answers 503 with ``Retry-After``,
as the GraphQL endpoint does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from loyalty_core.db.errors import db_answers
from loyalty_core.errors import ErrorCode, LoyaltyError, Unauthenticated
from loyalty_core.modules.manager import CORE_MODULE
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Router
from starlette.types import Message, Receive, Scope, Send

from loyalty_gateway.errors import (
    RETRY_AFTER_SECONDS,
    error,
    is_unavailable,
    unavailable_reply_body,
)
from loyalty_gateway.http import UNAUTHORIZED_HEADERS, request_id_of
from loyalty_gateway.logs import request_id_var
from loyalty_gateway.state import GatewayState

PREFIX = "/modules"


def module_mounts(gateway: GatewayState) -> list[Mount]:
    """A mount per installed module that declares routes."""
    return [
        Mount(f"{PREFIX}/{name}", app=ModuleRoutes(name, module.routes, gateway))
        for name, module in sorted(gateway.registry.modules.items())
        if module.routes
    ]


class ModuleRoutes:
    """An ASGI app serving one module's routes to the tenants that enabled it."""

    def __init__(self, name: str, routes: Sequence[BaseRoute], gateway: GatewayState) -> None:
        self._name = name
        self._router = Router(routes=list(routes))
        self._gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self._router(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = request_id_of(headers)
        token = request_id_var.set(request_id)
        try:
            await self._serve(scope, receive, send, headers, request_id)
        finally:
            request_id_var.reset(token)

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, headers: Headers, request_id: str
    ) -> None:
        try:
            caller = await self._gateway.authenticator.caller(headers)
        except Unauthenticated as exc:
            body = {"errors": [error(exc.message, exc.code.value)]}
            await _refuse(scope, receive, send, 401, body, UNAUTHORIZED_HEADERS)
            return
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            await _unavailable(scope, receive, send)
            return
        enabled = self._name == CORE_MODULE or self._name in caller.modules
        if caller.tenant is not None and not enabled:
            await _refuse(scope, receive, send, 404, {"detail": "Not Found"})
            return
        context = self._gateway.context(caller, request_id)
        state: dict[str, Any] = dict(scope.get("state") or {})
        state["context"] = context
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            with db_answers():
                await self._router({**scope, "state": state}, receive, watched)
        except LoyaltyError as exc:
            if started:
                raise
            extensions = {} if exc.field is None else {"field": exc.field}
            body = {"errors": [error(exc.message, exc.code.value, **extensions)]}
            status = 404 if exc.code is ErrorCode.NOT_FOUND else 400
            await _refuse(scope, receive, send, status, body)
        except Exception as exc:
            if started or not is_unavailable(exc):
                raise
            await _unavailable(scope, receive, send)
        finally:
            await context.close()


async def _unavailable(scope: Scope, receive: Receive, send: Send) -> None:
    """503: the database went away before anything was answered; the client tries again."""
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    await _refuse(scope, receive, send, 503, unavailable_reply_body(), headers)


async def _refuse(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    body: object,
    headers: dict[str, str] | None = None,
) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    await JSONResponse(body, status_code=status, headers=headers)(scope, receive, send)


__all__ = ["PREFIX", "ModuleRoutes", "module_mounts"]
