"""Engines and tenant-scoped transactions.

Every unit of work runs in one transaction that first sets ``loyalty.tenant_id`` (or the
platform scope) with ``set_config(..., true)``: local to the transaction, so a pooled
connection never carries one tenant's scope into the next request. Row-level security reads
that setting; the repositories filter by tenant as well, so either wall alone keeps tenants
apart.

``BEGIN`` and the ``set_config`` travel together, as one simple-protocol message: SQLAlchemy
would send ``BEGIN`` on its own before the first statement, a round trip every request paid
for nothing. So the pool's connections are in driver-level autocommit, set once when each
connects (:meth:`Database.connect`; SQLAlchemy then sends no ``BEGIN``/``COMMIT`` of its own;
savepoints still work, since the server is in our transaction block), and this module
begins, commits and rolls back itself. A connection whose
rollback fails is invalidated, never handed back to the pool inside a transaction.

Reads take one snapshot (:meth:`Database.tenant_read`, REPEATABLE READ READ ONLY, in the same
message): every statement of the transaction sees the same moment.

The database going away is not a failure of the code: a connection found dead at ``BEGIN``
is replaced, unseen by the caller; one lost during the unit of work raises
:class:`~loyalty_core.errors.Unavailable`, which clients are told to retry.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from loyalty_core.db.held import DATABASE_ERRORS, HeldConnections, is_lost
from loyalty_core.db.prepared import Prepared
from loyalty_core.errors import Unavailable
from loyalty_core.ids import json_default

DIRECT_CONNECTIONS = 4
"""Connections beyond the held ones for code that takes one from the engine directly."""
_COMMIT = Prepared(text("COMMIT"))
_SET_TENANT = text("SELECT set_config('loyalty.tenant_id', :tenant_id, true)")
_BEGIN_TENANT = "BEGIN; SELECT set_config('loyalty.tenant_id', '{}', true)"
_BEGIN_SNAPSHOT = (
    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;"
    " SELECT set_config('loyalty.tenant_id', '{}', true)"
)
_BEGIN_PLATFORM = "BEGIN; SELECT set_config('loyalty.scope', 'platform', true)"
_BEGIN_PLATFORM_READ = "BEGIN READ ONLY; SELECT set_config('loyalty.scope', 'platform', true)"


def _json_serializer(value: object) -> str:
    return orjson.dumps(value, default=json_default).decode()


def create_engine(
    url: URL, *, pool_size: int = 10, max_overflow: int | None = None, autocommit: bool = False
) -> AsyncEngine:
    """An asyncpg engine with orjson for JSONB and a pool sized for one gateway process
    (``max_overflow`` defaults to ``pool_size``); ``autocommit`` for :class:`Database`,
    which begins and ends transactions itself.

    The pool pings a connection when it hands it out: it does so rarely (a held connection's
    first use, readiness checks, migrations; transactions never go through it), and a
    connection the server closed since its last use is then replaced instead of failing the
    readiness probe after every database restart."""
    options = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
    return create_async_engine(
        url,
        **options,
        pool_size=pool_size,
        max_overflow=pool_size if max_overflow is None else max_overflow,
        pool_pre_ping=True,
        json_serializer=_json_serializer,
        json_deserializer=orjson.loads,
    )


class Database:
    """The gateway's handle on PostgreSQL: an engine and the transactions it hands out, each
    on one of the connections the process holds (:mod:`loyalty_core.db.held`)."""

    def __init__(self, engine: AsyncEngine, *, connections: int) -> None:
        """``engine``: one of :meth:`connect` (its connections in driver-level autocommit),
        with room for ``connections`` held ones and a few taken directly (health checks)."""
        self.engine = engine
        self._held = HeldConnections(engine, size=connections)

    @property
    def held_connections(self) -> HeldConnections:
        """The connections this process holds, to see how many are lent."""
        return self._held

    @classmethod
    def connect(cls, url: URL, *, pool_size: int = 10) -> Database:
        """A database on ``url`` whose transactions use at most ``2 * pool_size``
        connections, all in driver-level autocommit (set once per connection, not switched
        on every checkout and back on every return)."""
        held = 2 * pool_size
        engine = create_engine(
            url, pool_size=held, max_overflow=DIRECT_CONNECTIONS, autocommit=True
        )
        return cls(engine, connections=held)

    @asynccontextmanager
    async def tenant_transaction(self, tenant_id: uuid.UUID) -> AsyncIterator[AsyncConnection]:
        """A transaction that sees only ``tenant_id``'s rows; commits on success."""
        # Formatted into the text, not bound: the simple protocol takes no parameters. A UUID's
        # string form is hex digits and dashes only (uuid.UUID() refuses anything else).
        async with self._transaction(_BEGIN_TENANT.format(uuid.UUID(str(tenant_id)))) as conn:
            yield conn

    @asynccontextmanager
    async def tenant_read(self, tenant_id: uuid.UUID) -> AsyncIterator[AsyncConnection]:
        """Like :meth:`tenant_transaction`, for reads only, on one snapshot: REPEATABLE READ,
        so every statement sees the same moment of the database (a GraphQL document reading
        many balances in several statements must never see half of a transfer), and READ
        ONLY, which such a transaction is anyway and which PostgreSQL can tell nobody waits
        on. It ends with ROLLBACK, since there is nothing to keep: so a statement cancelled
        midway (GraphQL stops waiting for the sibling fields of one that failed) cannot make
        the end of the request fail."""
        begin = _BEGIN_SNAPSHOT.format(uuid.UUID(str(tenant_id)))
        async with self._transaction(begin, keep=False) as conn:
            yield conn

    @asynccontextmanager
    async def platform_transaction(self) -> AsyncIterator[AsyncConnection]:
        """A transaction in the platform scope: sees all tenants (and only the tenants table)."""
        async with self._transaction(_BEGIN_PLATFORM) as conn:
            yield conn

    @asynccontextmanager
    async def platform_read(self) -> AsyncIterator[AsyncConnection]:
        """Like :meth:`platform_transaction`, for reads only (READ ONLY, ended with
        ROLLBACK): what an anonymous caller may read of a tenant is read this way, so such a
        request can never write in the platform scope."""
        async with self._transaction(_BEGIN_PLATFORM_READ, keep=False) as conn:
            yield conn

    @asynccontextmanager
    async def _transaction(
        self, begin: str, *, keep: bool = True
    ) -> AsyncIterator[AsyncConnection]:
        """Run ``begin`` (``BEGIN`` and the scope) in one round trip, then commit on success
        (roll back, unless ``keep``) and roll back on any exception, cancellation included.
        A unit of work whose connection was lost midway raises :class:`Unavailable`."""
        conn, driver = await self._begin(begin)
        try:
            try:
                yield conn
            except BaseException as exc:
                await _rollback(conn, driver)
                raise_if_lost(exc, conn)
                raise
            if not keep:
                await _rollback(conn, driver)
                return
            try:
                await _COMMIT.execute(conn)
            except DBAPIError as exc:
                raise_if_lost(exc, conn)  # cut off: committed or not, nobody can tell
                raise  # refused by the server, which ended the transaction
            except BaseException:
                await conn.invalidate()  # cancelled mid-commit: the state is unknown
                raise
        finally:
            self._held.release(conn)

    async def _begin(self, begin: str) -> tuple[AsyncConnection, Any]:
        """A held connection (and its asyncpg connection) inside a new transaction.

        A connection found dead at BEGIN (the server restarted, failed over or ended the
        session since the connection's last use, and asyncpg had not read it yet) is
        discarded and the next one tried: no statement of the unit of work ran, so the
        caller cannot tell (and any database error at BEGIN is the connection's). At most
        once per connection held, then :class:`Unavailable`."""
        lost: BaseException | None = None
        for _ in range(self._held.size + 1):
            conn = await self._held.acquire()
            adapted: Any = conn.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]
            if not adapted.autocommit:
                self._held.release(conn)
                raise RuntimeError("a Database needs an autocommit engine: use Database.connect")
            driver = adapted.driver_connection
            try:
                await driver.execute(begin)
            except BaseException as exc:
                await conn.invalidate()  # a broken connection, or cancelled mid-BEGIN
                self._held.release(conn)
                if not isinstance(exc, DATABASE_ERRORS):
                    raise
                lost = exc
                continue
            return conn, driver
        raise Unavailable("the database closed every connection tried") from lost

    async def dispose(self) -> None:
        await self._held.dispose()
        await self.engine.dispose()


async def _rollback(conn: AsyncConnection, driver: Any) -> None:
    """Roll back; a connection that cannot is invalidated, and the error that led here (not
    the rollback's) is what the caller sees, unless the rollback itself was cancelled."""
    try:
        await driver.execute("ROLLBACK")
    except BaseException as exc:
        # The connection's state is unknown (a cancelled query, a broken socket): it must not
        # go back to the pool, where the next request would find it inside a transaction.
        await conn.invalidate()
        if not isinstance(exc, Exception):
            raise


def raise_if_lost(error: BaseException, conn: AsyncConnection) -> None:
    """Raise :class:`Unavailable` from ``error`` when it says that ``conn``'s session has
    ended: the connection was lost, and the unit of work with it. Any other error (the
    caller's own, a statement the server refused, a cancellation) is left as it is."""
    if is_lost(error, conn):
        raise Unavailable("the connection to the database was lost") from error


async def set_tenant(conn: AsyncConnection, tenant_id: uuid.UUID) -> None:
    """Scope an open transaction to a tenant (used right after creating one)."""
    await conn.execute(_SET_TENANT, {"tenant_id": str(tenant_id)})


__all__ = ["Database", "create_engine", "raise_if_lost", "set_tenant"]
