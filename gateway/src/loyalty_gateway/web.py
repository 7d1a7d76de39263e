"""The member portal (``/portal``) and the retailer console (``/console``), served by the gateway.

Both apps are reference clients of the public GraphQL API: plain ES modules in
``static/web/`` that the browser loads as they are, with the libraries they use kept in
``static/web/vendor/`` (each with its licence; ``vendor/README.md`` says where each file comes
from). Nothing is built, so running them needs no toolchain; the bare names the modules
import (``preact``, ``@urql/core``...) resolve through an import map the page carries.

Every file is read once per process and kept with its gzip form. Vendored files have their
version in their path and are cached for a year; the apps' own files are revalidated with
their ETag, so a new release is picked up on the next load. The pages carry a Content
Security Policy that allows scripts from this origin only (the import map by its hash).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from loyalty_core.settings import Settings
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from loyalty_gateway.static_files import CACHE_FOREVER, Asset, endpoint, read_files

ASSET_PATH = "/web"
APPS = ("portal", "console")
"""The apps, each served at ``/<name>/`` from ``static/web/<name>/index.html``."""

_ROOT = Path(__file__).resolve().parent / "static" / "web"
IMPORTS = {
    "preact": "vendor/preact@10.29.8/preact.module.js",
    "preact/hooks": "vendor/preact@10.29.8/hooks.module.js",
    "htm": "vendor/htm@3.1.1/htm.module.js",
    "@urql/core": "vendor/urql-core@6.0.3/urql-core.mjs",
    "wonka": "vendor/wonka@6.3.6/wonka.mjs",
    "@0no-co/graphql.web": "vendor/graphql.web@1.3.4/graphql.web.mjs",
    "graphql-ws": "vendor/graphql-ws@6.4.2/client.js",
    "qrcode-generator": "vendor/qrcode-generator@2.0.4/qrcode.mjs",
    "uplot": "vendor/uplot@1.6.32/uPlot.esm.js",
}
"""The import map: the bare module names the apps and libraries import, to vendored files."""


def web_routes(settings: Settings) -> list[BaseRoute]:
    """The apps' pages and files (GET and HEAD)."""
    files = endpoint(assets, "path")
    routes: list[BaseRoute] = [Route(ASSET_PATH + "/{path:path}", files, methods=["GET"])]
    for app in APPS:
        page = _Page(app, settings)
        routes.append(Route(f"/{app}", _to_slash, methods=["GET"]))
        routes.append(Route(f"/{app}/", page.serve, methods=["GET"]))
    return routes


@cache
def assets() -> Mapping[str, Asset]:
    """Every file of ``static/web/`` the browser may load, by path, read once per process:
    the vendored ones cached for a year (their path names their version), the apps' own
    revalidated by their ETag."""
    return read_files(
        _ROOT,
        list(_ROOT.rglob("*")),
        lambda name: CACHE_FOREVER if name.startswith("vendor/") else "no-cache",
    )


def import_map() -> str:
    """The page's import map, as JSON."""
    return json.dumps({"imports": {name: f"{ASSET_PATH}/{file}" for name, file in IMPORTS.items()}})


class _Page:
    """One app's page: its HTML with the import map and the client configuration put in."""

    def __init__(self, app: str, settings: Settings) -> None:
        self._app = app
        self._settings = settings
        self._asset: Asset | None = None
        self._policy = _policy(settings)

    def asset(self) -> Asset:
        """The page, made on its first request (the file read once per process)."""
        if self._asset is None:
            config = json.dumps(client_config(self._settings)).replace("<", "\\u003c")
            html = (
                (_ROOT / self._app / "index.html")
                .read_text()
                .replace("{{importmap}}", import_map())
                .replace("{{config}}", config)
            )
            self._asset = Asset.of(html.encode(), "text/html; charset=utf-8", "no-cache")
        return self._asset

    async def serve(self, request: Request) -> Response:
        return self.asset().response(request, {"Content-Security-Policy": self._policy})


def client_config(settings: Settings) -> dict[str, object]:
    """What the apps need to know of the deployment before anyone signs in."""
    return {
        "graphql": "/graphql",
        "development": settings.is_development,
        "oidc": (
            {"issuer": settings.web_oidc_issuer, "clientId": settings.web_oidc_client_id}
            if settings.web_oidc_issuer and settings.web_oidc_client_id
            else None
        ),
    }


def _policy(settings: Settings) -> str:
    """Scripts from this origin only (the import map by its hash); requests to this origin
    and to the OpenID Connect provider the apps sign in with, if any; no framing."""
    digest = base64.b64encode(hashlib.sha256(import_map().encode()).digest()).decode()
    connect = ["'self'", "ws:", "wss:"]
    if settings.web_oidc_issuer:
        issuer = urlsplit(settings.web_oidc_issuer)
        connect.append(f"{issuer.scheme}://{issuer.netloc}")
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'sha256-{digest}'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: https:",
            "connect-src " + " ".join(connect),
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )


async def _to_slash(request: Request) -> Response:
    return RedirectResponse(request.url.path + "/", status_code=308)


__all__ = ["APPS", "ASSET_PATH", "IMPORTS", "assets", "client_config", "web_routes"]
