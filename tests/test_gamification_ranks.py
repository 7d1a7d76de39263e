"""A member's rank from the counts of members per block of scores: the sum equals a count of
the better scores for every score on the board (negative, zero, block edges, the largest
bigints, ties), after scores are added, raised, lowered, rewritten in bulk and removed, and
after two folds of the counts at once; the leaderboard answers the ranks that count gives;
and the counts have no row that concurrent ingestions or a fold wait on."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_gamification import leaderboards, ranks
from loyalty_gamification.tables import board_counts, scores
from loyalty_testing import MakeApp
from pydantic import BaseModel
from sqlalchemy import func, insert, select, text, update

from tests.gamification import Shop
from tests.jobs import job_context

EDGES = [0, 1, -1, 15, 16, 17, -15, -16, -17, 255, 256, 4095, 4096, 2**40, -(2**40)]
EDGES += [2**60 - 1, 2**60, -(2**60), -(2**60) - 1, 2**63 - 1, -(2**63)]


class _Settings(BaseModel):
    pass


async def _all_scores(db: Database, tenant: Tenant, board: uuid.UUID, key: str) -> list[int]:
    async with db.tenant_transaction(tenant.id) as conn:
        found = await conn.scalars(
            select(scores.c.score).where(
                scores.c.tenant_id == tenant.id,
                scores.c.board_id == board,
                scores.c.window_key == key,
            )
        )
        return [int(score) for score in found]


BETTER = text(ranks.better_than("unnest(CAST(:scores AS bigint[])) AS s(score)"))
"""The module's count of better scores (what the standings statement ranks by), per score."""


async def _assert_counts_match(db: Database, tenant: Tenant, board: uuid.UUID, key: str) -> None:
    held = await _all_scores(db, tenant, board, key)
    asked = sorted({*held, *EDGES})
    async with db.tenant_transaction(tenant.id) as conn:
        rows = await conn.execute(
            BETTER,
            {"tenant_id": tenant.id, "board_id": board, "window_key": key, "scores": asked},
        )
        found = {int(score): int(better) for score, better in rows}
    assert sorted(found) == asked
    for score, better in found.items():
        assert better == sum(1 for other in held if other > score), score


async def test_a_rank_from_the_block_counts_is_the_count_of_better_scores(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    board = uuid.UUID((await shop.leaderboard_create())["leaderboard"]["id"])
    now = datetime.now(UTC)
    lucky = random.Random(8)
    members = [uuid.uuid4() for _ in range(300)]
    key = (await shop.standings(str(board)))["windowKey"]
    values = [*EDGES, *(lucky.randint(-300, 300) for _ in range(200))]
    values += [lucky.randint(-(2**45), 2**45) for _ in range(len(members) - len(values))]
    async with db.tenant_transaction(tenant.id) as conn:
        await conn.execute(
            insert(scores),
            [
                {
                    "tenant_id": tenant.id,
                    "board_id": board,
                    "window_key": key,
                    "member_id": member,
                    "score": value,
                    "reached_at": now - timedelta(seconds=n),
                }
                for n, (member, value) in enumerate(zip(members, values, strict=True))
            ],
        )
    await _assert_counts_match(db, tenant, board, key)

    # The ingest path's upsert (new scores and changed ones, across block edges both ways),
    # a bulk rewrite of many at once, and opt-outs that remove a member's scores.
    async with db.tenant_transaction(tenant.id) as conn:
        for member in members[40:120]:
            await leaderboards.add_scores(
                conn, tenant.id, member, [(board, key, lucky.randint(-5000, 5000))], now
            )
        for _ in range(20):
            await leaderboards.add_scores(conn, tenant.id, uuid.uuid4(), [(board, key, 16)], now)
        await conn.execute(
            update(scores)
            .where(scores.c.tenant_id == tenant.id, scores.c.member_id.in_(members[150:250]))
            .values(score=func.abs(scores.c.score) % 1000 - 500)
        )
        for member in members[250:270]:
            await leaderboards.set_player(
                conn, tenant.id, member, display_name=None, hidden=True, now=now
            )
    await _assert_counts_match(db, tenant, board, key)

    context = job_context(db, tenant, _Settings(), now=now)
    await asyncio.gather(ranks.fold_counts(context), ranks.fold_counts(context))
    await _assert_counts_match(db, tenant, board, key)
    async with db.tenant_transaction(tenant.id) as conn:
        c = board_counts.c
        blocks = (
            await conn.execute(
                select(c.level, c.block, func.count(), func.bool_and(c.folded))
                .where(c.tenant_id == tenant.id)
                .group_by(c.level, c.block)
            )
        ).all()
    assert blocks
    assert all(rows == 1 and folded for _, _, rows, folded in blocks)
    assert await ranks.fold_counts(context) == 0


async def test_the_board_answers_the_ranks_the_counts_give(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    board = (await shop.leaderboard_create(metric="VISITS"))["leaderboard"]["id"]
    visits = [3, 1, 2, 3, 1, 1, 4, 2, 3, 1]
    members = []
    for n, count in enumerate(visits):
        member = await shop.member()
        for visit in range(count):
            await shop.ingest(member, f"v-{n}-{visit}")
        members.append(member)
    context = job_context(db, tenant, _Settings())
    for folded in (False, True):
        if folded:
            await ranks.fold_counts(context)
        found = await shop.standings(board, member=members[2], neighbours=3, first=3)
        shown = [*found["above"], found["member"], *found["below"]]
        assert [(e["rank"], e["score"]) for e in shown] == [
            (1 + sum(1 for v in visits if v > e["score"]), e["score"]) for e in shown
        ]
        assert [e["score"] for e in shown] == [3, 3, 3, 2, 2, 1, 1]
        assert [e["rank"] for e in shown] == [2, 2, 2, 5, 5, 7, 7]


async def test_score_changes_of_one_block_and_a_fold_wait_on_no_one(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    """While one transaction holds uncommitted changes to a block's counts, another member's
    score in the same block and a fold of the counts go through without waiting (a lock wait
    would end them at the lock timeout); once both commit, the counts are right."""
    shop = await Shop.open(make_app, db, tenant)
    board = uuid.UUID((await shop.leaderboard_create())["leaderboard"]["id"])
    key = (await shop.standings(str(board)))["windowKey"]
    now = datetime.now(UTC)
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with db.tenant_transaction(tenant.id) as conn:
        await leaderboards.add_scores(conn, tenant.id, third, [(board, key, 49)], now)
    context = job_context(db, tenant, _Settings(), now=now)
    async with db.tenant_transaction(tenant.id) as holding:
        await leaderboards.add_scores(holding, tenant.id, first, [(board, key, 50)], now)
        await leaderboards.add_scores(holding, tenant.id, third, [(board, key, 2)], now)
        async with db.tenant_transaction(tenant.id) as other:
            await other.execute(text("SET LOCAL lock_timeout = '5s'"))
            await leaderboards.add_scores(other, tenant.id, second, [(board, key, 51)], now)
        assert await ranks.fold_counts(context) > 0
    await _assert_counts_match(db, tenant, board, key)
    assert sorted(await _all_scores(db, tenant, board, key)) == [50, 51, 51]
