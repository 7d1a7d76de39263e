"""P9, tier window end: the tiers module's window job for a million members, against one SQL
statement computing the same new levels.

One tenant with ``--members`` members (default 1 million), each with a standing whose
calendar-year window ended on 1 January and a metric in three months of that year, written
set-based as the owner. The baseline is the fastest way there is to decide those levels: a
single ``UPDATE ... FROM (SELECT ... GROUP BY)`` with the ladder's thresholds inlined,
run in a transaction that is rolled back. The subject is the module's job
(``loyalty_tiers.jobs.close_windows``: one statement per batch that reads the due members
in key order, sums their windows, decides them by the ladder's policy, claims and updates
them and writes a history row for each change, then the domain events of the downgrades),
run for real. Both
must arrive at the same levels (checked). The figure is baseline time over job time. Goal
(issue 23): >= 0.5.

    .venv/bin/python -m bench.p9_tier_window [--members 1000000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from datetime import UTC, date, datetime

from loyalty_core.db.engine import Database
from loyalty_core.tenants.service import create_tenant
from loyalty_tiers import jobs, service
from loyalty_tiers.settings import TierSettings
from sqlalchemy import text

from bench.harness import prepare_database

TITLE = "P9 tier window end: the window job vs one SQL statement"
LADDER = {
    "levels": [
        {"name": "bronze", "threshold": 0},
        {"name": "silver", "threshold": 20_000},
        {"name": "gold", "threshold": 60_000},
        {"name": "platinum", "threshold": 150_000},
    ],
    "metric": "spend",
    "window": "calendar_year",
    "downgrade": "qualifying",
}
WINDOW_END = date(2026, 1, 1)
CHUNK = 100_000


async def seed(owner: Database, tenant_id: uuid.UUID, members: int) -> None:
    """``members`` members, each at a level drawn by its index, with a metric in three
    months of 2025 that keeps, raises or lowers it."""
    async with owner.platform_transaction() as conn:
        for start in range(0, members, CHUNK):
            size = min(CHUNK, members - start)
            params = {"t": tenant_id, "start": start, "end": start + size - 1}
            await conn.execute(
                text(
                    "INSERT INTO members (tenant_id, id) SELECT :t, "
                    "(lpad(to_hex(CAST(:t_hash AS bigint) + n), 32, '0'))::uuid "
                    "FROM generate_series(CAST(:start AS bigint), CAST(:end AS bigint)) AS n"
                ),
                {**params, "t_hash": tenant_id.int % 2**40},
            )
            await conn.execute(
                text(
                    "INSERT INTO tiers_members (tenant_id, member_id, level, base_level, since,"
                    " anchor_month, window_end) "
                    "SELECT :t, (lpad(to_hex(CAST(:t_hash AS bigint) + n), 32, '0'))::uuid, "
                    "(ARRAY['bronze','silver','gold','platinum'])[1 + n % 4], "
                    "(ARRAY['bronze','silver','gold','platinum'])[1 + n % 4], "
                    "now(), 1, :end_date FROM generate_series("
                    "CAST(:start AS bigint), CAST(:end AS bigint)) AS n"
                ),
                {**params, "t_hash": tenant_id.int % 2**40, "end_date": WINDOW_END},
            )
            await conn.execute(
                text(
                    "INSERT INTO tiers_metrics (tenant_id, member_id, month, value) "
                    "SELECT :t, (lpad(to_hex(CAST(:t_hash AS bigint) + n), 32, '0'))::uuid, "
                    "make_date(2025, m, 1), (n * 7919 + m * 104729) % 60000 "
                    "FROM generate_series(CAST(:start AS bigint), CAST(:end AS bigint)) AS n, "
                    "(VALUES (2), (6), (11)) AS v(m)"
                ),
                {**params, "t_hash": tenant_id.int % 2**40},
            )
    async with owner.platform_transaction() as conn:
        await conn.execute(text("ANALYZE members, tiers_members, tiers_metrics"))


SINGLE_STATEMENT = """
UPDATE tiers_members AS s SET
    level = CASE
        WHEN coalesce(m.total, 0) >= 150000 THEN 'platinum'
        WHEN coalesce(m.total, 0) >= 60000 THEN 'gold'
        WHEN coalesce(m.total, 0) >= 20000 THEN 'silver'
        ELSE 'bronze' END,
    window_end = (s.window_end + interval '12 months')::date
FROM tiers_members AS d
LEFT JOIN (
    SELECT member_id, sum(value) AS total FROM tiers_metrics
    WHERE tenant_id = :t AND month >= :start AND month < :end GROUP BY member_id
) AS m ON m.member_id = d.member_id
WHERE s.tenant_id = :t AND d.tenant_id = :t AND d.member_id = s.member_id
  AND s.window_end <= :end
RETURNING s.level
"""


class _RolledBack(Exception):
    """Leaves the baseline's transaction without committing it."""


async def baseline(owner: Database, tenant_id: uuid.UUID) -> tuple[float, dict[str, int]]:
    """The single statement, timed, rolled back: its levels by count."""
    levels: list[str] = []
    elapsed = 0.0
    try:
        async with owner.platform_transaction() as conn:
            started = time.perf_counter()
            rows = await conn.execute(
                text(SINGLE_STATEMENT),
                {"t": tenant_id, "start": date(2025, 1, 1), "end": WINDOW_END},
            )
            levels = [row[0] for row in rows]
            elapsed = time.perf_counter() - started
            raise _RolledBack
    except _RolledBack:
        pass
    return elapsed, _count(levels)


async def vacuum(owner: Database) -> None:
    """What autovacuum does within a minute of a large write: the rolled-back baseline left a
    dead version of every standing row (and an index entry for each), which the job would
    otherwise wade through and be charged for."""
    async with owner.engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(text("VACUUM (ANALYZE) tiers_members, tiers_metrics"))


async def subject(
    app: Database, owner: Database, tenant_id: uuid.UUID
) -> tuple[float, dict[str, int]]:
    """The module's job, timed: its levels by count afterwards."""
    ladder = service.parse_ladder(LADDER)
    started = time.perf_counter()
    closed = await jobs.close_windows(app, tenant_id, ladder, date(2026, 1, 2))
    elapsed = time.perf_counter() - started
    async with owner.platform_transaction() as conn:
        rows = await conn.execute(
            text("SELECT level FROM tiers_members WHERE tenant_id = :t AND window_end > :end"),
            {"t": tenant_id, "end": WINDOW_END},
        )
        levels = [row[0] for row in rows]
    assert closed == len(levels), (closed, len(levels))
    return elapsed, _count(levels)


def _count(levels: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for level in levels:
        found[level] = found.get(level, 0) + 1
    return dict(sorted(found.items()))


async def run(members: int, database_url: str | None) -> float:
    database = await prepare_database(database_url)
    owner, app = database.database(owner=True), database.database()
    try:
        async with owner.platform_transaction() as conn:
            tenant = await create_tenant(conn, slug=f"p9-{uuid.uuid4().hex[:8]}", name="P9")
        async with app.tenant_transaction(tenant.id) as conn:
            await service.set_ladder(
                conn,
                tenant.id,
                TierSettings(),
                service.parse_ladder(LADDER),
                actor="bench:p9",
                now=_now(),
            )
        print(f"seeding {members:,} members ...", flush=True)
        await seed(owner, tenant.id, members)
        single, expected = await baseline(owner, tenant.id)
        await vacuum(owner)
        job, found = await subject(app, owner, tenant.id)
    finally:
        await owner.dispose()
        await app.dispose()
    assert found == expected, (found, expected)
    ratio = single / job
    print(TITLE)
    print(f"members: {members:,}; levels after the window: {found}")
    print(f"single statement (rolled back): {single:8.2f} s")
    print(f"window job (batches of {jobs.BATCH:,}): {job:8.2f} s")
    print(
        f"ratio (single / job): {ratio:.3f}   goal >= 0.5: {'met' if ratio >= 0.5 else 'NOT met'}"
    )
    return ratio


def _now() -> datetime:
    return datetime(2025, 12, 31, 12, tzinfo=UTC)


def main() -> int:
    arguments = argparse.ArgumentParser(description=TITLE)
    arguments.add_argument("--members", type=int, default=1_000_000)
    arguments.add_argument("--database-url", default=None)
    options = arguments.parse_args()
    asyncio.run(run(options.members, options.database_url))
    return 0


__all__ = ["TITLE", "baseline", "main", "run", "seed", "subject", "vacuum"]

if __name__ == "__main__":
    sys.exit(main())
