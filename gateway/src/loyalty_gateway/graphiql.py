"""GraphiQL for browsers, in development: our page and every file it loads, from the gateway.

Nothing comes from a CDN, so the demo's GraphiQL works offline and in networks that block
public hosts. The page (``static/graphiql.html``) is what ``GET /graphql`` answers a browser;
the files it loads (GraphiQL, React, CSS: ``static/graphiql/``, with their licences and a
README saying where they come from) are served under :data:`STATIC_PATH`. Their names carry
their versions, so they are cached for a year. Production serves neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

from starlette.routing import BaseRoute, Route

from loyalty_gateway.static_files import CACHE_FOREVER, Asset, endpoint, read_files

STATIC_PATH = "/graphiql/static"

_STATIC = Path(__file__).resolve().parent / "static"


def graphiql_routes() -> list[BaseRoute]:
    """The route of the page's files (GET and HEAD); mount it in development only."""
    return [Route(STATIC_PATH + "/{name}", endpoint(assets, "name"), methods=["GET"])]


@cache
def graphiql_page() -> bytes:
    """The page (read once per process)."""
    return (_STATIC / "graphiql.html").read_bytes()


@cache
def assets() -> Mapping[str, Asset]:
    """Every ``.js`` and ``.css`` file of ``static/graphiql/`` by name (read once per
    process): only these are served, whatever name a request asks for."""
    folder = _STATIC / "graphiql"
    return read_files(folder, list(folder.iterdir()), lambda _: CACHE_FOREVER)


__all__ = ["CACHE_FOREVER", "STATIC_PATH", "assets", "graphiql_page", "graphiql_routes"]
