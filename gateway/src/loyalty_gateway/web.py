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
import gzip
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from loyalty_core.settings import Settings
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from loyalty_gateway.graphiql import CACHE_FOREVER

ASSET_PATH = "/web"
APPS = ("portal", "console")
"""The apps, each served at ``/<name>/`` from ``static/web/<name>/index.html``."""

_ROOT = Path(__file__).resolve().parent / "static" / "web"
_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
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


@dataclass(frozen=True, slots=True)
class Asset:
    """A file as served: its bytes, gzipped bytes, media type and validators."""

    body: bytes
    gzipped: bytes
    media_type: str
    etag: str
    cache_control: str

    @classmethod
    def of(cls, body: bytes, media_type: str, cache_control: str) -> Asset:
        etag = '"' + hashlib.blake2s(body, digest_size=12).hexdigest() + '"'
        return cls(body, gzip.compress(body, 9, mtime=0), media_type, etag, cache_control)

    def response(self, request: Request, extra: Mapping[str, str] | None = None) -> Response:
        headers = {
            "Cache-Control": self.cache_control,
            "ETag": self.etag,
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
            **(extra or {}),
        }
        if request.headers.get("if-none-match") == self.etag:
            return Response(status_code=304, headers=headers)
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return Response(self.gzipped, media_type=self.media_type, headers=headers)
        return Response(self.body, media_type=self.media_type, headers=headers)


def web_routes(settings: Settings) -> list[BaseRoute]:
    """The apps' pages and files (GET and HEAD)."""
    routes: list[BaseRoute] = [Route(ASSET_PATH + "/{path:path}", _asset, methods=["GET"])]
    for app in APPS:
        page = _Page(app, settings)
        routes.append(Route(f"/{app}", _to_slash, methods=["GET"]))
        routes.append(Route(f"/{app}/", page.serve, methods=["GET"]))
    return routes


@cache
def assets() -> Mapping[str, Asset]:
    """Every file of ``static/web/`` the browser may load, by path, read once per process."""
    found: dict[str, Asset] = {}
    for path in sorted(_ROOT.rglob("*")):
        media_type = _MEDIA_TYPES.get(path.suffix)
        if media_type is None or not path.is_file():
            continue
        name = path.relative_to(_ROOT).as_posix()
        vendored = name.startswith("vendor/")
        cache_control = CACHE_FOREVER if vendored else "no-cache"
        found[name] = Asset.of(path.read_bytes(), media_type, cache_control)
    return found


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


async def _asset(request: Request) -> Response:
    found = assets().get(request.path_params["path"])
    if found is None:
        return PlainTextResponse("not found", status_code=404)
    return found.response(request)


__all__ = ["APPS", "ASSET_PATH", "IMPORTS", "Asset", "assets", "client_config", "web_routes"]
