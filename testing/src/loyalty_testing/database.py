"""A migrated PostgreSQL for the whole test session, and a fresh tenant and member per test.

The database is created and migrated once per session: the embedded server (the same one the
gateway starts when no URL is set) or, when ``LOYALTY_TEST_DATABASE_URL`` names a server, a
throw-away database on it. Tests are isolated by tenant, not by database: each test gets a new
tenant, and row-level security keeps every other tenant's rows out of sight.

The modules migrated (and served by ``make_app``) are those of ``loyalty_registry``: every
installed module, plus the import names listed in the ``loyalty_modules`` ini option (a module
under development, tested without being installed). A test suite may override the fixture.

Tests talk to PostgreSQL as the app role (not owner, not superuser, no BYPASSRLS), so the
walls under test are the ones production runs behind; ``owner_db`` is for catalogue checks.
"""

from __future__ import annotations

import importlib
import os
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from loyalty_core.db.embedded import start_embedded
from loyalty_core.db.engine import Database
from loyalty_core.db.migrate import migrate
from loyalty_core.ids import new_id
from loyalty_core.members.tables import members
from loyalty_core.modules.manager import ModuleRegistry, build_registry
from loyalty_core.tenants.models import Tenant
from loyalty_core.tenants.service import create_tenant
from sqlalchemy import insert, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

TEST_DATABASE_ENV = "LOYALTY_TEST_DATABASE_URL"
APP_ROLE = "loyalty_app"
MODULES_INI = "loyalty_modules"


@dataclass(frozen=True)
class DatabaseUrls:
    """Where the session's database is: as its owner (migrations) and as the app role."""

    owner: URL
    app: URL


@pytest.fixture(scope="session")
def loyalty_registry(request: pytest.FixtureRequest) -> ModuleRegistry:
    """The core, every installed module and the ``loyalty_modules`` ini option's modules."""
    names: list[str] = request.config.getini(MODULES_INI)
    return build_registry(plugins=[importlib.import_module(name) for name in names])


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def database_urls(
    tmp_path_factory: pytest.TempPathFactory, loyalty_registry: ModuleRegistry
) -> AsyncIterator[DatabaseUrls]:
    """A migrated database for the session, dropped at the end when it was made on a server."""
    external = os.environ.get(TEST_DATABASE_ENV)
    server = make_url(external).set(drivername="postgresql+asyncpg") if external else None
    if server is not None:
        owner = await _create_database(server, f"loyalty_test_{secrets.token_hex(4)}")
    else:
        owner = start_embedded(tmp_path_factory.mktemp("postgres"), database="loyalty_test")
    app_password = secrets.token_urlsafe(16)
    try:
        await migrate(
            owner,
            app_role=APP_ROLE,
            app_password=app_password,
            module_locations=module_migrations(loyalty_registry),
        )
        yield DatabaseUrls(owner=owner, app=owner.set(username=APP_ROLE, password=app_password))
    finally:
        if server is not None and owner.database:
            await _drop_database(server, owner.database)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def db(database_urls: DatabaseUrls) -> AsyncIterator[Database]:
    """The database as the gateway sees it: the app role, so row-level security applies."""
    database = Database.connect(database_urls.app)
    yield database
    await database.dispose()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def owner_db(database_urls: DatabaseUrls) -> AsyncIterator[Database]:
    """The database as its owner: for catalogue checks only, never for the code under test."""
    database = Database.connect(database_urls.owner, pool_size=2)
    yield database
    await database.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def tenant(db: Database) -> Tenant:
    """A tenant of its own for one test."""
    return await create_test_tenant(db)


async def create_test_tenant(db: Database) -> Tenant:
    """A new tenant with a unique slug (tests run against one shared database)."""
    async with db.platform_transaction() as conn:
        return await create_tenant(conn, slug=f"test-{secrets.token_hex(6)}", name="Test tenant")


@pytest_asyncio.fixture(loop_scope="session")
async def member(db: Database, tenant: Tenant) -> uuid.UUID:
    """The id of a member of ``tenant`` (a bare row: no identifiers, no profile)."""
    async with db.tenant_transaction(tenant.id) as conn:
        return await insert_member(conn, tenant.id)


async def insert_member(conn: AsyncConnection, tenant_id: uuid.UUID) -> uuid.UUID:
    """A bare member row for ledger tests, which need a member but none of its details."""
    member_id = new_id()
    await conn.execute(insert(members).values(tenant_id=tenant_id, id=member_id))
    return member_id


def module_migrations(registry: ModuleRegistry) -> list[Path]:
    """Every module's migrations, as ``loyalty migrate`` applies them."""
    return [m.migrations for m in registry.modules.values() if m.migrations is not None]


async def _create_database(server: URL, name: str) -> URL:
    """Create ``name`` on ``server``."""
    await _run_outside_transaction(server, f'CREATE DATABASE "{name}"')
    return server.set(database=name)


async def _drop_database(server: URL, name: str) -> None:
    """Drop the session's database, ending connections a failed test may have left open."""
    await _run_outside_transaction(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _run_outside_transaction(server: URL, statement: str) -> None:
    """Run ``statement`` on ``server`` in autocommit (CREATE and DROP DATABASE refuse to run
    in a transaction)."""
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


__all__ = [
    "APP_ROLE",
    "DatabaseUrls",
    "create_test_tenant",
    "database_urls",
    "db",
    "insert_member",
    "loyalty_registry",
    "member",
    "module_migrations",
    "owner_db",
    "tenant",
]
