"""Migrations and models agree: what ``loyalty migrate`` builds is what the code declares,
and every migration can be undone and redone."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from loyalty_core.db.engine import create_engine
from loyalty_core.db.migrate import alembic_config
from loyalty_core.db.tables import metadata
from loyalty_testing import DatabaseUrls
from sqlalchemy import Connection


async def test_migrated_database_matches_the_declared_tables(database_urls: DatabaseUrls) -> None:
    engine = create_engine(database_urls.owner, pool_size=1)
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(_differences)
    finally:
        await engine.dispose()
    assert differences == []


def _differences(conn: Connection) -> list[object]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_every_core_migration_downgrades_and_upgrades_again(
    database_urls: DatabaseUrls,
) -> None:
    """Run on a database of its own: the session's shared one stays at head."""
    from sqlalchemy import text

    admin = create_engine(database_urls.owner, pool_size=1)
    name = "loyalty_migration_roundtrip"
    try:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    engine = create_engine(database_urls.owner.set(database=name), pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_round_trip)
    finally:
        await engine.dispose()


def _round_trip(conn: Connection) -> None:
    config = alembic_config([])
    config.attributes["connection"] = conn
    command.upgrade(config, "heads")
    command.downgrade(config, "base")
    command.upgrade(config, "heads")
