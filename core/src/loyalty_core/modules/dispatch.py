"""Domain events: written to the outbox and handed to the enabled modules' handlers.

In-transaction handlers run in the writer's transaction (their failure rolls the write back);
after-commit handlers are queued and run once the caller committed (their failure is logged,
never undoes what was committed). Only modules the tenant enabled receive events.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.db.engine import Database
from loyalty_core.db.rows import InsertRows
from loyalty_core.ids import new_id
from loyalty_core.ledger.models import LedgerTransaction
from loyalty_core.ledger.recording import recording
from loyalty_core.modules.contributions import (
    DomainEvent,
    EventHandler,
    HandlerContext,
    HandlerPhase,
)
from loyalty_core.modules.manager import ModuleRegistry
from loyalty_core.modules.topics import EventIngested
from loyalty_core.outbox.tables import outbox
from loyalty_core.tenants.models import Tenant

_log = logging.getLogger(__name__)


_WRITE_OUTBOX = InsertRows(outbox, ["tenant_id", "id", "topic", "payload"])
"""Built once and run by asyncpg: every write publishes."""


@dataclass
class DomainEvents:
    """The publisher for one unit of work of one tenant."""

    registry: ModuleRegistry
    enabled: dict[str, BaseModel]
    database: Database
    tenant: Tenant | None = None
    """The tenant, when the writer has it: handed to handlers (``HandlerContext.tenant``)."""
    _after_commit: list[tuple[EventHandler, DomainEvent, BaseModel]] = field(default_factory=list)

    async def publish(self, conn: AsyncConnection, event: DomainEvent) -> list[LedgerTransaction]:
        """Publish one event; what the in-transaction handlers posted for it."""
        return (await self.publish_many(conn, [event]))[0]

    async def publish_many(
        self, conn: AsyncConnection, events: Sequence[DomainEvent]
    ) -> list[list[LedgerTransaction]]:
        """Write ``events`` to the outbox in one statement, then hand each, in order, to the
        in-transaction handlers (and queue it for the after-commit ones). Returns, per event,
        the ledger transactions its handlers posted (``ledger.recording``)."""
        await _WRITE_OUTBOX.execute(
            conn,
            [
                {"tenant_id": e.tenant_id, "id": new_id(), "topic": e.topic, "payload": e.payload}
                for e in events
            ],
        )
        return [await self._dispatch(conn, event) for event in events]

    async def _dispatch(self, conn: AsyncConnection, event: DomainEvent) -> list[LedgerTransaction]:
        event_id = event.data.event_id if isinstance(event.data, EventIngested) else None
        with recording(event_id) as posted:
            await self._handle(conn, event)
        return posted

    async def _handle(self, conn: AsyncConnection, event: DomainEvent) -> None:
        for name, settings in self.enabled.items():
            module = self.registry.get(name)
            if module is None:
                continue
            for handler in module.event_handlers:
                if handler.topic != event.topic:
                    continue
                if handler.phase is HandlerPhase.AFTER_COMMIT:
                    self._after_commit.append((handler, event, settings))
                    continue
                context = HandlerContext(
                    event.tenant_id,
                    settings,
                    conn,
                    self.database,
                    self.tenant,
                    self.registry,
                    self.enabled,
                )
                await handler.handler(event, context)

    def discard(self) -> None:
        """Forget queued after-commit work (the transaction rolled back)."""
        self._after_commit.clear()

    async def run_after_commit(self) -> None:
        queued, self._after_commit = self._after_commit, []
        for handler, event, settings in queued:
            context = HandlerContext(
                event.tenant_id,
                settings,
                None,
                self.database,
                self.tenant,
                self.registry,
                self.enabled,
            )
            try:
                await handler.handler(event, context)
            except Exception:
                _log.exception("after-commit handler for %s failed", event.topic)


__all__ = ["DomainEvents"]
