"""The window job: ends qualification windows, grace periods and overrides, and warns.

Set-based and idempotent: each step reads a batch of due members with ``FOR UPDATE SKIP
LOCKED`` (a second runner skips what the first holds), decides the batch in Python from
two grouped sums (the ended window and the one after it) and applies it with one
conditional ``UPDATE ... FROM unnest(...)`` claimed by each member's old window end and
level, so a window ends once however many runners there are, and an upgrade that committed
in between is never overwritten. History rows and domain events are written for what the
update returned, in the same transaction.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from loyalty_core.sdk import Database, Job, JobContext, events
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_tiers import repository as repo
from loyalty_tiers import service
from loyalty_tiers.ladder import DowngradePolicy, Ladder, add_months, at_grace_end, at_window_end
from loyalty_tiers.settings import TierSettings

BATCH = 1000


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
    """End every window that ended by ``today``, a batch per transaction."""
    done = 0
    while True:
        async with database.tenant_transaction(tenant_id) as conn:
            rows = await repo.due_windows(conn, tenant_id, today, BATCH)
            applied = await _close_batch(conn, tenant_id, ladder, rows)
        done += applied
        # A member several windows behind (a job that did not run for a while) is due
        # again at once: batches go on until nothing is due or nothing could be claimed.
        if applied == 0:
            return done


async def _close_batch(
    conn: AsyncConnection, tenant_id: uuid.UUID, ladder: Ladder, rows: list[Any]
) -> int:
    if not rows:
        return 0
    length = ladder.length()
    ended = await repo.window_sums(
        conn,
        tenant_id,
        [(r.member_id, add_months(r.window_end, -length), r.window_end) for r in rows],
    )
    following = await repo.window_sums(
        conn,
        tenant_id,
        [(r.member_id, r.window_end, add_months(r.window_end, length)) for r in rows],
    )
    decided: list[dict[str, Any]] = []
    for row in rows:
        level = row.level if ladder.rank(row.level) >= 0 else None
        decision = at_window_end(ladder, level, ended[row.member_id])
        # The next window may have reached a level already (events ingested before this run).
        earned_since = ladder.qualifying(following[row.member_id])
        new_level = ladder.higher(decision.level, earned_since)
        in_grace = decision.in_grace and ladder.rank(earned_since) < ladder.rank(level)
        grace_level = decision.grace_level if in_grace else None
        decided.append(
            {
                "member_id": row.member_id,
                "old_level": row.level,
                "old_end": row.window_end,
                "level": new_level,
                "base_level": grace_level if in_grace else new_level,
                "window_end": add_months(row.window_end, ladder.step()),
                "grace_level": grace_level,
                "grace_until": row.window_end + timedelta(days=ladder.grace_days)
                if in_grace
                else None,
                "changed": new_level != row.level,
                "metric": ended[row.member_id],
            }
        )
    applied = set(await repo.close_windows(conn, tenant_id, decided))
    changes, downgrades = [], []
    for item in decided:
        if item["member_id"] not in applied:
            continue
        if item["changed"]:
            down = ladder.rank(item["level"]) < ladder.rank(item["old_level"])
            changes.append(_history(item, "downgrade" if down else "upgrade", ladder))
            if down:
                downgrades.append(_announcement(item))
        elif item["grace_until"] is not None:
            changes.append(_history(item, "grace", ladder))
    await repo.add_history(conn, tenant_id, changes)
    await events.announce(conn, tenant_id, service.DOWNGRADED, downgrades)
    return len(applied)


def _history(item: dict[str, Any], kind: str, ladder: Ladder) -> dict[str, Any]:
    end = item["old_end"] - timedelta(days=1)
    if kind == "grace":
        reason = (
            f"window ended {end}: metric {item['metric']} no longer holds {item['old_level']}; "
            f"grace until {item['grace_until'] - timedelta(days=1)}"
        )
        to_level = item["old_level"]
    else:
        policy = ladder.downgrade.value if kind == "downgrade" else "qualified"
        reason = f"window ended {end}: metric {item['metric']} ({policy})"
        to_level = item["level"]
    return {
        "member_id": item["member_id"],
        "kind": kind,
        "from_level": item["old_level"],
        "to_level": to_level,
        "reason": reason,
        "actor": service.MODULE_ACTOR,
        "metric": item["metric"],
    }


def _announcement(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "memberId": str(item["member_id"]),
        "from": item["old_level"],
        "to": item["level"],
        "reason": "window ended",
        "metric": item["metric"],
    }


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
        changes, downgrades = [], []
        for row in rows:
            metric = sums[row.member_id]
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
            item = {
                "member_id": row.member_id,
                "old_level": row.level,
                "level": level,
                "metric": metric,
            }
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
                downgrades.append(_announcement(item))
        await repo.add_history(conn, tenant_id, changes)
        await events.announce(conn, tenant_id, service.DOWNGRADED, downgrades)
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
        warnings = []
        for row in rows:
            level = ladder.level(row.level)
            threshold = 0 if level is None or level.threshold is None else level.threshold
            missing = threshold - sums[row.member_id]
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
    return len(warnings)


WINDOW_JOB = Job(name="tiers.windows", run=run, interval=timedelta(minutes=15))

__all__ = ["WINDOW_JOB", "close_windows", "run"]
