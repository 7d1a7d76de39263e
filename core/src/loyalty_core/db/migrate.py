"""Schema migrations: Alembic with one base per distribution in one ``alembic_version`` table.

The core's base carries the branch label ``core``; each module's first revision has its own
label and ``depends_on`` a core revision. ``upgrade heads`` applies all of them in dependency
order. Before Alembic runs, the roles are put in place: the group role migrations grant to,
and the login role the gateway serves with (neither superuser, nor owner, nor BYPASSRLS).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.engine import URL

from loyalty_core.db.engine import create_engine
from loyalty_core.db.security import RUNTIME_ROLE

CORE_MIGRATIONS = Path(str(resources.files("loyalty_core") / "migrations"))


def alembic_config(module_locations: Sequence[Path]) -> Config:
    """An Alembic config over the core's scripts plus every module's version location."""
    config = Config()
    config.set_main_option("script_location", str(CORE_MIGRATIONS))
    locations = [CORE_MIGRATIONS / "versions", *module_locations]
    config.set_main_option("version_locations", " ".join(str(p) for p in locations))
    config.set_main_option("path_separator", "space")
    return config


async def migrate(
    owner_url: URL, *, app_role: str, app_password: str, module_locations: Sequence[Path] = ()
) -> None:
    """Create the roles and upgrade every head (core and modules). Safe to run again."""
    engine = create_engine(owner_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_ensure_roles, app_role, app_password)
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade, alembic_config(module_locations))
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class MigrationStatus:
    """How the database compares with the code: heads not applied yet, and revisions the
    database records that no loaded module provides (a module uninstalled since)."""

    pending: frozenset[str]
    uninstalled: tuple[str, ...]


async def migration_status(
    owner_or_app_url: URL, module_locations: Sequence[Path] = ()
) -> MigrationStatus:
    """Where the database stands (nothing pending and nothing uninstalled: at head)."""
    engine = create_engine(owner_or_app_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_status, alembic_config(module_locations))
    finally:
        await engine.dispose()


def _status(conn: Connection, config: Config) -> MigrationStatus:
    """Pending: heads that are neither recorded in ``alembic_version`` nor below a recorded
    one. Alembic records only the tips: a head that another branch ``depends_on`` (a module's
    migration depending on the core's latest revision) leaves the table once that branch is
    applied, although it is applied too; so when that module is uninstalled, the core's head
    looks pending (and ``uninstalled`` says why)."""
    script = ScriptDirectory.from_config(config)
    known = {revision.revision for revision in script.walk_revisions()}
    recorded = MigrationContext.configure(conn).get_current_heads()
    current = tuple(r for r in recorded if r in known)
    applied = {r.revision for r in script.revision_map.iterate_revisions(current, "base")}
    uninstalled = tuple(sorted(r for r in recorded if r not in known))
    return MigrationStatus(frozenset(set(script.get_heads()) - applied), uninstalled)


class UninstalledModuleRevisions(RuntimeError):
    """The database records revisions no installed distribution provides: a module's tables
    were migrated, then the module was uninstalled (or a sync removed it). Alembic would stop
    with "Can't locate revision"; this names the module and what to do instead."""

    def __init__(self, revisions: Sequence[str]) -> None:
        self.revisions = tuple(revisions)
        super().__init__("; ".join(_explain(revision) for revision in self.revisions))


def _explain(revision: str) -> str:
    module = _module_of(revision)
    owner = f"of module {module!r}" if module else "of a module"
    return (
        f"the database has revision {revision} {owner}, which is not installed: install it "
        f"again (its distribution, in the same environment as the gateway), or, to retire it, "
        f"downgrade its branch to base with it installed before uninstalling it"
    )


def _module_of(revision: str) -> str | None:
    """The module a revision belongs to, by the convention that ids are ``<module>_<NNNN>``."""
    match = _MODULE_REVISION.fullmatch(revision)
    return match.group(1) if match else None


_MODULE_REVISION = re.compile(r"([a-z][a-z0-9_]*?)_\d+")


def _check_known(conn: Connection, script: ScriptDirectory) -> None:
    """Refuse a database that records a revision none of the loaded scripts provides."""
    known = {revision.revision for revision in script.walk_revisions()}
    current = MigrationContext.configure(conn).get_current_heads()
    unknown = sorted(r for r in current if r not in known)
    if unknown:
        raise UninstalledModuleRevisions(unknown)


def _upgrade(conn: Connection, config: Config) -> None:
    _check_known(conn, ScriptDirectory.from_config(config))
    config.attributes["connection"] = conn
    command.upgrade(config, "heads")


def _ensure_roles(conn: Connection, app_role: str, app_password: str) -> None:
    quoted_role = conn.dialect.identifier_preparer.quote(app_role)
    password = _literal(app_password)
    exists = text("SELECT 1 FROM pg_roles WHERE rolname = :name")
    if conn.execute(exists, {"name": RUNTIME_ROLE}).first() is None:
        conn.execute(text(f"CREATE ROLE {RUNTIME_ROLE} NOLOGIN"))
    if conn.execute(exists, {"name": app_role}).first() is None:
        conn.execute(text(f"CREATE ROLE {quoted_role} LOGIN"))
    conn.execute(
        text(
            f"ALTER ROLE {quoted_role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS "
            f"PASSWORD {password}"
        )
    )
    conn.execute(text(f"GRANT {RUNTIME_ROLE} TO {quoted_role}"))
    database = conn.execute(text("SELECT current_database()")).scalar_one()
    quoted_db = conn.dialect.identifier_preparer.quote(database)
    conn.execute(text(f"GRANT CONNECT ON DATABASE {quoted_db} TO {RUNTIME_ROLE}"))
    conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {RUNTIME_ROLE}"))


def _literal(value: str) -> str:
    """A SQL string literal (DDL takes no bind parameters)."""
    return "'" + value.replace("'", "''") + "'"


__all__ = [
    "CORE_MIGRATIONS",
    "MigrationStatus",
    "UninstalledModuleRevisions",
    "alembic_config",
    "migrate",
    "migration_status",
]
