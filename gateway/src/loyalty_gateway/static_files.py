"""Files the gateway serves as they are (GraphiQL's, the portal's and the console's).

Each file is read once per process and kept with its gzip form and an ETag, so a request
costs a dictionary look-up: the gzipped body for a browser that takes it, a 304 for one
that has it already. Only files read at start are served, whatever path a request names.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

CACHE_FOREVER = "public, max-age=31536000, immutable"
"""Cache-Control of a file whose name carries its version: a new version has a new URL."""

MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
"""The kinds of file served; others in a folder (READMEs, licences) are not."""


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


def read_files(
    folder: Path, paths: list[Path], cache_control: Callable[[str], str]
) -> dict[str, Asset]:
    """The files of ``paths`` the browser may load (by their kind), keyed by their path
    relative to ``folder``, each with the ``cache_control`` its name calls for."""
    found: dict[str, Asset] = {}
    for path in sorted(paths):
        media_type = MEDIA_TYPES.get(path.suffix)
        if media_type is None or not path.is_file():
            continue
        name = path.relative_to(folder).as_posix()
        found[name] = Asset.of(path.read_bytes(), media_type, cache_control(name))
    return found


def endpoint(
    files: Callable[[], Mapping[str, Asset]], parameter: str
) -> Callable[[Request], Awaitable[Response]]:
    """A route's endpoint answering the file its path ``parameter`` names, else 404."""

    async def serve(request: Request) -> Response:
        found = files().get(request.path_params[parameter])
        if found is None:
            return PlainTextResponse("not found", status_code=404)
        return found.response(request)

    return serve


__all__ = ["CACHE_FOREVER", "MEDIA_TYPES", "Asset", "endpoint", "read_files"]
