"""The window job: ends qualification windows, grace periods and overrides, and warns.

Set-based and idempotent. Window ends, the step that meets a million members at once on
New Year's Day, run as one statement per batch (``repository.close_windows``) under the
tenant's window lock (a second runner finds it taken and leaves); the batch is summed,
decided by the ladder's policy in SQL (the same rules as ``ladder.at_window_end``, which
the simulation uses; a property test holds the two together), applied by a conditional
update claimed by each member's window end and level, with its history rows, so a window
ends once however many runners there are and an upgrade that committed in between is never
overwritten. Downgrades are announced in the same transaction. Grace ends, override expiries
and warnings are fewer and decided in Python from grouped sums.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from loyalty_core.sdk import Database, Job, JobContext, conditions, events
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_tiers import expression, service
from loyalty_tiers import repository as repo
from loyalty_tiers.ladder import DowngradePolicy, Ladder, Metric, at_grace_end
from loyalty_tiers.settings import TierSettings

BATCH = 10_000


async def run(context: JobContext) -> int:
    """Every due step for one tenant; how many members it changed or warned."""
    settings = context.settings
    assert isinstance(settings, TierSettings)
    tenant_id = context.tenant.id
    async with context.database.tenant_transaction(tenant_id) as conn:
        found = await service.load(conn, tenant_id, settings)
    if found is None:
        return 0
    today = found.today(context.now)
    database = context.database
    done = await close_windows(database, tenant_id, found.ladder, today)
    done += await _end_graces(database, tenant_id, found.ladder, today)
    done += await _expire_overrides(database, tenant_id, context)
    done += await _warn(database, tenant_id, found.ladder, today, settings.warning_days)
    return done


async def close_windows(
    database: Database, tenant_id: uuid.UUID, ladder: Ladder, today: date
) -> int:
    """End every window that ended by ``today``, a batch per transaction in member order,
    pass after pass until a pass finds none due (a member several windows behind, after a
    pause of the job, is due again after its first window ended). Under an EXPRESSION
    ladder a member its expression fails for is skipped (its window stays open, its level
    stays, the failure is counted) and tried again on the next run; a new window it fails
    for reaches no level yet."""
    done, after, found_in_pass = 0, uuid.UUID(int=0), 0
    skipped: set[uuid.UUID] = set()  # counted once per run, however many passes meet them
    while True:
        async with database.tenant_transaction(tenant_id) as conn:
            if not await repo.lock_windows(conn, tenant_id):
                return done  # another runner is ending this tenant's windows
            if ladder.metric is Metric.EXPRESSION:
                closed = await _close_expressed(conn, tenant_id, ladder, today, after, skipped)
            else:
                closed = await repo.close_windows(
                    conn, tenant_id, today=today, after=after, batch=BATCH, **_rules(ladder)
                )
            await events.announce(
                conn,
                tenant_id,
                service.DOWNGRADED,
                [
                    {
                        "memberId": str(row.member_id),
                        "from": row.old_level,
                        "to": row.new_level,
                        "reason": "window ended",
                        "metric": int(row.ended),
                    }
                    for row in closed.downgraded
                ],
            )
        done += closed.count
        found_in_pass += closed.count
        if closed.last is not None:
            after = closed.last
        elif found_in_pass:
            after, found_in_pass = uuid.UUID(int=0), 0  # another pass for those still due
        else:
            return done


def _rules(ladder: Ladder) -> dict[str, Any]:
    """The ladder as :func:`repo.close_windows` applies it."""
    return {
        "names": [level.name for level in ladder.levels],
        "thresholds": [lv.threshold for lv in ladder.levels if lv.threshold is not None],
        "ranks": [i + 1 for i, lv in enumerate(ladder.levels) if lv.threshold is not None],
        "policy": ladder.downgrade.value,
        "grace_days": ladder.grace_days,
        "length": ladder.length(),
        "step": ladder.step(),
        "actor": service.MODULE_ACTOR,
    }


async def _close_expressed(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    ladder: Ladder,
    today: date,
    after: uuid.UUID,
    skipped: set[uuid.UUID],
) -> repo.Closed:
    """A batch under an EXPRESSION ladder: its aggregates read in one statement, the
    expression evaluated per member in Python (CEL has no SQL), the metrics applied by the
    same statement as every ladder's. Members it fails for join ``skipped``."""
    assert ladder.expression is not None
    due = await repo.due_aggregates(
        conn, tenant_id, today=today, after=after, batch=BATCH, length=ladder.length()
    )
    decided, failed = [], service.Failures()
    for member_id, level, window_end, ended, following in due:
        if member_id in skipped:
            continue
        try:
            metric = expression.value(ladder.expression, ended)
        except conditions.ConditionFailed as exc:
            failed.add(exc)
            skipped.add(member_id)
            continue
        try:
            floor = expression.value(ladder.expression, following)
        except conditions.ConditionFailed:
            floor = -expression.MAX_METRIC  # the new window reaches nothing yet
        decided.append(repo.Decided(member_id, level, window_end, metric, floor))
    closed = await repo.close_windows(
        conn,
        tenant_id,
        today=today,
        after=after,
        batch=BATCH,
        given=decided,
        **_rules(ladder),
    )
    await service.count_failures(conn, tenant_id, failed)
    return replace(closed, last=due[-1][0] if due else None)


async def _end_graces(database: Database, tenant_id: uuid.UUID, ladder: Ladder, today: date) -> int:
    """Members whose grace ran out keep what the new window earned by then, at least the
    level the ended window left them."""
    if ladder.downgrade is not DowngradePolicy.GRACE:
        return 0
    async with database.tenant_transaction(tenant_id) as conn:
        rows = await repo.due_graces(conn, tenant_id, today, BATCH)
        sums = await repo.window_sums(
            conn,
            tenant_id,
            [(r.member_id, ladder.window_start(r.window_end), r.window_end) for r in rows],
        )
        changes, downgrades, failed = [], [], service.Failures()
        for row in rows:
            try:
                metric = service.metric_of(ladder, sums[row.member_id])
            except conditions.ConditionFailed as exc:
                failed.add(exc)  # the grace goes on; tried again on the next run
                continue
            level = at_grace_end(ladder, row.level, row.grace_level, metric)
            if not await repo.end_grace(
                conn,
                tenant_id,
                row.member_id,
                grace_until=row.grace_until,
                old_level=row.level,
                level=level,
            ):
                continue
            kept = level == row.level
            changes.append(
                {
                    "member_id": row.member_id,
                    "kind": "kept" if kept else "downgrade",
                    "from_level": row.level,
                    "to_level": level,
                    "reason": f"grace ended {row.grace_until - timedelta(days=1)}: metric {metric}",
                    "actor": service.MODULE_ACTOR,
                    "metric": metric,
                }
            )
            if not kept:
                downgrades.append(
                    {
                        "memberId": str(row.member_id),
                        "from": row.level,
                        "to": level,
                        "reason": "grace ended",
                        "metric": metric,
                    }
                )
        await repo.add_history(conn, tenant_id, changes)
        await events.announce(conn, tenant_id, service.DOWNGRADED, downgrades)
        await service.count_failures(conn, tenant_id, failed)
    return len(changes)


async def _expire_overrides(database: Database, tenant_id: uuid.UUID, context: JobContext) -> int:
    async with database.tenant_transaction(tenant_id) as conn:
        rows = await repo.expire_overrides(conn, tenant_id, context.now, BATCH)
        await repo.add_history(
            conn,
            tenant_id,
            [
                {
                    "member_id": row.member_id,
                    "kind": "override_expired",
                    "from_level": row.override_level,
                    "to_level": row.level,
                    "reason": "override expired: back to the earned level",
                    "actor": service.MODULE_ACTOR,
                }
                for row in rows
            ],
        )
    return len(rows)


async def _warn(
    database: Database, tenant_id: uuid.UUID, ladder: Ladder, today: date, days: int
) -> int:
    """Warn, once per window, members whose metric does not yet hold their level
    ``days`` before the window ends (``tiers.downgrade_warning``)."""
    async with database.tenant_transaction(tenant_id) as conn:
        rows = await repo.claim_warnings(
            conn, tenant_id, today, today + timedelta(days=days), BATCH
        )
        sums = await repo.window_sums(
            conn,
            tenant_id,
            [(r.member_id, ladder.window_start(r.window_end), r.window_end) for r in rows],
        )
        warnings, failed = [], service.Failures()
        for row in rows:
            level = ladder.level(row.level)
            threshold = 0 if level is None or level.threshold is None else level.threshold
            try:
                missing = threshold - service.metric_of(ladder, sums[row.member_id])
            except conditions.ConditionFailed as exc:
                failed.add(exc)
                continue
            if missing > 0:
                warnings.append(
                    {
                        "memberId": str(row.member_id),
                        "level": row.level,
                        "missing": missing,
                        "by": (row.window_end - timedelta(days=1)).isoformat(),
                    }
                )
        await events.announce(conn, tenant_id, service.WARNING, warnings)
        await service.count_failures(conn, tenant_id, failed)
    return len(warnings)


WINDOW_JOB = Job(name="tiers.windows", run=run, interval=timedelta(minutes=15))

__all__ = ["WINDOW_JOB", "close_windows", "run"]
