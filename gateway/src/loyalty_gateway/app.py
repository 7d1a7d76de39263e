"""The gateway as an ASGI app: routes, and what starts and stops with it.

Start-up, in order: every installed module is composed alone and all together (a clash stops
the process here, naming both modules), the schemas of the module sets tenants use are built,
the balance notifier starts listening and the job scheduler starts. Shut-down reverses it.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.modules.manager import ModuleRegistry, build_registry
from loyalty_core.settings import Settings
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send

from loyalty_gateway import bulk
from loyalty_gateway.auth import Authenticator
from loyalty_gateway.callers import CallerCache
from loyalty_gateway.composition import compose_all
from loyalty_gateway.graphiql import graphiql_routes
from loyalty_gateway.health import Health
from loyalty_gateway.http import GraphQLHttp
from loyalty_gateway.jobs import JobScheduler
from loyalty_gateway.limits import DocumentLimits
from loyalty_gateway.metrics import GatewayMetrics
from loyalty_gateway.module_routes import module_mounts
from loyalty_gateway.schema_cache import SchemaCache
from loyalty_gateway.state import GatewayState
from loyalty_gateway.subscriptions import BalanceNotifier
from loyalty_gateway.web import web_routes
from loyalty_gateway.ws import GraphQLWebSocket

GRAPHQL_PATH = "/graphql"
YOUNG_COLLECTION_THRESHOLD = 50_000
"""Objects the gateway allocates, net of those freed, before the garbage collector looks at
the young ones (Python's default: 700). See :class:`_Collector`."""

_log = logging.getLogger(__name__)


def create_app(settings: Settings, *, registry: ModuleRegistry | None = None) -> Starlette:
    """The gateway app for ``settings`` (database URLs already resolved) and ``registry``
    (default: the core and every installed module). Nothing connects until the app starts;
    ``app.state.gateway`` holds what it serves with."""
    registry = registry if registry is not None else build_registry()
    metrics = GatewayMetrics()
    database = Database.connect(settings.app_url, pool_size=settings.pool_size)
    callers = CallerCache(settings.caller_cache_seconds, live=lambda: notifier.listening)
    notifier = BalanceNotifier(settings.app_url, on_tenant_changed=callers.changed)
    gateway = GatewayState(
        settings=settings,
        registry=registry,
        database=database,
        schemas=SchemaCache(
            registry,
            DocumentLimits.from_settings(settings),
            size=settings.schema_cache_size,
            metrics=metrics,
        ),
        authenticator=Authenticator(settings, database, registry, callers),
        notifier=notifier,
        metrics=metrics,
    )
    scheduler = JobScheduler(
        database, registry, interval=settings.jobs_interval_seconds, metrics=metrics
    )
    http = GraphQLHttp(gateway)
    app = GatewayApp(http, routes=_routes(gateway, http), lifespan=_lifespan(gateway, scheduler))
    app.state.gateway = gateway
    return app


class GatewayApp(Starlette):
    """Starlette, with GraphQL over HTTP taken straight to its endpoint.

    ``POST``/``GET /graphql`` is nearly every request a gateway serves, and for a small
    operation Starlette's router and its error and exception middleware cost as much as
    running the operation. The endpoint, an ASGI app of its own, catches every error itself
    (an unexpected one is a masked 500), so those layers add nothing for it; everything else
    goes through them (another method on ``/graphql`` gets the router's 405).
    """

    def __init__(self, http: GraphQLHttp, **options: Any) -> None:
        super().__init__(**options)
        self._http = http

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == GRAPHQL_PATH
            and scope["method"] in _GRAPHQL_METHODS
        ):
            await self._http(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


_GRAPHQL_METHODS = frozenset({"GET", "HEAD", "POST"})


def _routes(gateway: GatewayState, http: GraphQLHttp) -> list[BaseRoute]:
    ws = GraphQLWebSocket(gateway)
    health = Health(gateway)
    return [
        Route(GRAPHQL_PATH, http, methods=["GET", "POST"]),
        Route(bulk.PATH, bulk.BulkEvents(gateway), methods=["POST"]),
        WebSocketRoute(GRAPHQL_PATH, ws.handle),
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/readyz", health.readyz, methods=["GET"]),
        Route("/metrics", gateway.metrics.endpoint, methods=["GET"]),
        *(graphiql_routes() if gateway.settings.is_development else []),
        *web_routes(gateway.settings),
        *module_mounts(gateway),
    ]


def _lifespan(
    gateway: GatewayState, scheduler: JobScheduler
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tuned = False
        try:
            _report_modules(gateway)
            compose_all(gateway.registry)
            await _prebuild(gateway)
            await gateway.notifier.start()
            await scheduler.start()
            _COLLECTOR.tune()
            tuned = True
            _log.info(
                "gateway started",
                extra={
                    "modules": sorted(gateway.registry.modules),
                    "schemas": len(gateway.schemas),
                },
            )
            yield
        finally:
            if tuned:
                _COLLECTOR.restore()
            await scheduler.stop()
            await gateway.notifier.stop()
            await gateway.authenticator.aclose()
            await gateway.database.dispose()
            gateway.schemas.close()

    return lifespan


def _report_modules(gateway: GatewayState) -> None:
    for failure in gateway.registry.failures:
        gateway.metrics.module_load_failures.labels(failure.name).set(1)
        _log.warning("module %s did not load: %s", failure.name, failure.reason)
    settings = gateway.settings
    if not settings.is_development and settings.jwt_jwks_url is None:
        _log.warning("no jwt_jwks_url in production: only API keys can authenticate")


class _Collector:
    """The garbage collector's settings while gateways run in this process.

    What start-up built (modules, schemas, SQL, caches) is moved out of the collector's
    sight: it lives as long as the gateway, and every full collection would otherwise walk
    all of it again, in the middle of some request.

    Young collections wait for :data:`YOUNG_COLLECTION_THRESHOLD` objects instead of 700.
    A request's objects are freed by reference counting when it ends, but a batch of 1000
    events holds tens of thousands alive while it runs: with 700, every young collection
    walked them, then promoted them, and older collections walked them again (measured: 64
    young, 6 middle and half a full collection per batch, 29 ms of its CPU, and a fifth of
    the batch's gateway CPU with the caches they disturbed). At 50,000 a batch of 1000
    triggers none; only cyclic garbage, which reference counting cannot free, accumulates
    until a collection, and at most that many objects of it.

    When the last gateway of the process stops, the collector is as it found it: frozen
    objects are never collected, and a process such as the tests' starts several gateways,
    some side by side.

    Before freezing, a young collection clears start-up's garbage, which is young. A full
    one walked every object of the process: 135 ms in a test process of 300,000 objects,
    on every gateway start (the suite starts one per test), growing with the process.
    """

    def __init__(self) -> None:
        self._running = 0
        self._found = gc.get_threshold()

    def tune(self) -> None:
        if self._running == 0:
            self._found = gc.get_threshold()
        self._running += 1
        gc.collect(1)
        gc.freeze()
        gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, self._found[1], self._found[2])

    def restore(self) -> None:
        self._running -= 1
        if self._running == 0:
            gc.set_threshold(*self._found)
            gc.unfreeze()  # what the gateways built may be collected once they are gone


_COLLECTOR = _Collector()


async def _prebuild(gateway: GatewayState) -> None:
    """Build the schemas tenants use; without the database the gateway still starts (and
    /readyz says why it is not ready), building schemas on first use instead."""
    try:
        await gateway.schemas.prebuild(gateway.database)
    except Exception as exc:
        _log.warning("cannot pre-build schemas: %s", exc)
        gateway.schemas.get(frozenset())


__all__ = ["GRAPHQL_PATH", "YOUNG_COLLECTION_THRESHOLD", "GatewayApp", "create_app"]
