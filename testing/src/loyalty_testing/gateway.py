"""The gateway in-process for tests: a started app over httpx, credentials, a GraphQL helper.

``make_app`` starts the real ASGI app (lifespan included, so schemas are composed and the
notifier listens) against the session's database as the app role, and returns it with an
httpx client whose transport also speaks WebSocket (httpx-ws), so HTTP and subscription tests
share one fixture. Tokens are HS256 with the test secret, as development tokens are; a till's
API key is made as ``apiKeyCreate`` makes it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx
import jwt
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from httpx_ws.transport import ASGIWebSocketTransport
from loyalty_core.apikeys.service import create_api_key
from loyalty_core.db.engine import Database
from loyalty_core.modules import service as modules_service
from loyalty_core.modules.manager import ModuleRegistry
from loyalty_core.settings import Settings
from loyalty_core.tenants.models import Tenant
from loyalty_gateway.app import create_app
from loyalty_gateway.state import GatewayState
from starlette.applications import Starlette

from loyalty_testing.database import DatabaseUrls

TEST_JWT_SECRET = "test-secret-for-hs256-tokens-only-0123456789"  # noqa: S105 -- tests only
TEST_ACTOR = "platform:test"
TILL_SCOPES = ("events:write", "members:read", "members:write", "points:redeem")


@dataclass(frozen=True)
class RunningGateway:
    """A started gateway app and a client talking to it in-process."""

    app: Starlette
    client: httpx.AsyncClient
    settings: Settings

    @property
    def state(self) -> GatewayState:
        gateway: GatewayState = self.app.state.gateway
        return gateway

    @property
    def registry(self) -> ModuleRegistry:
        return self.state.registry


class MakeApp(Protocol):
    def __call__(
        self, registry: ModuleRegistry | None = None, **settings: Any
    ) -> Awaitable[RunningGateway]: ...


class EnableModule(Protocol):
    def __call__(
        self, tenant: Tenant, name: str, settings: dict[str, object] | None = None
    ) -> Awaitable[None]: ...


class TillKey(Protocol):
    def __call__(self, tenant: Tenant, scopes: Sequence[str] = TILL_SCOPES) -> Awaitable[str]: ...


def gateway_settings(urls: DatabaseUrls, **overrides: Any) -> Settings:
    """Settings of a test gateway: development, the session's database, no background jobs."""
    values: dict[str, Any] = {
        "environment": "development",
        "database_url": urls.owner.render_as_string(hide_password=False),
        "app_database_url": urls.app.render_as_string(hide_password=False),
        "jwt_secret": TEST_JWT_SECRET,
        "jobs_interval_seconds": 0,
        "pool_size": 4,
    }
    return Settings(**{**values, **overrides})


@pytest_asyncio.fixture(loop_scope="session")
async def make_app(
    database_urls: DatabaseUrls, loyalty_registry: ModuleRegistry
) -> AsyncIterator[MakeApp]:
    """Start gateway apps for one test: ``await make_app(registry, **settings)`` (default: the
    session's ``loyalty_registry``); all of them stop when the test ends. Raises what the
    app's start-up raised."""
    stop = asyncio.Event()
    servers: list[asyncio.Task[None]] = []

    async def make(registry: ModuleRegistry | None = None, **settings: Any) -> RunningGateway:
        app_settings = gateway_settings(database_urls, **settings)
        app = create_app(app_settings, registry=registry or loyalty_registry)
        started: asyncio.Future[httpx.AsyncClient] = asyncio.get_running_loop().create_future()
        server = asyncio.create_task(_serve(app, started, stop))
        servers.append(server)
        either: set[asyncio.Future[Any]] = {started, server}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if not started.done():
            server.result()  # raises the start-up failure
        return RunningGateway(app, started.result(), app_settings)

    yield make
    stop.set()
    await asyncio.gather(*servers, return_exceptions=True)


async def _serve(
    app: Starlette, started: asyncio.Future[httpx.AsyncClient], stop: asyncio.Event
) -> None:
    """Run an app until ``stop``, in one task: the lifespan and the transport hold task groups,
    which must be left by the task that entered them."""
    async with (
        LifespanManager(app, startup_timeout=60) as manager,
        httpx.AsyncClient(
            transport=ASGIWebSocketTransport(app=manager.app), base_url="http://test"
        ) as client,
    ):
        started.set_result(client)
        await stop.wait()


def token(
    role: str,
    subject: str,
    tenant_id: uuid.UUID | None = None,
    *,
    secret: str = TEST_JWT_SECRET,
    expires_in: timedelta = timedelta(hours=1),
    **claims: Any,
) -> str:
    """An HS256 token as development tokens are made; ``claims`` add to or replace the usual."""
    now = datetime.now(UTC)
    payload: dict[str, Any] = {"sub": subject, "role": role, "iat": now, "exp": now + expires_in}
    if tenant_id is not None:
        payload["tenant"] = str(tenant_id)
    payload.update(claims)
    return jwt.encode(payload, secret, algorithm="HS256")


def admin_token(tenant_id: uuid.UUID) -> str:
    return token("admin", "admin@example.test", tenant_id)


def member_token(tenant_id: uuid.UUID, member_id: uuid.UUID) -> str:
    return token("member", str(member_id), tenant_id)


def platform_token() -> str:
    return token("platform", "ops@example.test")


async def graphql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
    api_key: str | None = None,
) -> dict[str, Any]:
    """POST one operation and return the response body (whatever its status)."""
    headers: dict[str, str] = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if api_key is not None:
        headers["X-Api-Key"] = api_key
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    response = await client.post("/graphql", json=body, headers=headers)
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture
def enable_module(db: Database, loyalty_registry: ModuleRegistry) -> EnableModule:
    """Enable a module for a tenant: ``await enable_module(tenant, "stamps", {...})``."""

    async def enable(tenant: Tenant, name: str, settings: dict[str, object] | None = None) -> None:
        await enable_for(db, loyalty_registry, tenant, name, settings)

    return enable


@pytest.fixture
def till_key(db: Database) -> TillKey:
    """A till's API key for a tenant: ``await till_key(tenant, scopes)`` gives its secret."""

    async def create(tenant: Tenant, scopes: Sequence[str] = TILL_SCOPES) -> str:
        return await create_till_key(db, tenant.id, scopes)

    return create


async def create_till_key(
    db: Database, tenant_id: uuid.UUID, scopes: Sequence[str] = TILL_SCOPES
) -> str:
    """The secret of a new API key with ``scopes``: ``graphql(..., api_key=secret)``."""
    async with db.tenant_transaction(tenant_id) as conn:
        issued = await create_api_key(conn, tenant_id, name="till", scopes=scopes, actor=TEST_ACTOR)
    return issued.secret


async def enable_for(
    db: Database,
    registry: ModuleRegistry,
    tenant: Tenant,
    name: str,
    settings: dict[str, object] | None = None,
) -> None:
    """Enable a module for a tenant, as the ``moduleEnable`` mutation does."""
    async with db.tenant_transaction(tenant.id) as conn:
        await modules_service.enable_module(
            conn, tenant, registry, name, settings or {}, actor=TEST_ACTOR
        )


async def disable_for(db: Database, registry: ModuleRegistry, tenant: Tenant, name: str) -> None:
    async with db.tenant_transaction(tenant.id) as conn:
        await modules_service.disable_module(conn, tenant.id, registry, name, actor=TEST_ACTOR)


__all__ = [
    "TEST_JWT_SECRET",
    "TILL_SCOPES",
    "EnableModule",
    "MakeApp",
    "RunningGateway",
    "TillKey",
    "admin_token",
    "create_till_key",
    "disable_for",
    "enable_for",
    "enable_module",
    "gateway_settings",
    "graphql",
    "make_app",
    "member_token",
    "platform_token",
    "till_key",
    "token",
]
