"""Baseline servers, each run as ``python -m bench.servers KIND --port N`` under the same
uvicorn settings as the gateway (uvloop, httptools, one worker, no access log).

- ``hello`` (P4): Starlette answering ``POST /graphql`` with the JSON the gateway gives for
  ``{ __typename }``, without reading the request: the cheapest an HTTP JSON endpoint gets.
- ``dashboard`` (P2, P5): Starlette + an asyncpg pool doing the dashboard's reads by hand
  (:func:`bench.dashboard.dashboard_json`).
- ``leaderboard`` (P8): Starlette + an asyncpg pool computing a board's standings by hand
  (:func:`bench.leaderboard.leaderboard_json`).
- ``vouchers`` (P10): Starlette + an asyncpg pool checking a voucher at the till by hand
  (:func:`bench.vouchers.validate_json`).
- ``naive`` (P6): strawberry's ASGI view over the ORM build of :mod:`bench.naive`.

Each also answers ``GET /healthz``, which the harness polls to know the server is up. The
database URL comes from ``BENCH_APP_DSN`` (the app role's: row-level security applies).
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

DSN_ENV = "BENCH_APP_DSN"
POOL_SIZE = 10
"""Connections, as the gateway's default ``LOYALTY_POOL_SIZE``."""
MEDIA_TYPE = "application/graphql-response+json"
HELLO = orjson.dumps({"data": {"__typename": "Query"}})


async def healthz(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


def hello_app() -> Starlette:
    async def graphql(request: Request) -> Response:
        return Response(HELLO, media_type=MEDIA_TYPE)

    return _app([Route("/graphql", graphql, methods=["POST"])])


Answer = Callable[[Any, str, dict[str, Any]], Awaitable[bytes]]
"""A hand-written answer: (an asyncpg connection, the API key, the request's variables) to
the response body; raises ``bench.dashboard.Refused`` for a key it does not accept."""


def dashboard_app() -> Starlette:
    from bench.dashboard import dashboard_json

    return _pooled_app(lambda conn, key, v: dashboard_json(conn, key, uuid.UUID(v["id"])))


def leaderboard_app() -> Starlette:
    from bench.leaderboard import leaderboard_json

    return _pooled_app(
        lambda conn, key, v: leaderboard_json(
            conn, key, uuid.UUID(v["id"]), uuid.UUID(v["member"]), v["window"]
        )
    )


def vouchers_app() -> Starlette:
    from bench.vouchers import validate_json

    return _pooled_app(lambda conn, key, v: validate_json(conn, key, v["code"], v["basket"]))


def _pooled_app(answer: Answer) -> Starlette:
    """Starlette and an asyncpg pool of the gateway's size, ``POST /graphql`` answered by
    ``answer`` on one of its connections (401 for a key it refuses)."""
    import asyncpg

    from bench.dashboard import Refused

    state: dict[str, Any] = {}

    async def graphql(request: Request) -> Response:
        try:
            variables = orjson.loads(await request.body())["variables"]
            async with state["pool"].acquire() as conn:
                body = await answer(conn, request.headers["x-api-key"], variables)
        except (Refused, KeyError):
            return Response(b'{"errors":[{"message":"invalid API key"}]}', status_code=401)
        return Response(body, media_type=MEDIA_TYPE)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(
            os.environ[DSN_ENV], min_size=POOL_SIZE, max_size=POOL_SIZE
        )
        state["pool"] = pool
        try:
            yield
        finally:
            await pool.close()

    return _app([Route("/graphql", graphql, methods=["POST"])], lifespan)


def naive_app() -> Starlette:
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from strawberry.asgi import GraphQL

    from bench.naive import naive_schema

    url = make_url(os.environ[DSN_ENV]).set(drivername="postgresql+asyncpg")
    engine = create_async_engine(url, pool_size=POOL_SIZE)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    view = GraphQL[Any, Any](naive_schema(sessions), graphql_ide=None)
    return _app([Route("/graphql", view, methods=["POST"])])


APPS: dict[str, Callable[[], Starlette]] = {
    "hello": hello_app,
    "dashboard": dashboard_app,
    "leaderboard": leaderboard_app,
    "naive": naive_app,
    "vouchers": vouchers_app,
}


def _app(
    routes: list[BaseRoute],
    lifespan: Callable[[Starlette], AbstractAsyncContextManager[None]] | None = None,
) -> Starlette:
    return Starlette(routes=[Route("/healthz", healthz), *routes], lifespan=lifespan)


def main(argv: list[str]) -> int:
    arguments = argparse.ArgumentParser(description="a baseline server for bench/")
    arguments.add_argument("kind", choices=sorted(APPS))
    arguments.add_argument("--port", type=int, required=True)
    args = arguments.parse_args(argv)
    uvicorn.run(
        APPS[args.kind](),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )
    return 0


__all__ = [
    "APPS",
    "DSN_ENV",
    "dashboard_app",
    "hello_app",
    "leaderboard_app",
    "naive_app",
    "vouchers_app",
]

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
