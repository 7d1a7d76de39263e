"""The request context every resolver receives as ``info.context``.

Reads of one request share one connection and transaction, guarded by a lock because GraphQL
resolves sibling fields concurrently and a connection runs one statement at a time. That
transaction reads one snapshot (REPEATABLE READ, ``tenant_read``): every field of a document
sees the same moment of the ledger, however many statements they take and whatever other
requests commit meanwhile; it ends with ROLLBACK. Each mutation writes in a transaction of its
own, so a failed mutation rolls back alone; after-commit handlers run once it committed. A
write ends the snapshot (and what the DataLoaders read from it), so the fields read after a
mutation see it: a mutation's payload, the next mutation's.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.dataloader import DataLoader

from loyalty_core.auth import Principal, require_tenant
from loyalty_core.db.engine import Database, raise_if_lost
from loyalty_core.db.errors import db_answer
from loyalty_core.modules.dispatch import DomainEvents
from loyalty_core.modules.manager import ModuleRegistry
from loyalty_core.modules.redemptions import publishing
from loyalty_core.settings import Settings
from loyalty_core.tenants.models import Tenant

K = TypeVar("K")
V = TypeVar("V")


@dataclass
class RequestContext:
    """``info.context`` of every resolver: the caller, the tenant and its enabled modules, the
    database and the request's DataLoaders."""

    principal: Principal | None
    tenant: Tenant | None
    database: Database
    registry: ModuleRegistry
    enabled_modules: dict[str, BaseModel]
    settings: Settings
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    loaders: dict[str, Any] = field(default_factory=dict)
    """Per-request DataLoaders by name; created on first use (``loader()``)."""
    notifier: Any = None
    """The gateway's balance notifier (``await subscribe(tenant_id, member_id)``, closed with
    ``aclose``) for subscriptions."""
    # Made on the first read: a request that reads nothing (or only writes) pays for none.
    _stack: AsyncExitStack | None = None
    _read_conn: AsyncConnection | None = None
    _lock: asyncio.Lock | None = None
    _closed: bool = False

    @property
    def tenant_id(self) -> uuid.UUID:
        return require_tenant(self.principal)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def loader(
        self,
        name: str,
        load: Callable[[AsyncConnection, list[K]], Awaitable[Sequence[V]]],
        *,
        cache_key: Callable[[K], Hashable] | None = None,
    ) -> DataLoader[K, V]:
        """The request's DataLoader ``name``, created on first use: ``load`` reads the values
        of a batch of keys (one per key, in their order) on the request's read connection, so
        every to-many field of a list costs one query per list."""
        existing = self.loaders.get(name)
        if existing is None:

            async def batch(keys: list[K]) -> Sequence[V]:
                async with self.read() as conn:
                    return await load(conn, keys)

            existing = self.loaders[name] = DataLoader(load_fn=batch, cache_key_fn=cache_key)
        return cast(DataLoader[K, V], existing)

    def module_settings(self, name: str) -> BaseModel | None:
        """The tenant's settings of an enabled module, or None when it is not enabled."""
        return self.enabled_modules.get(name)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """The request's shared read transaction, opened on first use. A statement that
        fails because the connection was lost raises :class:`~loyalty_core.errors.Unavailable`
        (and so does every later read of the request: its snapshot is gone)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._closed:
                raise RuntimeError("the request has ended: its reads are over")
            conn = self._read_conn
            if conn is None:
                self._stack = AsyncExitStack()
                conn = self._read_conn = await self._stack.enter_async_context(
                    self.database.tenant_read(self.tenant_id)
                )
            try:
                yield conn
            except BaseException as exc:
                raise_if_lost(exc, conn)
                raise

    @asynccontextmanager
    async def write(self) -> AsyncIterator[tuple[AsyncConnection, DomainEvents]]:
        """A transaction of its own, with the publisher for domain events; commits on exit
        and then runs the after-commit handlers. What the database refuses because of what
        the caller sent (an unknown id, a value out of range) is raised as the answer it is
        (:mod:`loyalty_core.db.errors`), after the rollback."""
        events = DomainEvents(self.registry, self.enabled_modules, self.database, self.tenant)
        try:
            with publishing(events):
                async with self.database.tenant_transaction(self.tenant_id) as conn:
                    yield conn, events
        except DBAPIError as error:  # inline, not db_answers(): free unless raised
            events.discard()
            answer = db_answer(error)
            if answer is None:
                raise
            raise answer from error
        except BaseException:
            events.discard()
            raise
        if self._read_conn is not None:
            await self.end_snapshot()
        await events.run_after_commit()

    async def end_snapshot(self) -> None:
        """End the shared read transaction and forget what the DataLoaders read in it: the
        next read takes a new snapshot. After a write, so that later fields see it; between
        the results of a subscription, each of which is a moment of its own."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            self.loaders.clear()
            stack, self._stack, self._read_conn = self._stack, None, None
            if stack is not None:
                await stack.aclose()

    async def close(self) -> None:
        """End the shared read transaction (called by the gateway after the response), and
        drop the DataLoaders: their load functions refer back to this context, a cycle that
        only the garbage collector would free, in pauses that stall every request in flight
        (50 ms for a young generation of dashboard requests' leftovers).

        A field that failed makes graphql-core stop waiting for its siblings, so a sibling
        may still be reading, or be opening the transaction, when the response is done:
        closing waits for the lock it holds, and a sibling that comes after finds the reads
        over. Closing the transaction under a running reader would leave its connection lent
        for good (the process's connections ran out after a few such requests)."""
        self._closed = True
        if self._lock is None:
            self.loaders.clear()
        else:
            await self.end_snapshot()


__all__ = ["RequestContext"]
