"""Health of a retailer's definitions: a badge, streak or challenge that fails for an event
is skipped for it, counted and shown, and pauses itself after repeated consecutive failures,
as the core's campaigns do; the ingestion never stops.

A definition fails for an event when its condition cannot be evaluated (a division by zero,
a string compared with a number), a summed field is not a whole number, or its reward cannot
be posted (an asset that is gone, a ledger or module effect refusing it: the posting runs in
a savepoint, undone alone). It succeeds for an event it was evaluated for without failing,
whether its condition held or not.

Failures are rare, successes are not, so only failures write. A :class:`Tally` collects one
event's outcomes and writes them last in the event's transaction, one statement per failing
definition (kind, then id order, so concurrent writers lock in one order), each adding to
``failures`` and ``consecutive_failures`` and pausing the definition (``status`` ``paused``,
``status_reason``) once the consecutive count reaches :data:`PAUSE_AFTER`; a conditional
update, so of concurrent failures past the threshold one pauses it and the others find it
paused. A success resets the consecutive count, which costs a statement only when the cached
definition says it was failing. The catalogue version is raised when a definition starts
failing, pauses or recovers, so every process's cache knows whether to reset, and a paused
definition counts nothing from the next event on.

A definition an admin fixes is resumed by setting its status back to ``ACTIVE``: its
consecutive count starts afresh and the reason is cleared.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from loyalty_core.sdk import ValidationFailed
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_gamification import repository as repo
from loyalty_gamification.models import Status

PAUSE_AFTER = 10
"""Consecutive events a definition failed for after which it pauses itself (the core's
campaign default)."""

MAX_MESSAGE = 500
_TABLES = {
    "badge": "gamification_badges",
    "challenge": "gamification_challenges",
    "streak": "gamification_streaks",
}

_log = logging.getLogger(__name__)


class Definition(Protocol):
    """What the tally needs of a cached badge, streak or challenge."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def consecutive_failures(self) -> int: ...


@dataclass
class _Outcome:
    kind: str
    definition: Definition
    error: str | None = None


def describe(error: Exception) -> str:
    """The failure as shown on the definition: the error's class and its first line (a
    database error's server message, never the SQL)."""
    orig = getattr(error, "orig", None)
    lines = str(orig if orig is not None else error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"[:MAX_MESSAGE]


def status_change(current: Status, wanted: Status) -> dict[str, Any]:
    """The health columns an admin's change of status writes. Only failures pause: a caller
    cannot. Leaving ``paused`` (resuming with ``ACTIVE``, or archiving) clears the reason and
    starts the consecutive count afresh, so a fixed definition gets its threshold again."""
    if wanted is Status.PAUSED and current is not Status.PAUSED:
        raise ValidationFailed(
            "a definition pauses itself after repeated failures; archive it instead",
            field="status",
        )
    if current is Status.PAUSED and wanted is not Status.PAUSED:
        return {"status_reason": None, "consecutive_failures": 0}
    return {}


class Tally:
    """One event's outcomes per definition: the last failure, or a success."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._outcomes: dict[tuple[str, uuid.UUID], _Outcome] = {}

    def failed(self, kind: str, definition: Definition, error: Exception) -> None:
        outcome = self._outcomes.setdefault((kind, definition.id), _Outcome(kind, definition))
        outcome.error = describe(error)

    def succeeded(self, kind: str, definition: Definition) -> None:
        """The definition was evaluated for the event; a dictionary look-up unless it was
        failing."""
        if definition.consecutive_failures:
            self._outcomes.setdefault((kind, definition.id), _Outcome(kind, definition))

    async def record(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, event_id: uuid.UUID
    ) -> None:
        """Write the outcomes in the event's transaction, after everything else it wrote."""
        changed = False
        for key in sorted(self._outcomes):
            outcome = self._outcomes[key]
            definition = outcome.definition
            params = {"tenant_id": tenant_id, "id": definition.id}
            if outcome.error is None:
                await conn.execute(_RESET[outcome.kind], params)
                changed = True
                continue
            reason = f"paused after {PAUSE_AFTER} consecutive failures; the last: {outcome.error}"
            row = (
                await conn.execute(
                    _FAIL[outcome.kind],
                    {
                        **params,
                        "error": outcome.error,
                        "at": self.now,
                        "threshold": PAUSE_AFTER,
                        "reason": reason[:MAX_MESSAGE],
                    },
                )
            ).first()
            paused = row is not None and row.paused
            changed = changed or paused or not definition.consecutive_failures
            _log.warning(
                f"{outcome.kind} skipped for an event it failed for"
                + (", and paused itself" if paused else ""),
                extra={
                    "tenant": str(tenant_id),
                    "definition": str(definition.id),
                    "event": str(event_id),
                    "error": outcome.error,
                    "consecutiveFailures": None if row is None else row.consecutive_failures,
                    "paused": paused,
                },
            )
        if changed:
            await repo.bump_catalogue(conn, tenant_id)


_NEXT = "consecutive_failures + 1"
_FAIL_SQL = f"""
UPDATE {{table}} SET
    failures = failures + 1,
    consecutive_failures = {_NEXT},
    last_error = :error,
    last_failure_at = :at,
    status = CASE WHEN status = 'active' AND {_NEXT} >= :threshold THEN 'paused' ELSE status END,
    status_reason = CASE WHEN status = 'active' AND {_NEXT} >= :threshold THEN :reason
                         ELSE status_reason END
WHERE tenant_id = :tenant_id AND id = :id
RETURNING consecutive_failures, status = 'paused' AND status_reason = :reason AS paused
"""  # noqa: S608 (a table of _TABLES, constants only)
"""Count a failure and pause the definition when it reaches the threshold, in one statement:
``SET`` sees the row as it was, so of concurrent failures only one finds it active at the
threshold."""

_RESET_SQL = """
UPDATE {table} SET consecutive_failures = 0
WHERE tenant_id = :tenant_id AND id = :id AND consecutive_failures > 0
"""


_FAIL = {kind: text(_FAIL_SQL.format(table=table)) for kind, table in _TABLES.items()}
_RESET = {kind: text(_RESET_SQL.format(table=table)) for kind, table in _TABLES.items()}

__all__ = ["PAUSE_AFTER", "Definition", "Tally", "describe", "status_change"]
