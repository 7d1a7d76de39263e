"""GraphiQL for browsers, in development: our page and every file it loads, from the gateway.

Nothing comes from a CDN, so the demo's GraphiQL works offline and in networks that block
public hosts. The page (``static/graphiql.html``) is what ``GET /graphql`` answers a browser;
the files it loads (GraphiQL, React, CSS: ``static/graphiql/``, with their licences and a
README saying where they come from) are served under :data:`STATIC_PATH`. Their names carry
their versions, so they are cached for a year. Production serves neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

STATIC_PATH = "/graphiql/static"
CACHE_FOREVER = "public, max-age=31536000, immutable"
"""Cache-Control of the files: a new version has a new name, hence a new URL."""

_STATIC = Path(__file__).resolve().parent / "static"
_MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    media_type: str


def graphiql_routes() -> list[BaseRoute]:
    """The route of the page's files (GET and HEAD); mount it in development only."""
    return [Route(STATIC_PATH + "/{name}", _asset, methods=["GET"])]


@cache
def graphiql_page() -> bytes:
    """The page (read once per process)."""
    return (_STATIC / "graphiql.html").read_bytes()


@cache
def assets() -> Mapping[str, Asset]:
    """Every ``.js`` and ``.css`` file of ``static/graphiql/`` by name (read once per
    process): only these are served, whatever name a request asks for."""
    return {
        path.name: Asset(path.read_bytes(), _MEDIA_TYPES[path.suffix])
        for path in sorted((_STATIC / "graphiql").iterdir())
        if path.suffix in _MEDIA_TYPES
    }


async def _asset(request: Request) -> Response:
    found = assets().get(request.path_params["name"])
    if found is None:
        return PlainTextResponse("not found", status_code=404)
    headers = {"Cache-Control": CACHE_FOREVER, "X-Content-Type-Options": "nosniff"}
    return Response(found.body, media_type=found.media_type, headers=headers)


__all__ = ["CACHE_FOREVER", "STATIC_PATH", "Asset", "assets", "graphiql_page", "graphiql_routes"]
