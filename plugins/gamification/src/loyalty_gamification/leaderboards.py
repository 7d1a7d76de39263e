"""Leaderboards: members ranked by a metric over a window, live, with prizes at its end.

Metrics: ``spend`` (purchase amounts, less what refunds give back, in the purchase's
window), ``visits`` (purchases; a refund does not undo a visit), ``badges`` (completions
earned, less those revoked, in the window they were earned), ``event_field`` (the sum of
a whole-number field of one event type's payload) and ``points`` (what the ledger
transactions the core posted for an event moved into the member's accounts of the tenant's
default points asset: base earn and campaign awards, less what a refund took back, counted in
the purchase's window; one indexed read per event, only where such a board is live).
Windows: the tenant's local ISO week or month, or all time; a new window starts from nothing,
which is the board's reset.

The tie rule: members with the same score share a rank (1, 2, 2, 4); among them the one who
reached the score first is listed first (then by member id, so the order is total). A
member who opts out (``hidden``) has its scores removed and is no longer scored; one who
opts in again starts from that moment.

Live: an event updates every board it concerns in one statement (an upsert per board, by
unnest), skipped for hidden members in the same statement. Reading is index scans of
``ix_gamification_board_scores_rank`` (board, window, score descending, reached at,
member): the top N reads N entries, a member's neighbours a few more. The rank of the
member and of each neighbour is one more than the count of better scores, summed from the
counts of members per block of scores kept beside them (``ranks``): at most 16 short index
ranges, whatever the board's size. All of it, with the names chosen, is one prepared
statement.

Prizes: a job pays, once a window has ended, each prize's points to the members whose rank
lies in its range (tied members share the rank, so all of them are paid). The payout row
is the claim: of two job runners, the one whose insert wins pays in the same transaction,
and every posting's key names the board, window and member.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from loyalty_core.sdk import (
    EventTypeSpec,
    JobContext,
    NotFound,
    Prepared,
    ValidationFailed,
    conditions,
    events,
    ledger,
    tenants,
)
from sqlalchemy import and_, delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_gamification import ranks
from loyalty_gamification import repository as repo
from loyalty_gamification.models import Period, Status, calendar_key
from loyalty_gamification.tables import leaderboards, payouts, players, scores
from loyalty_gamification.verdicts import Verdicts

MAX_PRIZES = 20


class Metric(StrEnum):
    SPEND = "spend"
    VISITS = "visits"
    BADGES = "badges"
    EVENT_FIELD = "event_field"
    POINTS = "points"


@dataclass(frozen=True)
class Prize:
    from_rank: int
    to_rank: int
    points: int


@dataclass(frozen=True)
class Board:
    id: uuid.UUID
    name: str
    description: str
    metric: Metric
    event_type: str | None
    field: str | None
    period: Period
    prizes: tuple[Prize, ...]
    reward_asset: str
    status: Status
    segment: str | None = None

    @classmethod
    def of(cls, row: Any) -> Board:
        return cls(
            id=row.id,
            name=row.name,
            description=row.description,
            metric=Metric(row.metric),
            event_type=row.event_type,
            field=row.field,
            period=Period(row.period),
            prizes=tuple(Prize(p["fromRank"], p["toRank"], p["points"]) for p in row.prizes),
            reward_asset=row.reward_asset,
            status=Status(row.status),
            segment=row.segment,
        )

    @property
    def segment_condition(self) -> str:
        """The condition that the member is in the board's segment (empty: everyone)."""
        return "" if self.segment is None else f"{json.dumps(self.segment)} in member.segments"

    def ranks(self, verdicts: Verdicts) -> bool:
        """Whether the board scores the event's member: everyone, or a member of its segment
        when the event counts (a condition that cannot be evaluated scores nobody)."""
        try:
            return verdicts.holds(self.segment_condition)
        except conditions.ConditionFailed:
            return False

    def window_key(self, at: datetime, zone: ZoneInfo) -> str:
        return calendar_key(self.period, at, zone)


@dataclass(frozen=True)
class BoardSpec:
    name: str
    metric: Metric
    period: Period = Period.MONTH
    event_type: str | None = None
    field: str | None = None
    prizes: tuple[Prize, ...] = ()
    reward_asset: str = ledger.DEFAULT_ASSET_CODE
    description: str = ""
    segment: str | None = None


async def create(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    spec: BoardSpec,
    module_types: Mapping[str, EventTypeSpec],
    *,
    now: datetime,
) -> Board:
    """Save a new leaderboard, live from the next event on; refused whole when any part is
    bad (a window board has no all-time prizes to pay: prizes need a week or month)."""
    if not 1 <= len(spec.name.strip()) <= 200:
        raise ValidationFailed("a name has 1 to 200 characters", field="name")
    if spec.period is Period.WINDOW:
        raise ValidationFailed("a leaderboard runs per week, month or all time", field="period")
    if spec.metric is Metric.EVENT_FIELD:
        if not spec.event_type or not spec.field:
            raise ValidationFailed("an event field board names its type and field", field="field")
        await conditions.check(
            conn,
            tenant_id,
            spec.event_type,
            f"event.{spec.field} > 0",
            module_types,
            field="field",
        )
    elif spec.event_type is not None or spec.field is not None:
        raise ValidationFailed("only an event field board names a type and field", field="field")
    _check_prizes(spec)
    if spec.segment is not None and spec.segment not in await conditions.segment_names(
        conn, tenant_id
    ):
        raise NotFound(f"no segment named {spec.segment!r}", field="segment")
    if spec.prizes and await ledger.get_asset(conn, tenant_id, spec.reward_asset) is None:
        raise ValidationFailed(f"no asset {spec.reward_asset!r}", field="rewardAsset")
    row = await repo.insert_definition(
        conn,
        leaderboards,
        tenant_id,
        {
            "name": spec.name.strip(),
            "description": spec.description,
            "metric": spec.metric.value,
            "event_type": spec.event_type,
            "field": spec.field,
            "period": spec.period.value,
            "segment": spec.segment,
            "prizes": [
                {"fromRank": p.from_rank, "toRank": p.to_rank, "points": p.points}
                for p in spec.prizes
            ],
            "reward_asset": spec.reward_asset,
            "status": Status.ACTIVE.value,
        },
        now,
    )
    return Board.of(row)


def _check_prizes(spec: BoardSpec) -> None:
    if len(spec.prizes) > MAX_PRIZES:
        raise ValidationFailed(f"at most {MAX_PRIZES} prizes", field="prizes")
    if spec.prizes and spec.period is Period.ALL_TIME:
        raise ValidationFailed("an all-time board never ends: no prizes", field="prizes")
    taken: set[int] = set()
    for prize in spec.prizes:
        ranks = set(range(prize.from_rank, prize.to_rank + 1))
        if prize.from_rank < 1 or prize.to_rank < prize.from_rank or prize.points < 0:
            raise ValidationFailed("a prize covers ranks 1 <= from <= to", field="prizes")
        if ranks & taken or prize.to_rank > 1000:
            raise ValidationFailed("prizes cover distinct ranks up to 1000", field="prizes")
        taken |= ranks


_SCORE = Prepared(
    text(
        """
WITH earned AS (
    INSERT INTO gamification_badge_awards
        (tenant_id, id, badge_id, member_id, period_key, seq, event_id, transaction_id,
         earned_at)
    SELECT :tenant_id, a.id, a.badge_id, :member_id, a.period_key, a.seq, :event_id,
           a.transaction_id, :earned_at
    FROM unnest(CAST(:award_ids AS uuid[]), CAST(:award_badge_ids AS uuid[]),
                CAST(:award_periods AS text[]), CAST(:award_seqs AS integer[]),
                CAST(:award_transactions AS uuid[]))
        AS a(id, badge_id, period_key, seq, transaction_id)
)
INSERT INTO gamification_board_scores AS s
    (tenant_id, board_id, window_key, member_id, score, reached_at)
SELECT :tenant_id, i.board_id, i.window_key, :member_id, i.delta, :now
FROM unnest(CAST(:board_ids AS uuid[]), CAST(:window_keys AS text[]),
            CAST(:deltas AS bigint[])) AS i(board_id, window_key, delta)
WHERE NOT EXISTS (
    SELECT FROM gamification_players p
    WHERE p.tenant_id = :tenant_id AND p.member_id = :member_id AND p.hidden
)
ON CONFLICT (tenant_id, board_id, window_key, member_id) DO UPDATE SET
    score = s.score + excluded.score,
    reached_at = excluded.reached_at
"""
    )
)


@dataclass(frozen=True)
class Earned:
    """A badge completion to record: its award row (the event and time are the caller's)."""

    id: uuid.UUID
    badge_id: uuid.UUID
    period_key: str
    seq: int
    transaction_id: uuid.UUID | None


async def add_scores(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    deltas: Sequence[tuple[uuid.UUID, str, int]],
    now: datetime,
    *,
    earned: Sequence[Earned] = (),
    event_id: uuid.UUID | None = None,
    earned_at: datetime | None = None,
) -> None:
    """Add (board, window, delta) to the member's scores, and record the badge completions
    an event ``event_id`` made at ``earned_at`` (what badge boards score), in one prepared
    statement."""
    if not deltas and not earned:
        return
    await _SCORE.execute(
        conn,
        {
            "tenant_id": tenant_id,
            "member_id": member_id,
            "now": now,
            "board_ids": [d[0] for d in deltas],
            "window_keys": [d[1] for d in deltas],
            "deltas": [d[2] for d in deltas],
            "event_id": event_id,
            "earned_at": earned_at,
            "award_ids": [e.id for e in earned],
            "award_badge_ids": [e.badge_id for e in earned],
            "award_periods": [e.period_key for e in earned],
            "award_seqs": [e.seq for e in earned],
            "award_transactions": [e.transaction_id for e in earned],
        },
    )


async def event_deltas(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    boards: Sequence[Board],
    event: events.EventIngested,
    zone: ZoneInfo,
    verdicts: Verdicts,
) -> list[tuple[uuid.UUID, str, int]]:
    """What an event adds to each board it concerns and ranks the member on (badges are
    scored by their awards)."""
    found: list[tuple[uuid.UUID, str, int]] = []
    refunded_at: datetime | None = None
    points: int | None = None
    for board in boards:
        if board.segment is not None and not board.ranks(verdicts):
            continue
        delta, at = 0, event.occurred_at
        if board.metric is Metric.SPEND and event.is_purchase:
            delta = event.amount or 0
        elif board.metric is Metric.SPEND and event.is_refund and event.purchase_event_id:
            delta = -(event.amount or 0)
        elif board.metric is Metric.POINTS and event.transactions:
            if points is None:
                points = await _points_earned(conn, tenant_id, event)
            delta = points
        elif board.metric is Metric.VISITS and event.is_purchase:
            delta = 1
        elif board.metric is Metric.EVENT_FIELD and board.event_type == event.type:
            assert board.field is not None
            value = _field({"payload": event.payload, "amount": event.amount}, board.field)
            delta = value
        if delta and board.metric in _IN_PURCHASE_WINDOW and event.purchase_event_id:
            if refunded_at is None:  # what a refund undoes counts in its purchase's window
                purchase = await events.get_event(conn, tenant_id, event.purchase_event_id)
                refunded_at = event.occurred_at if purchase is None else purchase.occurred_at
            at = refunded_at
        if delta:
            found.append((board.id, board.window_key(at, zone), delta))
    return found


_IN_PURCHASE_WINDOW = frozenset({Metric.SPEND, Metric.POINTS})


async def _points_earned(
    conn: AsyncConnection, tenant_id: uuid.UUID, event: events.EventIngested
) -> int:
    """What the event's ledger transactions moved into (or, for a refund, out of) the
    member's accounts of the tenant's default points asset."""
    asset = await ledger.get_asset(conn, tenant_id, ledger.DEFAULT_ASSET_CODE)
    if asset is None:
        return 0
    return await ledger.member_movement(
        conn, tenant_id, event.member_id, asset.id, event.transactions
    )


def _field(event: Mapping[str, Any], path: str) -> int:
    value: Any = event
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return 0
        value = value[part]
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    rank: int
    member_id: uuid.UUID
    score: int
    reached_at: datetime
    display_name: str


@dataclass(frozen=True)
class Standings:
    board: Board
    window_key: str
    top: tuple[Entry, ...]
    member: Entry | None
    above: tuple[Entry, ...]
    below: tuple[Entry, ...]


def _board_rows(tenant_id: uuid.UUID, board_id: uuid.UUID, window_key: str) -> Any:
    s = scores.c
    return and_(s.tenant_id == tenant_id, s.board_id == board_id, s.window_key == window_key)


async def standings(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    board_id: uuid.UUID,
    *,
    window_key: str | None,
    now: datetime,
    zone: ZoneInfo,
    first: int,
    member_id: uuid.UUID | None,
    neighbours: int,
) -> Standings:
    """The board's top ``first`` in a window (the current one by default), and, for
    ``member_id``, its entry with ``neighbours`` entries above and below it (none while the
    member has no score in the window)."""
    row = (
        await conn.execute(
            select(leaderboards).where(
                leaderboards.c.tenant_id == tenant_id, leaderboards.c.id == board_id
            )
        )
    ).first()
    if row is None:
        raise NotFound("no such leaderboard", field="id")
    board = Board.of(row)
    key = window_key or board.window_key(now, zone)
    rows = await _STANDINGS.all(
        conn,
        {
            "tenant_id": tenant_id,
            "board_id": board_id,
            "window_key": key,
            "first": first,
            "member_id": member_id,
            "neighbours": neighbours,
        },
    )
    top = _ranked([r for r in rows if r.side == _TOP], first_position=1, first_rank=1)
    near = [r for r in rows if r.side != _TOP]
    names = {r.member_id: r.display_name or pseudonym(r.member_id) for r in rows}
    around = _named(
        [Entry(r.better + 1, r.member_id, r.score, r.reached_at, "") for r in near], names
    )
    above = sum(1 for r in near if r.side == _ABOVE)
    return Standings(
        board,
        key,
        _named(top, names),
        around[above] if near else None,
        around[:above],
        around[above + 1 :],
    )


_TOP, _ABOVE, _MINE, _BELOW = -2, -1, 0, 1
_BOARD = "tenant_id = :tenant_id AND board_id = :board_id AND window_key = :window_key"
_NEAR = """
SELECT s.member_id, s.score, s.reached_at FROM gamification_board_scores s
WHERE s.tenant_id = :tenant_id AND s.board_id = :board_id AND s.window_key = :window_key"""
_STANDINGS = Prepared(
    text(
        f"""
WITH mine AS (
    SELECT member_id, score, reached_at FROM gamification_board_scores
    WHERE {_BOARD} AND member_id = CAST(:member_id AS uuid)
), above AS (
    SELECT a.* FROM mine m CROSS JOIN LATERAL (
        ({_NEAR} AND s.score = m.score
            AND (s.reached_at, s.member_id) < (m.reached_at, m.member_id)
         ORDER BY s.reached_at DESC, s.member_id DESC LIMIT :neighbours)
        UNION ALL
        ({_NEAR} AND s.score > m.score
         ORDER BY s.score, s.reached_at DESC, s.member_id DESC LIMIT :neighbours)
    ) AS a
    ORDER BY a.score, a.reached_at DESC, a.member_id DESC LIMIT :neighbours
), below AS (
    SELECT b.* FROM mine m CROSS JOIN LATERAL (
        ({_NEAR} AND s.score = m.score
            AND (s.reached_at, s.member_id) > (m.reached_at, m.member_id)
         ORDER BY s.reached_at, s.member_id LIMIT :neighbours)
        UNION ALL
        ({_NEAR} AND s.score < m.score
         ORDER BY s.score DESC, s.reached_at, s.member_id LIMIT :neighbours)
    ) AS b
    ORDER BY b.score DESC, b.reached_at, b.member_id LIMIT :neighbours
), near AS (
    SELECT {_ABOVE} AS side, * FROM above
    UNION ALL SELECT {_MINE}, * FROM mine
    UNION ALL SELECT {_BELOW}, * FROM below
), ranked AS ({ranks.better_than("(SELECT DISTINCT score FROM near) AS s")}
), shown AS (
    SELECT * FROM (
        SELECT {_TOP} AS side, member_id, score, reached_at, CAST(NULL AS bigint) AS better
        FROM gamification_board_scores WHERE {_BOARD}
        ORDER BY score DESC, reached_at, member_id LIMIT :first
    ) AS t
    UNION ALL
    SELECT n.side, n.member_id, n.score, n.reached_at, r.better
    FROM near n JOIN ranked r ON r.score = n.score
)
SELECT sh.side, sh.member_id, sh.score, sh.reached_at, sh.better, p.display_name
FROM shown sh
LEFT JOIN gamification_players p
    ON p.tenant_id = :tenant_id AND p.member_id = sh.member_id
ORDER BY sh.side = {_TOP} DESC, sh.score DESC, sh.reached_at, sh.member_id
"""  # noqa: S608 (constants only)
    )
)
"""A board's top ``:first`` and, for ``:member_id``, its entry with ``:neighbours`` entries
above and below in rank order (each side a bounded scan of the rank index: the tied ones
reached before or after it, then the better or worse scores), ranked from the counts of
members per block of scores, with the names chosen; in one statement, prepared."""


def _ranked(rows: Sequence[Any], *, first_position: int, first_rank: int) -> list[Entry]:
    """Entries of consecutive rows in rank order: a row shares the rank of the row before
    it when their scores are equal, else its rank is its position."""
    found: list[Entry] = []
    for index, row in enumerate(rows):
        if index == 0:
            rank = first_rank
        elif row.score == rows[index - 1].score:
            rank = found[-1].rank
        else:
            rank = first_position + index
        found.append(Entry(rank, row.member_id, row.score, row.reached_at, ""))
    return found


async def _names(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_ids: list[uuid.UUID]
) -> dict[uuid.UUID, str]:
    rows = await conn.execute(
        select(players.c.member_id, players.c.display_name).where(
            players.c.tenant_id == tenant_id, players.c.member_id.in_(set(member_ids))
        )
    )
    chosen = {row.member_id: row.display_name for row in rows if row.display_name}
    return {m: chosen.get(m) or pseudonym(m) for m in member_ids}


def pseudonym(member_id: uuid.UUID) -> str:
    """A stable name for a member who chose none, derived from nothing personal."""
    return f"Player {hashlib.sha256(member_id.bytes).hexdigest()[:6].upper()}"


def _named(entries: Sequence[Entry], names: Mapping[uuid.UUID, str]) -> tuple[Entry, ...]:
    return tuple(
        Entry(e.rank, e.member_id, e.score, e.reached_at, names[e.member_id]) for e in entries
    )


# -- players ---------------------------------------------------------------------------------


async def set_player(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    display_name: str | None,
    hidden: bool,
    now: datetime,
) -> None:
    """Choose how the member appears; opting out removes its scores at once."""
    if display_name is not None and not 1 <= len(display_name.strip()) <= 40:
        raise ValidationFailed("a display name has 1 to 40 characters", field="displayName")
    name = None if display_name is None else display_name.strip()
    statement = insert(players).values(
        tenant_id=tenant_id, member_id=member_id, display_name=name, hidden=hidden, updated_at=now
    )
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=[players.c.tenant_id, players.c.member_id],
            set_={"display_name": name, "hidden": hidden, "updated_at": now},
        )
    )
    if hidden:
        await conn.execute(
            delete(scores).where(scores.c.tenant_id == tenant_id, scores.c.member_id == member_id)
        )


# -- prizes ----------------------------------------------------------------------------------


def ended_window(board: Board, now: datetime, zone: ZoneInfo) -> str | None:
    """The key of the window that ended last before ``now`` (None for all time)."""
    if board.period is Period.ALL_TIME:
        return None
    local = now.astimezone(zone)
    if board.period is Period.WEEK:
        start = local.date() - timedelta(days=local.weekday())
    else:
        start = local.date().replace(day=1)
    before = datetime.combine(start, datetime.min.time(), tzinfo=zone) - timedelta(seconds=1)
    return board.window_key(before, zone)


async def pay_prizes(context: JobContext) -> int:
    """Pay the prizes of every board whose last window ended and is not paid yet; how many
    members were paid."""
    zone = tenants.zone_of(context.tenant)
    tenant_id = context.tenant.id
    async with context.database.tenant_transaction(tenant_id) as conn:
        rows = await conn.execute(
            select(leaderboards).where(
                leaderboards.c.tenant_id == tenant_id, leaderboards.c.status == "active"
            )
        )
        boards = [Board.of(row) for row in rows if row.prizes]
    paid = 0
    for board in boards:
        key = ended_window(board, context.now, zone)
        if key is not None:
            paid += await _pay_window(context, board, key)
    return paid


async def _pay_window(context: JobContext, board: Board, key: str) -> int:
    tenant_id = context.tenant.id
    last = max(p.to_rank for p in board.prizes)
    async with context.database.tenant_transaction(tenant_id) as conn:
        claimed = await conn.execute(
            insert(payouts)
            .values(
                tenant_id=tenant_id,
                board_id=board.id,
                window_key=key,
                winners=0,
                paid_at=context.now,
            )
            .on_conflict_do_nothing()
            .returning(payouts.c.board_id)
        )
        if claimed.first() is None:
            return 0
        s = scores.c
        where = and_(_board_rows(tenant_id, board.id, key), s.score > 0)
        order = (s.score.desc(), s.reached_at, s.member_id)
        # Everyone tied with the last prized position shares its rank, and is paid.
        threshold = await conn.scalar(
            select(s.score).where(where).order_by(*order).offset(last - 1).limit(1)
        )
        if threshold is not None:
            where = and_(where, s.score >= threshold)
        rows = (await conn.execute(select(scores).where(where).order_by(*order))).all()
        asset = await ledger.get_asset(conn, tenant_id, board.reward_asset)
        winners = 0
        for entry in _ranked(rows, first_position=1, first_rank=1):
            prize = next((p for p in board.prizes if p.from_rank <= entry.rank <= p.to_rank), None)
            if prize is None or not prize.points or asset is None:
                continue
            await ledger.earn(
                conn,
                ledger.Posting(
                    tenant_id=tenant_id,
                    idempotency_key=f"gamification:prize:{board.id}:{key}:{entry.member_id}",
                    reason=f"leaderboard prize: {board.name}, rank {entry.rank} in {key}",
                    cause=ledger.Cause(kind="gamification", id=f"leaderboard:{board.id}"),
                    actor="module:gamification",
                    now=context.now,
                ),
                member_id=entry.member_id,
                asset=asset,
                amount=prize.points,
            )
            winners += 1
        await conn.execute(
            payouts.update()
            .where(
                payouts.c.tenant_id == tenant_id,
                payouts.c.board_id == board.id,
                payouts.c.window_key == key,
            )
            .values(winners=winners)
        )
    return winners


async def list_boards(conn: AsyncConnection, tenant_id: uuid.UUID) -> list[Board]:
    rows = await conn.execute(
        select(leaderboards)
        .where(leaderboards.c.tenant_id == tenant_id)
        .order_by(leaderboards.c.id)
    )
    return [Board.of(row) for row in rows]


__all__ = [
    "Board",
    "BoardSpec",
    "Earned",
    "Entry",
    "Metric",
    "Prize",
    "Standings",
    "add_scores",
    "create",
    "ended_window",
    "event_deltas",
    "list_boards",
    "pay_prizes",
    "pseudonym",
    "set_player",
    "standings",
]
