"""The module's part in privacy requests: what it keeps about a member, and erasure.

Badge progress, contributions, awards, challenge progress and contributions, streak runs
and their units hold ids,
numbers and times, never text about the person: erasure keeps them (the awards' ledger
transactions are the core's records, and the member they point to is anonymised by the
core). The one personal text is
the display name a member chose for leaderboards: erasure removes it, with the member's
leaderboard scores, so an erased member no longer appears on any board.
"""

from __future__ import annotations

from loyalty_core.sdk import MemberData, MemberDataContext
from sqlalchemy import delete, select

from loyalty_gamification.tables import (
    awards,
    challenge_contributions,
    challenge_progress,
    contributions,
    member_streaks,
    players,
    progress,
    scores,
    streak_units,
)

EXPORTED = (
    ("badgeProgress", progress),
    ("badgeContributions", contributions),
    ("badgeAwards", awards),
    ("challenges", challenge_progress),
    ("challengeContributions", challenge_contributions),
    ("streaks", member_streaks),
    ("streakUnits", streak_units),
    ("leaderboardScores", scores),
    ("leaderboardPlayer", players),
)


async def export(ctx: MemberDataContext) -> dict[str, object]:
    found: dict[str, object] = {}
    for name, table in EXPORTED:
        rows = await ctx.conn.execute(
            select(table).where(
                table.c.tenant_id == ctx.tenant_id, table.c.member_id == ctx.member_id
            )
        )
        found[name] = [dict(row._mapping) for row in rows]
    return found


async def erase(ctx: MemberDataContext) -> int:
    changed = 0
    for table in (players, scores):
        result = await ctx.conn.execute(
            delete(table).where(
                table.c.tenant_id == ctx.tenant_id, table.c.member_id == ctx.member_id
            )
        )
        changed += result.rowcount
    return changed


MEMBER_DATA = MemberData(export=export, erase=erase)

__all__ = ["MEMBER_DATA"]
