"""The tenant's live badge definitions, cached per process and grouped by event type.

The ingest path must not read definitions per event, let alone scan them: a process keeps
each tenant's live badges with the catalogue version it read them at, and per event reads
only that version (one primary-key look-up of ``gamification_catalogues``). Every change of
a definition raises the version in its own transaction, so every gateway instance reloads
the definitions at its next event after the change committed, and never before.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_gamification import repository as repo
from loyalty_gamification.challenges import Challenge, list_challenges
from loyalty_gamification.leaderboards import Board, list_boards
from loyalty_gamification.models import Badge, Status
from loyalty_gamification.streaks import Streak


@dataclass(frozen=True)
class Catalogue:
    """A tenant's live definitions at one catalogue version, by the event type they count."""

    version: int
    by_type: dict[str, tuple[Badge, ...]] = field(default_factory=dict)
    by_id: dict[uuid.UUID, Badge] = field(default_factory=dict)
    streaks_by_type: dict[str, tuple[Streak, ...]] = field(default_factory=dict)
    streaks: tuple[Streak, ...] = ()
    boards: tuple[Board, ...] = ()
    challenges_by_type: dict[str, tuple[Challenge, ...]] = field(default_factory=dict)
    challenges: tuple[Challenge, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.by_id or self.streaks or self.boards or self.challenges)


_CACHE: dict[uuid.UUID, Catalogue] = {}
"""Per tenant. A tenant's entry is replaced when its version moves; it holds only the live
definitions of tenants that ingest events with the module enabled."""


async def live(conn: AsyncConnection, tenant_id: uuid.UUID) -> Catalogue:
    """The tenant's live definitions as of this transaction: from the cache when its version
    is current, else read once and cached."""
    version = await repo.catalogue_version(conn, tenant_id)
    cached = _CACHE.get(tenant_id)
    if cached is not None and cached.version == version:
        return cached
    found = [Badge.of(row) for row in await repo.live_badges(conn, tenant_id)]
    by_type: dict[str, list[Badge]] = {}
    for badge in sorted(found, key=lambda b: b.id):
        by_type.setdefault(badge.event_type, []).append(badge)
    live_streaks = tuple(Streak.of(row) for row in await repo.live_streaks(conn, tenant_id))
    streaks_by_type: dict[str, list[Streak]] = {}
    for streak in live_streaks:
        streaks_by_type.setdefault(streak.event_type, []).append(streak)
    boards = await list_boards(conn, tenant_id)
    live_challenges = tuple(
        c for c in await list_challenges(conn, tenant_id) if c.status is Status.ACTIVE
    )
    challenges_by_type: dict[str, list[Challenge]] = {}
    for challenge in live_challenges:
        for event_type in dict.fromkeys(step.event_type for step in challenge.steps):
            challenges_by_type.setdefault(event_type, []).append(challenge)
    catalogue = Catalogue(
        version=version,
        by_type={name: tuple(items) for name, items in by_type.items()},
        by_id={badge.id: badge for badge in found},
        streaks_by_type={name: tuple(items) for name, items in streaks_by_type.items()},
        streaks=live_streaks,
        boards=tuple(b for b in boards if b.status is Status.ACTIVE),
        challenges_by_type={k: tuple(v) for k, v in challenges_by_type.items()},
        challenges=live_challenges,
    )
    _CACHE[tenant_id] = catalogue
    return catalogue


__all__ = ["Catalogue", "live"]
