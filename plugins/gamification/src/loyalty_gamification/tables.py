"""The module's tables, all named ``gamification_*``, on the shared metadata of the SDK.

Every table starts with ``tenant_id`` (primary and foreign keys), and the migration secures
each with row-level security. Points a badge rewards are not here: they live in the core
ledger, and an award row names the ledger transaction that paid it.

What the ingest path touches per qualifying event: one read of the catalogue's version (the
definitions themselves are cached per process), one upsert of the member's progress (which
also claims a completion), one insert of the contribution that explains it, and for capped
badges one upsert of the member's day.
"""

from __future__ import annotations

from loyalty_core.sdk import created_at_column, id_column, metadata, tenant_id_column
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

MEASURES = "('count', 'sum')"
PERIODS = "('all_time', 'week', 'month', 'window')"
STATUSES = "('active', 'archived')"
DEFINITION_STATUSES = "('active', 'archived', 'paused')"
"""A retailer's definition (badge, streak, challenge) also pauses itself: see ``health``."""

catalogues = Table(
    "gamification_catalogues",
    metadata,
    tenant_id_column(),
    Column("version", BigInteger, nullable=False),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
)
"""One row per tenant: a number every change of a definition raises, in the transaction of
the change. Each process caches a tenant's live definitions with the version it read them
at; the ingest path reads only this row to know whether its copy is current, so a change
made through any gateway instance counts from the next event on."""

badges = Table(
    "gamification_badges",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("event_type", String(100), nullable=False),
    Column("condition", Text, nullable=False, server_default=""),
    Column("measure", String(8), nullable=False),
    Column("sum_field", String(200)),
    Column("target", BigInteger, nullable=False),
    Column("period", String(10), nullable=False),
    Column("starts_at", DateTime(timezone=True)),
    Column("ends_at", DateTime(timezone=True)),
    Column("repeatable", Boolean, nullable=False),
    Column("secret", Boolean, nullable=False),
    Column("revoke_on_refund", Boolean, nullable=False),
    Column("daily_cap", BigInteger),
    Column("reward_points", BigInteger, nullable=False),
    Column("reward_asset", String(32), nullable=False),
    Column("reward_effect", JSONB),
    Column("status", String(10), nullable=False),
    Column("failures", BigInteger, nullable=False, server_default="0"),
    Column("consecutive_failures", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("last_failure_at", DateTime(timezone=True)),
    Column("status_reason", String(500)),
    created_at_column(),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint(f"measure IN {MEASURES}", name="measure"),
    CheckConstraint(f"period IN {PERIODS}", name="period"),
    CheckConstraint(f"status IN {DEFINITION_STATUSES}", name="status"),
    CheckConstraint("target > 0", name="target_positive"),
    CheckConstraint("daily_cap IS NULL OR daily_cap > 0", name="daily_cap_positive"),
    CheckConstraint("reward_points >= 0", name="reward_not_negative"),
    CheckConstraint("(measure = 'sum') = (sum_field IS NOT NULL)", name="sum_field"),
    CheckConstraint(
        "period <> 'window' OR (starts_at IS NOT NULL AND ends_at IS NOT NULL"
        " AND starts_at < ends_at)",
        name="window",
    ),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
)
"""A badge definition: which events count (type and CEL condition), what they count (one
each, or the sum of a field), to what target, in which period, and what completing it pays
(points, and ``reward_effect``: any enabled module's rule effect, ``{effect, params}``).
``failures`` and ``last_error`` are its health: events its condition failed for (or whose
reward could not be posted); ``consecutive_failures`` those since it last worked, which pause
it (``status`` ``paused``, ``status_reason`` saying why) at ``health.PAUSE_AFTER``."""

progress = Table(
    "gamification_badge_progress",
    metadata,
    tenant_id_column(),
    Column("member_id", UUID(as_uuid=True), primary_key=True),
    Column("badge_id", UUID(as_uuid=True), primary_key=True),
    Column("period_key", String(40), primary_key=True),
    Column("value", BigInteger, nullable=False),
    Column("target", BigInteger, nullable=False),
    Column("repeatable", Boolean, nullable=False),
    Column("earned", Integer, nullable=False),
    Column("awarded", Integer, nullable=False),
    Column("change", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(
        ["tenant_id", "badge_id"],
        ["gamification_badges.tenant_id", "gamification_badges.id"],
        name="fk_gamification_badge_progress_badge",
    ),
)
"""A member's progress toward a badge in one period (``all``, ``week:2026-W49``,
``month:2026-12``, ``window``): ``value`` counted so far toward ``target`` (the badge's, as
of the last event counted, with ``repeatable``), ``earned`` completions the member
holds, ``awarded`` completions ever paid (revoked ones included, so a completion earned
again after a revocation is a new award). The key starts with the member: a member's
badges are a range of it, and no second index costs every event. ``change`` is what the
last statement did to
``earned``, so that the one upsert that counts an event also says whether it completed the
badge: of concurrent events, exactly one sees the completion."""

days = Table(
    "gamification_badge_days",
    metadata,
    tenant_id_column(),
    Column("badge_id", UUID(as_uuid=True), primary_key=True),
    Column("member_id", UUID(as_uuid=True), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("value", BigInteger, nullable=False),
    Column("granted", BigInteger, nullable=False),
    Column("cap", BigInteger, nullable=False),
    ForeignKeyConstraint(
        ["tenant_id", "badge_id"],
        ["gamification_badges.tenant_id", "gamification_badges.id"],
        name="fk_gamification_badge_days_badge",
    ),
)
"""Progress a capped badge granted a member on one local day: the cap's counter. ``granted``
is what the last statement added (the rest of an event's value was over the cap), ``cap``
the badge's cap as of that statement."""

contributions = Table(
    "gamification_badge_contributions",
    metadata,
    tenant_id_column(),
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("badge_id", UUID(as_uuid=True), primary_key=True),
    Column("member_id", UUID(as_uuid=True), nullable=False),
    Column("period_key", String(40), nullable=False),
    Column("purchase_event_id", UUID(as_uuid=True)),
    Column("amount", BigInteger, nullable=False),
    Column("offered", BigInteger, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    created_at_column(),
    Index(
        "ix_gamification_badge_contributions_progress",
        "tenant_id",
        "member_id",
        "badge_id",
        "period_key",
        "event_id",
    ),
    Index(
        "ix_gamification_badge_contributions_purchase",
        "tenant_id",
        "purchase_event_id",
        postgresql_where=text("purchase_event_id IS NOT NULL"),
    ),
)
"""Why a progress is what it is: one row per event that counted (``amount``; ``offered`` is
what the event brought before the daily cap), and per refund that took some back (a negative
``amount``, with the purchase it refunds). Insert-only: the sum of a progress's rows is its
value. Keyed by event (a refund finds what its purchase brought by the key), and indexed by
progress (the explanation). No foreign key to the badge: every event writes a row per badge
it counts toward, and a key's check would lock each badge's row (a write to its tuple, shared
by every concurrent ingestion of the tenant); badges are never deleted, only archived."""

awards = Table(
    "gamification_badge_awards",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("badge_id", UUID(as_uuid=True), nullable=False),
    Column("member_id", UUID(as_uuid=True), nullable=False),
    Column("period_key", String(40), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("transaction_id", UUID(as_uuid=True)),
    Column("earned_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_by", UUID(as_uuid=True)),
    Column("revocation_transaction_id", UUID(as_uuid=True)),
    ForeignKeyConstraint(
        ["tenant_id", "badge_id"],
        ["gamification_badges.tenant_id", "gamification_badges.id"],
        name="fk_gamification_badge_awards_badge",
    ),
    UniqueConstraint(
        "tenant_id",
        "badge_id",
        "member_id",
        "period_key",
        "seq",
        name="uq_gamification_badge_awards_completion",
    ),
    Index("ix_gamification_badge_awards_member", "tenant_id", "member_id", "earned_at"),
)
"""A completion of a badge by a member: when, by which event, the ledger transaction that
paid its reward, and its revocation if a refund took it back."""

streaks = Table(
    "gamification_streaks",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("event_type", String(100), nullable=False),
    Column("condition", Text, nullable=False, server_default=""),
    Column("unit", String(8), nullable=False),
    Column("freeze_every", Integer),
    Column("max_freezes", Integer, nullable=False),
    Column("milestones", JSONB, nullable=False),
    Column("reward_asset", String(32), nullable=False),
    Column("status", String(10), nullable=False),
    Column("failures", BigInteger, nullable=False, server_default="0"),
    Column("consecutive_failures", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("last_failure_at", DateTime(timezone=True)),
    Column("status_reason", String(500)),
    created_at_column(),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("unit IN ('day', 'week')", name="unit"),
    CheckConstraint(f"status IN {DEFINITION_STATUSES}", name="status"),
    CheckConstraint("freeze_every IS NULL OR freeze_every > 0", name="freeze_every_positive"),
    CheckConstraint("max_freezes >= 0", name="max_freezes_not_negative"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
)
"""A streak definition: which events keep it (type and condition), in days or weeks of the
tenant's calendar, how a member earns freezes (one every ``freeze_every`` units of a
streak, holding at most ``max_freezes``) and the milestones that pay (``[{length,
points}]``)."""

member_streaks = Table(
    "gamification_member_streaks",
    metadata,
    tenant_id_column(),
    Column("member_id", UUID(as_uuid=True), primary_key=True),
    Column("streak_id", UUID(as_uuid=True), primary_key=True),
    Column("length", Integer, nullable=False),
    Column("best", Integer, nullable=False),
    Column("started_unit", Integer, nullable=False),
    Column("last_unit", Integer, nullable=False),
    Column("freezes", Integer, nullable=False),
    Column("freezes_spent", Integer, nullable=False),
    Column("freeze_every", Integer, nullable=False),
    Column("max_freezes", Integer, nullable=False),
    Column("extended", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(
        ["tenant_id", "streak_id"],
        ["gamification_streaks.tenant_id", "gamification_streaks.id"],
        name="fk_gamification_member_streaks_streak",
    ),
)
"""A member's run of a streak: ``length`` units in a row up to ``last_unit`` (a local day's
ordinal, or a week's: the ordinal of its Monday divided by 7), begun at ``started_unit``,
the ``best`` run so far, the freezes held and spent, and the streak's freeze rules as of
the last event (``freeze_every``, 0 for none, and ``max_freezes``: the upsert that counts
an event reads them from its own row, so one statement counts every streak). ``extended``
says whether the last statement made the run longer, so the upsert says whether a milestone
may be due."""

leaderboards = Table(
    "gamification_leaderboards",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("metric", String(12), nullable=False),
    Column("event_type", String(100)),
    Column("field", String(200)),
    Column("period", String(10), nullable=False),
    Column("segment", String(100)),
    Column("prizes", JSONB, nullable=False),
    Column("reward_asset", String(32), nullable=False),
    Column("status", String(10), nullable=False),
    created_at_column(),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint(
        "metric IN ('spend', 'visits', 'badges', 'event_field', 'points')", name="metric"
    ),
    CheckConstraint("period IN ('all_time', 'week', 'month')", name="period"),
    CheckConstraint(f"status IN {STATUSES}", name="status"),
    CheckConstraint("(metric = 'event_field') = (field IS NOT NULL)", name="field"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
)
"""A leaderboard: what it ranks members by (spend, visits, badges earned, or the sum of a
field of an event type), over which window (``period``), whom (everyone, or the members of
``segment`` when an event counts), and the prizes paid by rank when a window ends
(``[{fromRank, toRank, points}]``)."""

scores = Table(
    "gamification_board_scores",
    metadata,
    tenant_id_column(),
    Column("board_id", UUID(as_uuid=True), primary_key=True),
    Column("window_key", String(40), primary_key=True),
    Column("member_id", UUID(as_uuid=True), primary_key=True),
    Column("score", BigInteger, nullable=False),
    Column("reached_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(
        ["tenant_id", "board_id"],
        ["gamification_leaderboards.tenant_id", "gamification_leaderboards.id"],
        name="fk_gamification_board_scores_board",
    ),
    Index(
        "ix_gamification_board_scores_rank",
        "tenant_id",
        "board_id",
        "window_key",
        text("score DESC"),
        "reached_at",
        "member_id",
    ),
)
"""A member's score on a board in one window, and when it reached that score (ties are
ordered by it). The index is the board in rank order: the top N, a member's neighbours and
the count of better scores are index scans."""

board_counts = Table(
    "gamification_board_counts",
    metadata,
    tenant_id_column(),
    Column("board_id", UUID(as_uuid=True), primary_key=True),
    Column("window_key", String(40), primary_key=True),
    Column("level", SmallInteger, primary_key=True),
    Column("block", BigInteger, primary_key=True),
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("n", BigInteger, nullable=False),
    Column("folded", Boolean, nullable=False, server_default=text("false")),
    Index(
        "ix_gamification_board_counts_unfolded",
        "tenant_id",
        postgresql_where=text("NOT folded"),
    ),
)
"""How many members of a board's window have a score in each block of scores: the aid that
counts a member's better scores in a few rows, whatever the board's size (``ranks``).
Blocks nest by 16: a score's block at ``level`` k is ``score >> 4k``. Written by triggers on
the scores (every statement that adds, changes or removes scores inserts its signed deltas
here in its transaction), insert-only, so no two ingestions wait on a shared row; a job
folds each block's deltas into one ``folded`` row. No foreign key to the board, whose row
every insert would otherwise lock."""

players = Table(
    "gamification_players",
    metadata,
    tenant_id_column(),
    Column("member_id", UUID(as_uuid=True), primary_key=True),
    Column("display_name", String(40)),
    Column("hidden", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
"""How a member appears on leaderboards: the name it chose (else a pseudonym derived from
nothing personal), or not at all (``hidden``: its scores are removed and no longer kept)."""

payouts = Table(
    "gamification_board_payouts",
    metadata,
    tenant_id_column(),
    Column("board_id", UUID(as_uuid=True), primary_key=True),
    Column("window_key", String(40), primary_key=True),
    Column("winners", Integer, nullable=False),
    Column("paid_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(
        ["tenant_id", "board_id"],
        ["gamification_leaderboards.tenant_id", "gamification_leaderboards.id"],
        name="fk_gamification_board_payouts_board",
    ),
)
"""A window whose prizes were paid: the row is the claim (of two job runners, the one whose
insert wins pays; the other finds it), in the transaction that pays."""

challenges = Table(
    "gamification_challenges",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("ordered", Boolean, nullable=False),
    Column("opt_in", Boolean, nullable=False),
    Column("segment", String(100)),
    Column("steps", JSONB, nullable=False),
    Column("reward_points", BigInteger, nullable=False),
    Column("reward_asset", String(32), nullable=False),
    Column("reward_effect", JSONB),
    Column("status", String(10), nullable=False),
    Column("failures", BigInteger, nullable=False, server_default="0"),
    Column("consecutive_failures", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("last_failure_at", DateTime(timezone=True)),
    Column("status_reason", String(500)),
    created_at_column(),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("starts_at < ends_at", name="window"),
    CheckConstraint(f"status IN {DEFINITION_STATUSES}", name="status"),
    CheckConstraint("reward_points >= 0", name="reward_not_negative"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
)
"""A challenge (mission): steps (``[{name, eventType, condition, target}]``) to complete
between ``starts_at`` and ``ends_at``, in order or in any order, for members who join it
(``opt_in``) or for everyone, optionally only members of a ``segment``; completing every
step pays ``reward_points`` and ``reward_effect`` (any enabled module's rule effect, as a
badge's)."""

challenge_progress = Table(
    "gamification_challenge_progress",
    metadata,
    tenant_id_column(),
    Column("member_id", UUID(as_uuid=True), primary_key=True),
    Column("challenge_id", UUID(as_uuid=True), primary_key=True),
    Column("counts", JSONB, nullable=False),
    Column("joined_at", DateTime(timezone=True)),
    Column("completed_at", DateTime(timezone=True)),
    Column("completed_by", UUID(as_uuid=True)),
    Column("transaction_id", UUID(as_uuid=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(
        ["tenant_id", "challenge_id"],
        ["gamification_challenges.tenant_id", "gamification_challenges.id"],
        name="fk_gamification_challenge_progress_challenge",
    ),
)
"""A member's progress in a challenge: a count per step (``counts``, in step order), when
it joined (opt-in challenges), and when which event completed it, with the ledger
transaction that paid."""

challenge_contributions = Table(
    "gamification_challenge_contributions",
    metadata,
    tenant_id_column(),
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("challenge_id", UUID(as_uuid=True), primary_key=True),
    Column("member_id", UUID(as_uuid=True), nullable=False),
    Column("steps", ARRAY(Integer), nullable=False),
    Column("refund_of", UUID(as_uuid=True)),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    created_at_column(),
    Index(
        "ix_gamification_challenge_contributions_member",
        "tenant_id",
        "member_id",
        "challenge_id",
        "occurred_at",
    ),
)
"""Why a challenge's counts are what they are: per event that advanced it, the steps it
counted (indexes, in step order); per refund that took some of a purchase's steps back, a row
of the refund's own with ``refund_of`` the purchase and the steps taken back (a partial
refund may take back a step whose condition the money kept no longer meets, a later one the
rest). Insert-only; a refund reads the rows of the refunds before it with the member's
progress row locked, so a step is taken back once, whatever the number of refunds or their
concurrency. Keyed by event: a refund finds its purchase's rows by the key. No foreign
key to the challenge, for the reason the badges' contributions have none; indexed by member
and challenge (``MemberChallenge.contributions``)."""

streak_units = Table(
    "gamification_streak_units",
    metadata,
    tenant_id_column(),
    Column("member_id", UUID(as_uuid=True), primary_key=True),
    Column("streak_id", UUID(as_uuid=True), primary_key=True),
    Column("unit", Integer, primary_key=True),
    Column("purchases", ARRAY(UUID(as_uuid=True)), nullable=False),
    Column("others", Integer, nullable=False),
    ForeignKeyConstraint(
        ["tenant_id", "streak_id"],
        ["gamification_streaks.tenant_id", "gamification_streaks.id"],
        name="fk_gamification_streak_units_streak",
    ),
)
"""The local units (days or weeks) a member's run of a streak counted: the purchases that
kept each (a refund in full removes its purchase) and how many other events did. A unit
with neither no longer counts, and the run is recomputed from the units left. Written by the
statement that counts the event, after the run's row (the lock order refunds follow)."""

TABLES = (
    catalogues,
    badges,
    progress,
    days,
    contributions,
    awards,
    streaks,
    member_streaks,
    leaderboards,
    scores,
    board_counts,
    players,
    payouts,
    challenges,
    challenge_progress,
    challenge_contributions,
    streak_units,
)

__all__ = [
    "TABLES",
    "awards",
    "badges",
    "board_counts",
    "catalogues",
    "challenge_contributions",
    "challenge_progress",
    "challenges",
    "contributions",
    "days",
    "leaderboards",
    "member_streaks",
    "payouts",
    "players",
    "progress",
    "scores",
    "streak_units",
    "streaks",
]
