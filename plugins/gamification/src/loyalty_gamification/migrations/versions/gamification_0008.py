"""gamification: counts of members per block of scores, so a rank costs the same on any board.

A member's rank was one more than a count of the better scores, which reads as many index
entries as the member has ahead of it. ``gamification_board_counts`` keeps, per board and
window, how many members have a score in each block of scores, blocks nesting by 16 (a
score's block at level k is ``score >> 4k``); the better scores are then the sum of at most
15 blocks per level (``loyalty_gamification.ranks``). Only the blocks a rank may add up are
kept: the first block of each parent (low four bits 0) is never one of them, so a small
score has 3 or 4 blocks, not 16.

The counts are written by statement triggers on ``gamification_board_scores``, so every
statement that adds, changes or removes scores (the ingest statement, an opt-out, an
erasure) writes its signed deltas in its own transaction; insert-only rows, folded by a job,
so no ingestion waits on another's row. Existing scores are counted here once.

Revision ID: gamification_0008
Revises: gamification_0007
Create Date: 2026-12-04 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from loyalty_core.sdk import secure_tenant_table

revision: str = "gamification_0008"
down_revision: str | None = "gamification_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "gamification_board_counts"
_SCORES = "gamification_board_scores"

_BLOCKS = """
CREATE FUNCTION gamification_score_blocks(score bigint)
RETURNS TABLE (level smallint, block bigint)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT l::smallint, score >> (4 * l)
    FROM generate_series(0, 15) AS l
    WHERE l = 15 OR (score >> (4 * l)) & 15 <> 0
$$
"""

_DELTAS = """
CREATE FUNCTION gamification_board_counts_delta() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO gamification_board_counts (tenant_id, board_id, window_key, level, block, n)
        SELECT a.tenant_id, a.board_id, a.window_key, b.level, b.block, count(*)
        FROM added a CROSS JOIN LATERAL gamification_score_blocks(a.score) b
        GROUP BY 1, 2, 3, 4, 5;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO gamification_board_counts (tenant_id, board_id, window_key, level, block, n)
        SELECT r.tenant_id, r.board_id, r.window_key, b.level, b.block, -count(*)
        FROM removed r CROSS JOIN LATERAL gamification_score_blocks(r.score) b
        GROUP BY 1, 2, 3, 4, 5;
    ELSE
        INSERT INTO gamification_board_counts (tenant_id, board_id, window_key, level, block, n)
        SELECT c.tenant_id, c.board_id, c.window_key, b.level, b.block, sum(c.d)
        FROM (
            SELECT tenant_id, board_id, window_key, score, 1 AS d FROM added
            UNION ALL
            SELECT tenant_id, board_id, window_key, score, -1 AS d FROM removed
        ) AS c CROSS JOIN LATERAL gamification_score_blocks(c.score) b
        GROUP BY 1, 2, 3, 4, 5
        HAVING sum(c.d) <> 0;
    END IF;
    RETURN NULL;
END
$$
"""

_TRIGGERS = {
    "gamification_board_counts_insert": ("INSERT", "NEW TABLE AS added"),
    "gamification_board_counts_update": ("UPDATE", "OLD TABLE AS removed NEW TABLE AS added"),
    "gamification_board_counts_delete": ("DELETE", "OLD TABLE AS removed"),
}


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("board_id", sa.UUID(), nullable=False),
        sa.Column("window_key", sa.String(length=40), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("folded", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "board_id", "window_key", "level", "block", "id",
            name=op.f("pk_gamification_board_counts"),
        ),
    )
    op.create_index(
        "ix_gamification_board_counts_unfolded",
        _TABLE,
        ["tenant_id"],
        postgresql_where=sa.text("NOT folded"),
    )
    op.execute(_BLOCKS)
    op.execute(_DELTAS)
    # The existing scores, counted once by the owner (row-level security set aside for it).
    op.execute(f"ALTER TABLE {_SCORES} NO FORCE ROW LEVEL SECURITY")
    op.execute(
        f"""
        INSERT INTO {_TABLE} (tenant_id, board_id, window_key, level, block, n, folded)
        SELECT s.tenant_id, s.board_id, s.window_key, b.level, b.block, count(*), true
        FROM {_SCORES} s CROSS JOIN LATERAL gamification_score_blocks(s.score) b
        GROUP BY 1, 2, 3, 4, 5
        """  # noqa: S608 (constants only)
    )
    op.execute(f"ALTER TABLE {_SCORES} FORCE ROW LEVEL SECURITY")
    secure_tenant_table(op, _TABLE)
    for name, (change, tables) in _TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {name} AFTER {change} ON {_SCORES} REFERENCING {tables} "
            "FOR EACH STATEMENT EXECUTE FUNCTION gamification_board_counts_delta()"
        )


def downgrade() -> None:
    for name in _TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON {_SCORES}")
    op.execute("DROP FUNCTION gamification_board_counts_delta()")
    op.execute("DROP FUNCTION gamification_score_blocks(bigint)")
    op.drop_table(_TABLE)
