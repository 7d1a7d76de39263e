"""The signing keys of an OIDC provider, fetched from its JWKS URL and cached.

Keys rotate: a token signed with a key id we have not seen makes us fetch the set again, but at
most once a minute, so a flood of tokens with made-up key ids cannot turn into a flood of
requests to the provider.
"""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
import jwt
from loyalty_core.errors import Unauthenticated

REFRESH_INTERVAL_SECONDS = 60.0

_log = logging.getLogger(__name__)


class JwksKeys:
    """The key set at ``url``, keyed by ``kid``."""

    def __init__(
        self,
        url: str,
        http: httpx.AsyncClient,
        *,
        refresh_interval: float = REFRESH_INTERVAL_SECONDS,
    ) -> None:
        self._url = url
        self._http = http
        self._refresh_interval = refresh_interval
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def get(self, kid: str | None) -> jwt.PyJWK:
        """The key a token names (or the only key, for tokens that name none)."""
        key = self._find(kid)
        if key is None:
            async with self._lock:
                key = self._find(kid)
                if key is None and self._may_refresh():
                    await self._refresh()
                    key = self._find(kid)
        if key is None:
            raise Unauthenticated("invalid token: unknown signing key")
        return key

    def _find(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return self._keys.get(kid)

    def _may_refresh(self) -> bool:
        return (
            self._fetched_at is None
            or time.monotonic() - self._fetched_at >= self._refresh_interval
        )

    async def _refresh(self) -> None:
        self._fetched_at = time.monotonic()
        try:
            response = await self._http.get(self._url, timeout=5.0)
            response.raise_for_status()
            key_set = jwt.PyJWKSet.from_dict(response.json())
        except (httpx.HTTPError, ValueError, jwt.PyJWKSetError) as exc:
            _log.warning("cannot fetch the JWKS from %s: %s", self._url, exc)
            return
        self._keys = {key.key_id: key for key in key_set.keys}


__all__ = ["REFRESH_INTERVAL_SECONDS", "JwksKeys"]
