"""P8, leaderboard: a board's top 10 and a member's neighbourhood, through the gateway vs a
bare Starlette + asyncpg endpoint doing the same reads, on a board of ``--large``
ranked members (default 1 million); and the gateway on that board vs a board of
``--small`` (default 10 thousand) in the same tenant, for flatness.

Scores are written set-based (random scores with ties, ``reached_at`` spread over the
month; the module's triggers count them per block of scores in the same statement), then
VACUUMed and ANALYZEd; the member asked about is the median one (rank about N / 2), whose
rank cost the most to count before those counts. Both sides answer the same JSON (checked before
measuring).
Goals (issue 22): >= 0.5 against the baseline, slowdown <= 1.2 from small to large.

    .venv/bin/python -m bench.p8_leaderboard [--large 1000000 --small 10000 ...]
"""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from loyalty_core.modules.manager import build_registry
from loyalty_core.modules.service import enable_module
from loyalty_core.tenants.service import get_tenant
from loyalty_gamification import leaderboards
from sqlalchemy import text

from bench.harness import (
    Bench,
    Comparison,
    Goal,
    alternate,
    asyncpg_dsn,
    expect_same_answer,
    main,
)
from bench.leaderboard import leaderboard_body
from bench.loadgen import HttpRequest
from bench.seed import SEED_ACTOR, BenchTenant, seed_tenant

TITLE = "P8 leaderboard: top 10 and a member's neighbourhood, gateway vs Starlette + asyncpg"

SCORES = """
INSERT INTO gamification_board_scores
    (tenant_id, board_id, window_key, member_id, score, reached_at)
SELECT :tenant_id, :board_id, :window_key, gen_random_uuid(), (random() * :spread)::bigint,
       CAST(:now AS timestamptz) - make_interval(secs => g)
FROM generate_series(1, :rows) AS g
"""
MEDIAN = """
SELECT member_id FROM gamification_board_scores
WHERE tenant_id = :tenant_id AND board_id = :board_id AND window_key = :window_key
ORDER BY score DESC, reached_at, member_id OFFSET :offset LIMIT 1
"""


def add_arguments(arguments: argparse.ArgumentParser) -> None:
    arguments.add_argument("--large", type=int, default=1_000_000, help="ranked members")
    arguments.add_argument("--small", type=int, default=10_000, help="ranked members, small")


async def measure(bench: Bench) -> list[Comparison]:
    extra = bench.options.extra
    tenant, boards, window_key = await _seed(
        bench, [int(extra.get("small", 10_000)), int(extra.get("large", 1_000_000))]
    )
    (small_board, small_member), (large_board, large_member) = boards
    gateway, baseline = (
        await bench.gateway(),
        await bench.baseline("leaderboard", {"BENCH_APP_DSN": asyncpg_dsn(bench.database.app)}),
    )
    small = _request(tenant, small_board, small_member, window_key)
    large = _request(tenant, large_board, large_member, window_key)
    await expect_same_answer(large, gateway, baseline)
    await expect_same_answer(small, gateway, baseline)
    await _vacuum(bench)
    await bench.analyze()
    baselines, gateways = await alternate(
        bench.http("starlette + asyncpg, large board", baseline, large),
        bench.http("gateway, large board", gateway, large),
        bench.options,
    )
    smalls, larges = await alternate(
        bench.http("gateway, small board", gateway, small),
        bench.http("gateway, large board", gateway, large),
        bench.options,
    )
    return [
        Comparison(
            "P8 leaderboard: gateway / Starlette + asyncpg (large board)",
            "requests",
            baselines,
            gateways,
            Goal(minimum=0.5),
        ),
        Comparison(
            "P8 leaderboard: small-board rate / large-board rate",
            "requests",
            smalls,
            larges,
            Goal(maximum=1.2),
            slowdown=True,
        ),
    ]


async def _seed(
    bench: Bench, sizes: list[int]
) -> tuple[BenchTenant, list[tuple[uuid.UUID, uuid.UUID]], str]:
    """A tenant with the module enabled and a monthly spend board per size, filled."""
    now = datetime.now(UTC)
    async with bench.connect() as database:
        tenant = await seed_tenant(database, members=2, purchases=1, active=1)
        async with database.tenant_transaction(tenant.tenant_id) as conn:
            found = await get_tenant(conn, tenant.tenant_id)
            await enable_module(conn, found, build_registry(), "gamification", {}, actor=SEED_ACTOR)
            boards = [
                await leaderboards.create(
                    conn,
                    tenant.tenant_id,
                    leaderboards.BoardSpec(name=f"Spend {n}", metric=leaderboards.Metric.SPEND),
                    {},
                    now=now,
                )
                for n in sizes
            ]
    window_key = boards[0].window_key(now, ZoneInfo(found.timezone))
    chosen = []
    async with (
        bench.connect(owner=True) as owner,
        owner.tenant_transaction(tenant.tenant_id) as conn,
    ):
        for board, rows in zip(boards, sizes, strict=True):
            params = {
                "tenant_id": tenant.tenant_id,
                "board_id": board.id,
                "window_key": window_key,
            }
            await conn.execute(
                text(SCORES), {**params, "spread": rows // 4, "rows": rows, "now": now}
            )
            median = await conn.scalar(text(MEDIAN), {**params, "offset": rows // 2})
            chosen.append((board.id, median))
    return tenant, chosen, window_key


async def _vacuum(bench: Bench) -> None:
    """VACUUM the scores and the counts of members per block of scores, as autovacuum would
    soon after a bulk write: the visibility map it sets lets index scans skip the heap."""
    async with bench.connect(owner=True) as owner, owner.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM gamification_board_scores, gamification_board_counts"))


def _request(
    tenant: BenchTenant, board_id: uuid.UUID, member_id: uuid.UUID, window_key: str
) -> HttpRequest:
    body = leaderboard_body(board_id, member_id, window_key)
    return HttpRequest("/graphql", body, {"X-Api-Key": tenant.api_key})


__all__ = ["measure"]

if __name__ == "__main__":
    sys.exit(main(TITLE, measure, add_arguments=add_arguments))
