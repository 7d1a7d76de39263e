"""Liveness and readiness for orchestrators.

``/healthz`` answers 200 whenever the process serves HTTP: restarting it would not help with
anything else. ``/readyz`` answers 200 only when the database answers and every migration
this code knows is applied; otherwise 503 with the reasons, so a replica that started before
``loyalty migrate`` finished gets no traffic. Once the migrations were seen at head they stay
so for this code (migrations only move forward), so later checks only ask the database for
``SELECT 1``.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from loyalty_core.db.migrate import UninstalledModuleRevisions, migration_status
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from loyalty_gateway.state import GatewayState

CHECK_TIMEOUT_SECONDS = 5.0

_log = logging.getLogger(__name__)


class Health:
    """The ``/healthz`` and ``/readyz`` endpoints."""

    def __init__(self, gateway: GatewayState) -> None:
        self._gateway = gateway
        self._migrations_at_head = False
        self._warned_uninstalled = False

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        reasons = await self.problems()
        if reasons:
            return JSONResponse({"status": "unavailable", "reasons": reasons}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def problems(self) -> list[str]:
        """What keeps this process from serving; empty when it is ready."""
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                async with self._gateway.database.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except Exception as exc:
            _log.warning("readiness: database unreachable: %s", exc)
            return [f"database unreachable: {type(exc).__name__}"]
        if self._migrations_at_head:
            return []
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                status = await migration_status(self._gateway.settings.app_url, self._locations())
        except Exception as exc:
            _log.warning("readiness: cannot read the migration gateway: %s", exc)
            return [f"cannot read the migration gateway: {type(exc).__name__}"]
        # A module's tables left behind do not keep the gateway from serving the others;
        # they are said once, and next to pending heads, since `loyalty migrate` refuses then.
        missing = str(UninstalledModuleRevisions(status.uninstalled)) if status.uninstalled else ""
        if missing and not self._warned_uninstalled:
            _log.warning("%s", missing)
            self._warned_uninstalled = True
        if status.pending:
            pending = ", ".join(sorted(status.pending))
            return [
                f"migrations pending: {pending} (run `loyalty migrate`)",
                *filter(None, [missing]),
            ]
        self._migrations_at_head = True
        return []

    def _locations(self) -> list[Path]:
        return [m.migrations for m in self._gateway.registry.modules.values() if m.migrations]


__all__ = ["CHECK_TIMEOUT_SECONDS", "Health"]
