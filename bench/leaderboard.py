"""A leaderboard's standings (P8): the GraphQL query a till or app sends, and the same answer
computed by hand with asyncpg for the baseline, byte-for-byte the same JSON.

The answer: a board's top 10 in its current window and a member's entry with 2 neighbours
above and below, each with rank, score and display name (ties share a rank; among them the
one who reached the score first is listed first; a member who chose no name shows a
pseudonym). The baseline is what a careful hand-written endpoint does: the API key checked,
one transaction as the app role under row-level security, and the reads that an index in
rank order answers best: the top N, the member's row, the neighbours above and below (each a
bounded index scan), then the ranks of those shown from the module's counts of members per
block of scores (the statement the module runs: the best SQL for a rank once those counts
exist, at most 16 short index ranges), then the names of the members shown.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from typing import Any

import orjson

from bench.dashboard import Refused, parse_key

TOP = 10
NEIGHBOURS = 2
ENTRY = "rank score displayName"


def leaderboard_query() -> str:
    return (
        "query Standings($id: ID!, $member: ID!, $window: String!) { leaderboard(id: $id, "
        f"memberId: $member, windowKey: $window, first: {TOP}, neighbours: {NEIGHBOURS}) {{ "
        f"top {{ {ENTRY} }} member {{ {ENTRY} }} above {{ {ENTRY} }} below {{ {ENTRY} }} }} }}"
    )


def leaderboard_body(board_id: uuid.UUID, member_id: uuid.UUID, window_key: str) -> str:
    variables = {"id": str(board_id), "member": str(member_id), "window": window_key}
    return orjson.dumps({"query": leaderboard_query(), "variables": variables}).decode()


SET_TENANT = "SELECT set_config('loyalty.tenant_id', $1, true)"
API_KEY = "SELECT secret_hash, revoked_at FROM api_keys WHERE tenant_id = $1 AND id = $2"
BOARD = "tenant_id = $1 AND board_id = $2 AND window_key = $3"
COLUMNS = "member_id, score, reached_at"
TOP_ROWS = f"SELECT {COLUMNS} FROM gamification_board_scores WHERE {BOARD} ORDER BY score DESC, reached_at, member_id LIMIT $4"  # noqa: E501
MINE = f"SELECT {COLUMNS} FROM gamification_board_scores WHERE {BOARD} AND member_id = $4"
ABOVE = f"""
(SELECT {COLUMNS} FROM gamification_board_scores WHERE {BOARD} AND score = $4
   AND (reached_at, member_id) < ($5, $6) ORDER BY reached_at DESC, member_id DESC LIMIT $7)
UNION ALL
(SELECT {COLUMNS} FROM gamification_board_scores WHERE {BOARD} AND score > $4
   ORDER BY score, reached_at DESC, member_id DESC LIMIT $7)
"""
BELOW = f"""
(SELECT {COLUMNS} FROM gamification_board_scores WHERE {BOARD} AND score = $4
   AND (reached_at, member_id) > ($5, $6) ORDER BY reached_at, member_id LIMIT $7)
UNION ALL
(SELECT {COLUMNS} FROM gamification_board_scores WHERE {BOARD} AND score < $4
   ORDER BY score DESC, reached_at, member_id LIMIT $7)
"""
BETTER = """
SELECT s.score, CAST(sum(c.n) AS bigint) AS better
FROM unnest($4::bigint[]) AS s(score)
CROSS JOIN generate_series(0, 15) AS l(level)
CROSS JOIN LATERAL (
    SELECT COALESCE(sum(n), 0) AS n FROM gamification_board_counts
    WHERE tenant_id = $1 AND board_id = $2 AND window_key = $3 AND level = l.level
      AND block > s.score >> (4 * l.level)
      AND block <= CASE WHEN l.level = 15 THEN 9223372036854775807
                        ELSE (s.score >> (4 * l.level)) | 15 END
) AS c
GROUP BY s.score
"""
NAMES = (
    "SELECT member_id, display_name FROM gamification_players "
    "WHERE tenant_id = $1 AND member_id = ANY($2::uuid[])"
)


async def leaderboard_json(
    conn: Any, raw_key: str, board_id: uuid.UUID, member_id: uuid.UUID, window_key: str
) -> bytes:
    tenant_id, key_id, secret = parse_key(raw_key)
    board = (tenant_id, board_id, window_key)
    async with conn.transaction():
        await conn.execute(SET_TENANT, str(tenant_id))
        key = await conn.fetchrow(API_KEY, tenant_id, key_id)
        digest = hashlib.sha256(secret.encode()).hexdigest()
        if key is None or key["revoked_at"] is not None:
            raise Refused
        if not hmac.compare_digest(key["secret_hash"], digest):
            raise Refused
        top = await conn.fetch(TOP_ROWS, *board, TOP)
        mine = await conn.fetchrow(MINE, *board, member_id)
        shown = list(top)
        member: dict[str, Any] | None = None
        above: list[dict[str, Any]] = []
        below: list[dict[str, Any]] = []
        if mine is not None:
            me = (mine["score"], mine["reached_at"], mine["member_id"])
            over = list(reversed((await conn.fetch(ABOVE, *board, *me, NEIGHBOURS))[:NEIGHBOURS]))
            under = (await conn.fetch(BELOW, *board, *me, NEIGHBOURS))[:NEIGHBOURS]
            rows = [*over, mine, *under]
            better = {
                row["score"]: row["better"]
                for row in await conn.fetch(BETTER, *board, sorted({r["score"] for r in rows}))
            }
            window = [_entry(better[r["score"]] + 1, r) for r in rows]
            above, member, below = window[: len(over)], window[len(over)], window[len(over) + 1 :]
            shown += [*over, mine, *under]
        names = {
            row["member_id"]: row["display_name"]
            for row in await conn.fetch(NAMES, tenant_id, [r["member_id"] for r in shown])
            if row["display_name"]
        }
    ranked_top = _ranked(top, 1, 1)
    for entry in [*ranked_top, *above, *below, *([member] if member else [])]:
        who = entry.pop("memberId")
        entry["displayName"] = names.get(who) or _pseudonym(who)
    answer = {"top": ranked_top, "member": member, "above": above, "below": below}
    return orjson.dumps({"data": {"leaderboard": answer}})


def _entry(rank: int, row: Any) -> dict[str, Any]:
    return {"rank": rank, "score": int(row["score"]), "memberId": row["member_id"]}


def _ranked(rows: Any, first_position: int, first_rank: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for index, row in enumerate(rows):
        if index == 0:
            rank = first_rank
        elif row["score"] == rows[index - 1]["score"]:
            rank = found[-1]["rank"]
        else:
            rank = first_position + index
        found.append(_entry(rank, row))
    return found


def _pseudonym(member_id: uuid.UUID) -> str:
    return f"Player {hashlib.sha256(member_id.bytes).hexdigest()[:6].upper()}"


__all__ = ["leaderboard_body", "leaderboard_json", "leaderboard_query"]
