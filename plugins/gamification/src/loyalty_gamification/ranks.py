"""A member's rank in a few rows, whatever the board's size: counts of members per block of
scores (``gamification_board_counts``), kept live beside the scores.

A rank is one more than the number of better scores. Counting them in the scores' index
reads as many entries as the member has ahead of it (half a million in the middle of a
million-member board). Instead, scores are grouped in blocks that nest by 16: a score's block
at level k is ``score >> 4k`` (level 0 is the score itself, level 15 splits all bigints in
16). A better score ``x`` shares some parent block with ``s`` and lies in a later child of
it: at the one level where their blocks differ but their parents do not (or, if they
never share one, at the top level). So the better scores are, per level, the blocks after
``s``'s block in the same parent, at most 15 per level: the sum of the counts of at most 16
short index ranges, however many members the board has. (The first block of a parent, its
low four bits 0, is never after another in it, so it is not kept; a small score has 3 or 4
blocks.) Members with the same score share a rank, as ever, since the count is of strictly
better scores; the order among them (who reached it first) is the scores' index's, which
lists the neighbours.

The counts are written by statement triggers on the scores (migration ``gamification_0008``):
every statement that adds, changes or removes scores, the ingest statement included, inserts
its signed deltas per block in the same transaction, so the counts are exactly as live as
the scores, and writers only ever insert rows, so no ingestion waits on a row another holds (a
count per block updated in place would be a row every member in that block shares). The job
``gamification.leaderboard_counts`` folds each block's deltas into one row every minute,
which keeps the rows a rank reads to about one per block.
"""

from __future__ import annotations

import uuid

from loyalty_core.sdk import JobContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


def better_than(scores: str) -> str:
    """SQL: per score of ``scores`` (a FROM item aliased ``s`` with a column ``score``), how
    many members of the board's window (``:tenant_id``, ``:board_id``, ``:window_key``) have
    a better one: per level, the blocks after the score's own in the same parent (at the top
    level, every later block), each level one short index range."""
    return f"""
SELECT s.score, CAST(sum(c.n) AS bigint) AS better
FROM {scores}
CROSS JOIN generate_series(0, 15) AS l(level)
CROSS JOIN LATERAL (
    SELECT COALESCE(sum(n), 0) AS n FROM gamification_board_counts
    WHERE tenant_id = :tenant_id AND board_id = :board_id AND window_key = :window_key
      AND level = l.level
      AND block > s.score >> (4 * l.level)
      AND block <= CASE WHEN l.level = 15 THEN 9223372036854775807
                        ELSE (s.score >> (4 * l.level)) | 15 END
) AS c
GROUP BY s.score
"""  # noqa: S608 (a FROM item of the module's own)


_FOLD = text(
    """
WITH touched AS (
    SELECT DISTINCT board_id, window_key, level, block FROM gamification_board_counts
    WHERE tenant_id = :tenant_id AND NOT folded
    LIMIT :batch
), gone AS (
    DELETE FROM gamification_board_counts c USING touched k
    WHERE c.tenant_id = :tenant_id AND c.board_id = k.board_id
      AND c.window_key = k.window_key AND c.level = k.level AND c.block = k.block
    RETURNING c.board_id, c.window_key, c.level, c.block, c.n
), kept AS (
    INSERT INTO gamification_board_counts
        (tenant_id, board_id, window_key, level, block, n, folded)
    SELECT :tenant_id, board_id, window_key, level, block, sum(n), true FROM gone
    GROUP BY board_id, window_key, level, block
    HAVING sum(n) <> 0
)
SELECT count(*) FROM touched
"""
)
"""Replace every row of up to ``batch`` blocks with fresh deltas by one row of their sum
(none when it is 0). A delta inserted meanwhile is not in the statement's snapshot, so it is
left for the next fold; of two folds at once, the second skips the rows the first deleted."""

BATCH = 10_000


async def fold(conn: AsyncConnection, tenant_id: uuid.UUID, batch: int = BATCH) -> int:
    """Fold the deltas of up to ``batch`` blocks of the tenant; how many blocks."""
    return int(await conn.scalar(_FOLD, {"tenant_id": tenant_id, "batch": batch}) or 0)


async def fold_counts(context: JobContext) -> int:
    """The job: fold the tenant's fresh deltas, a batch of blocks per transaction, until none
    is left; how many blocks were folded."""
    folded = 0
    while True:
        async with context.database.tenant_transaction(context.tenant.id) as conn:
            done = await fold(conn, context.tenant.id)
        folded += done
        if done < BATCH:
            return folded


__all__ = ["better_than", "fold", "fold_counts"]
