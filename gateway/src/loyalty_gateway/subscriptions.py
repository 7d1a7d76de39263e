"""PostgreSQL notifications: one LISTEN connection per process, for balance subscriptions and
for the caller cache.

A trigger on ``ledger_accounts`` (migration ``0002_balance_notify``) calls ``pg_notify`` with
``<tenant>:<member>`` whenever a member's balance changes; PostgreSQL delivers it when the
writing transaction commits, to every gateway replica. Each replica holds one raw asyncpg
connection that LISTENs (a pooled connection cannot: the pool would hand it to someone else)
and wakes the subscriptions of that member in this process. A notification only says "look
again": subscribers read the balance themselves, so notifications may coalesce or repeat.

The process listens on the balance channel only while it has subscribers. Every earn,
redemption and expiry notifies, and a listening session is signalled, and its client woken,
for each of them: a replica that serves tills and no subscriptions would pay that on every
ingest, twice (its listening backend's CPU and its own). The first subscriber LISTENs before
:meth:`BalanceNotifier.subscribe` returns, so no change after that can be missed; the channel
is left at the next keep-alive after the last one has gone.

The same connection listens on ``loyalty_tenant_changed`` (migration
``0006_tenant_change_notify``: a tenant's API keys, row or modules changed) and passes the tenant
id to ``on_tenant_changed``, which drops what the process cached for that tenant.

If the connection drops, the notifier reconnects, wakes every subscriber and reports every
tenant as changed (``None``), since changes may have happened while nobody listened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
import weakref
from collections.abc import AsyncIterator, Callable

import asyncpg
from sqlalchemy.engine import URL

CHANNEL = "loyalty_balance"
TENANT_CHANNEL = "loyalty_tenant_changed"
KEEPALIVE_SECONDS = 30.0
RECONNECT_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0)
LISTENER_APPLICATION_NAME = "loyalty-listener"
"""How the LISTEN connection shows in ``pg_stat_activity``."""

_log = logging.getLogger(__name__)

_Key = tuple[uuid.UUID, uuid.UUID]


class BalanceChanges:
    """One subscriber's changes: each ``anext`` waits until the balance may have changed since
    the previous one. Forgotten when closed, or when nothing references it any more."""

    def __init__(self, notifier: BalanceNotifier, key: _Key) -> None:
        self._notifier = notifier
        self._key = key
        self._changed = asyncio.Event()

    def __aiter__(self) -> AsyncIterator[None]:
        return self

    async def __anext__(self) -> None:
        await self._changed.wait()
        self._changed.clear()

    def notify(self) -> None:
        self._changed.set()

    async def aclose(self) -> None:
        self._notifier.forget(self._key, self)


class BalanceNotifier:
    """The process's LISTEN connection and the subscribers waiting on it."""

    def __init__(
        self,
        url: URL,
        *,
        on_tenant_changed: Callable[[uuid.UUID | None], None] | None = None,
    ) -> None:
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._on_tenant_changed = on_tenant_changed
        self._subscribers: dict[_Key, weakref.WeakSet[BalanceChanges]] = {}
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self._conn: asyncpg.Connection | None = None
        self._conn_lock = asyncio.Lock()
        self._following = False
        """Whether the connection LISTENs on the balance channel (see :meth:`_follow`)."""

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    @property
    def following(self) -> bool:
        """Whether the process listens on the balance channel now."""
        return self._following

    async def subscribe(self, tenant_id: uuid.UUID, member_id: uuid.UUID) -> BalanceChanges:
        """Changes of one member's balances from the moment this returns (the process
        listens on the balance channel by then, if it is connected at all). Close it with
        ``aclose`` when done."""
        key = (tenant_id, member_id)
        changes = BalanceChanges(self, key)
        self._subscribers.setdefault(key, weakref.WeakSet()).add(changes)
        await self._follow()
        return changes

    def forget(self, key: _Key, changes: BalanceChanges) -> None:
        subscribers = self._subscribers.get(key)
        if subscribers is not None:
            subscribers.discard(changes)
            if not subscribers:
                del self._subscribers[key]

    def publish(self, payload: str) -> None:
        """Wake the subscribers a ``<tenant>:<member>`` notification names."""
        tenant, _, member = payload.partition(":")
        try:
            key = (uuid.UUID(tenant), uuid.UUID(member))
        except ValueError:
            _log.warning("ignoring a malformed balance notification %r", payload)
            return
        for changes in list(self._subscribers.get(key, ())):
            changes.notify()

    async def sync(self) -> None:
        """Return once every notification committed before the call has been handled.

        PostgreSQL hands a listening session its pending notifications before the result of
        the session's next query, so one round trip on the LISTEN connection is a barrier: a
        process that must see a change another one just committed (a test, an operator's
        tool) calls this. Without a connection there is nothing to wait for: the cache
        serves nothing while the listener is down.

        It also leaves the balance channel if the last subscriber has gone (the keep-alive
        calls it every :data:`KEEPALIVE_SECONDS`)."""
        await self._follow()
        async with self._conn_lock:
            if self._conn is not None and not self._conn.is_closed():
                await self._conn.execute("SELECT 1", timeout=5.0)

    async def start(self, *, wait: float = 5.0) -> None:
        """Start listening; waits up to ``wait`` seconds for the first connection, then goes
        on connecting in the background (the gateway serves without subscriptions meanwhile)."""
        if self._task is None:
            self._task = asyncio.create_task(self._listen_forever(), name="balance-notifier")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), wait)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _listen_forever(self) -> None:
        attempt = 0
        while True:
            try:
                await self._listen()
                attempt = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _log.warning("balance notifications: %s; reconnecting", exc)
            self._listening.clear()
            await asyncio.sleep(RECONNECT_SECONDS[min(attempt, len(RECONNECT_SECONDS) - 1)])
            attempt += 1

    async def _listen(self) -> None:
        conn = await asyncpg.connect(
            self._dsn, server_settings={"application_name": LISTENER_APPLICATION_NAME}
        )
        closed = asyncio.Event()
        try:
            conn.add_termination_listener(lambda _conn: closed.set())
            await conn.add_listener(TENANT_CHANNEL, self._on_tenant_notification)
            self._conn, self._following = conn, False
            await self._follow()
            self._listening.set()
            self._wake_all()  # changes may have happened while nobody listened
            self._tenant_changed(None)
            while not closed.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(closed.wait(), KEEPALIVE_SECONDS)
                if not closed.is_set():
                    await self.sync()
        finally:
            self._conn, self._following = None, False
            self._listening.clear()
            self._tenant_changed(None)
            if not conn.is_closed():
                await conn.close(timeout=2.0)

    async def _follow(self) -> None:
        """LISTEN on the balance channel while there are subscribers, UNLISTEN once there
        are none (nothing while disconnected: :meth:`_listen` calls this on connecting)."""
        async with self._conn_lock:
            conn = self._conn
            if conn is None or conn.is_closed():
                return
            wanted = any(self._subscribers.values())
            if wanted and not self._following:
                await conn.add_listener(CHANNEL, self._on_notification)
                self._following = True
            elif self._following and not wanted:
                await conn.remove_listener(CHANNEL, self._on_notification)
                self._following = False

    def _on_notification(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        self.publish(str(payload))

    def _on_tenant_notification(
        self, _conn: object, _pid: int, _channel: str, payload: object
    ) -> None:
        try:
            tenant_id = uuid.UUID(str(payload))
        except ValueError:
            _log.warning("ignoring a malformed tenant notification %r", payload)
            return
        self._tenant_changed(tenant_id)

    def _tenant_changed(self, tenant_id: uuid.UUID | None) -> None:
        if self._on_tenant_changed is not None:
            self._on_tenant_changed(tenant_id)

    def _wake_all(self) -> None:
        for subscribers in list(self._subscribers.values()):
            for changes in list(subscribers):
                changes.notify()


__all__ = [
    "CHANNEL",
    "LISTENER_APPLICATION_NAME",
    "TENANT_CHANNEL",
    "BalanceChanges",
    "BalanceNotifier",
]
