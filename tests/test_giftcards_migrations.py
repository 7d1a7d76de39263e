"""The gift cards branch migrates down and up again on its own, beside the core's."""

from __future__ import annotations

from alembic import command
from loyalty_core.db.engine import create_engine
from loyalty_core.db.migrate import alembic_config
from loyalty_core.modules.manager import build_registry
from loyalty_testing import DatabaseUrls
from sqlalchemy import Connection, text

NAME = "loyalty_giftcards_roundtrip"


async def test_the_giftcards_branch_downgrades_and_upgrades_again(
    database_urls: DatabaseUrls,
) -> None:
    admin = create_engine(database_urls.owner, pool_size=1)
    try:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{NAME}"'))
    finally:
        await admin.dispose()
    engine = create_engine(database_urls.owner.set(database=NAME), pool_size=1)
    try:
        async with engine.begin() as conn:
            tables = await conn.run_sync(_round_trip)
    finally:
        await engine.dispose()
    assert tables == 5


def _round_trip(conn: Connection) -> int:
    module = build_registry().get("giftcards")
    assert module is not None
    assert module.migrations is not None
    config = alembic_config([module.migrations])
    config.attributes["connection"] = conn
    command.upgrade(config, "heads")
    command.downgrade(config, "giftcards@base")
    gone = conn.execute(text("SELECT to_regclass('giftcards_cards')")).scalar()
    assert gone is None
    command.upgrade(config, "heads")
    return int(
        conn.execute(
            text("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'giftcards\\_%'")
        ).scalar_one()
    )
