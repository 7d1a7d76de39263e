"""Campaign health: a campaign that fails for an event is skipped, counted, and paused after
repeated failures, and the ingestion goes on.

A campaign fails when its condition cannot be evaluated for an event (a division by zero, an
overflow, a type mismatch: :class:`conditions.ConditionFailed`) or an effect cannot be applied
(an amount beyond :data:`definition.MAX_AWARD`, an asset that is gone, a module's effect
raising). The engine then skips it for that event and tells a :class:`Tally`; the event earns
what it would have earned without that campaign.

Failures are rare, successes are not, so only failures write. A tally collects the outcomes
of one transaction (an event's, or a chunk's of a batch) and writes, when the rewards of the
transaction are done, one statement per campaign that failed: an upsert of its
``rule_campaign_health`` row (failures, consecutive failures, the last error) which also
pauses the campaign once the consecutive count reaches its threshold. A campaign evaluated
without failure resets its consecutive count, which costs a statement only when the count
read with the active campaigns was not zero: nothing is written while nothing fails.

Why a row of its own rather than columns of ``rule_campaigns``: concurrent ingestions that
fail wait for each other's lock on the health row, but never on the campaign row, which
budget reservations lock while an award is being made. Health rows are written last in a
transaction (after the ledger's accounts and the budgets) and in campaign order, so those
waits never form a cycle; the pause takes the campaign row with ``SKIP LOCKED`` and leaves
it to the next failure when another transaction holds it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.rules.conditions import ConditionFailed

if TYPE_CHECKING:
    from loyalty_core.rules.engine import CampaignVersion

MAX_MESSAGE = 500
CONDITION = "condition"
EFFECT = "effect"
STAGES = (CONDITION, EFFECT)
"""Where a campaign failed: the ``stage`` label of the failure counter."""

_log = logging.getLogger(__name__)


class CampaignFailed(Exception):
    """A campaign could not be applied to a trigger; the engine skips it and counts it.
    ``error_class`` names what failed (``ZeroDivisionError``, ``AwardOutOfRange``...)."""

    def __init__(self, stage: str, message: str, error_class: str) -> None:
        super().__init__(message)
        self.stage = stage
        self.message = f"{stage}: {message}"[:MAX_MESSAGE]
        self.error_class = error_class[:100]

    @classmethod
    def of(cls, stage: str, error: Exception) -> CampaignFailed:
        """The failure an exception stands for: a condition's names the library's error."""
        if isinstance(error, ConditionFailed):
            return cls(stage, str(error), error.error_class)
        return cls(stage, _describe(error), type(error).__name__)


@dataclass
class FailureStats:
    """Campaign failures and pauses this process recorded, for ``/metrics``: plain numbers, by
    stage only. A label per tenant or campaign would grow a series per campaign that ever
    failed; which campaign failed is on the campaign (``Campaign.health``) and in the logs."""

    failures: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGES, 0))
    pauses: int = 0


STATS = FailureStats()
"""The process's counts. Failures happen deep in the core (requests and jobs alike, with or
without a gateway), so they are counted where they happen, like the definitions cache that
belongs to the process; a gateway exposes them."""


@dataclass
class _Outcomes:
    """One campaign's outcomes in a tally, in order."""

    version: CampaignVersion
    failures: int = 0
    trailing: int = 0
    """Failures since the last success of this tally (all of them when none succeeded)."""
    succeeded: bool = False
    last: CampaignFailed | None = None
    by_stage: dict[str, int] = field(default_factory=dict)


@dataclass
class Failure:
    """A failure as a backtest reports it."""

    campaign_id: uuid.UUID
    message: str


class Tally:
    """What campaigns did in one transaction: failures, and successes that end a run of
    failures. :meth:`record` writes it; a backtest reads :attr:`failures` instead."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        """When the transaction's campaigns ran: the time of its failures."""
        self._outcomes: dict[uuid.UUID, _Outcomes] = {}
        self.failures: list[Failure] = []

    def failed(self, version: CampaignVersion, failure: CampaignFailed) -> None:
        outcomes = self._of(version)
        outcomes.failures += 1
        outcomes.trailing += 1
        outcomes.last = failure
        outcomes.by_stage[failure.stage] = outcomes.by_stage.get(failure.stage, 0) + 1
        self.failures.append(Failure(version.campaign_id, failure.message))

    def succeeded(self, version: CampaignVersion) -> None:
        """The campaign was evaluated (and applied, if it held) without failing. Costs a
        dictionary look-up unless the campaign was failing."""
        outcomes = self._outcomes.get(version.campaign_id)
        if outcomes is None:
            if not version.consecutive_failures:
                return
            outcomes = self._of(version)
        outcomes.succeeded, outcomes.trailing = True, 0

    def _of(self, version: CampaignVersion) -> _Outcomes:
        outcomes = self._outcomes.get(version.campaign_id)
        if outcomes is None:
            outcomes = self._outcomes[version.campaign_id] = _Outcomes(version)
        return outcomes

    async def record(self, conn: AsyncConnection, tenant_id: uuid.UUID) -> None:
        """Write the tally in the caller's transaction, campaign by campaign in id order (so
        that concurrent writers take the health rows' locks in one order), and log each
        failing campaign once."""
        for outcomes in self._in_order():
            if outcomes.failures:
                await _record_failures(conn, tenant_id, outcomes, self.now)
            elif outcomes.version.consecutive_failures:
                campaign_id = outcomes.version.campaign_id
                await conn.execute(_RESET, {"tenant_id": tenant_id, "id": campaign_id})

    def _in_order(self) -> Iterator[_Outcomes]:
        return (self._outcomes[key] for key in sorted(self._outcomes))


async def _record_failures(
    conn: AsyncConnection, tenant_id: uuid.UUID, outcomes: _Outcomes, now: datetime
) -> None:
    version, last = outcomes.version, outcomes.last
    assert last is not None
    threshold = version.definition.pause_after
    reason = f"paused after {threshold} consecutive failures; the last: {last.message}"
    row = (
        await conn.execute(
            _FAIL,
            {
                "tenant_id": tenant_id,
                "id": version.campaign_id,
                "failures": outcomes.failures,
                "trailing": outcomes.trailing,
                "restart": outcomes.succeeded,
                "version": version.version,
                "error": last.message,
                "error_class": last.error_class,
                "at": now,
                "threshold": threshold,
                "reason": reason[:MAX_MESSAGE],
            },
        )
    ).one()
    for stage, count in outcomes.by_stage.items():
        STATS.failures[stage] = STATS.failures.get(stage, 0) + count
    STATS.pauses += int(row.paused)
    _log.warning(
        "campaign failed" + (" and paused itself" if row.paused else ""),
        extra={
            "tenant": str(tenant_id),
            "campaign": str(version.campaign_id),
            "version": version.version,
            "stage": last.stage,
            "errorClass": last.error_class,
            "error": last.message,
            "failures": outcomes.failures,
            "consecutiveFailures": row.consecutive,
            "paused": row.paused,
        },
    )


_FAIL = text(
    """
WITH health AS (
    INSERT INTO rule_campaign_health AS h (
        tenant_id, campaign_id, failures, consecutive, last_version, last_error,
        last_error_class, last_failure_at
    )
    VALUES (:tenant_id, :id, :failures, :trailing, :version, :error, :error_class, :at)
    ON CONFLICT (tenant_id, campaign_id) DO UPDATE SET
        failures = h.failures + excluded.failures,
        consecutive = CASE WHEN :restart THEN excluded.consecutive
                           ELSE h.consecutive + excluded.consecutive END,
        last_version = excluded.last_version,
        last_error = excluded.last_error,
        last_error_class = excluded.last_error_class,
        last_failure_at = excluded.last_failure_at
    RETURNING consecutive
), paused AS (
    UPDATE rule_campaigns SET status = 'paused', status_reason = :reason, updated_at = now()
    WHERE tenant_id = :tenant_id AND id = (
        SELECT id FROM rule_campaigns
        WHERE tenant_id = :tenant_id AND id = :id AND status = 'active'
          AND (SELECT consecutive FROM health) >= :threshold
        FOR NO KEY UPDATE SKIP LOCKED
    )
    RETURNING id
)
SELECT (SELECT consecutive FROM health) AS consecutive, EXISTS (SELECT FROM paused) AS paused
"""
)
"""Count failures and pause the campaign if they reach the threshold, in one statement. The
pause is a conditional update (``status = 'active'``): of concurrent failures past the
threshold, one pauses the campaign and the others find it paused. ``NO KEY UPDATE`` does not
wait for the key-share locks the health rows' foreign key takes."""

_RESET = text(
    "UPDATE rule_campaign_health SET consecutive = 0"
    " WHERE tenant_id = :tenant_id AND campaign_id = :id AND consecutive > 0"
)


def _describe(error: Exception) -> str:
    orig = getattr(error, "orig", None)  # a database error: the server's words, not the SQL
    found = str(orig if orig is not None else error).strip().splitlines()
    return found[0] if found else type(error).__name__


__all__ = [
    "CONDITION",
    "EFFECT",
    "STAGES",
    "STATS",
    "CampaignFailed",
    "Failure",
    "FailureStats",
    "Tally",
]
