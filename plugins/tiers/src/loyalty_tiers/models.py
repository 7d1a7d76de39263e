"""Frozen read models the service returns and the schema shows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from loyalty_tiers.expression import Aggregates
from loyalty_tiers.ladder import Level


class Source(StrEnum):
    """Where a member's current level comes from."""

    EARNED = "earned"
    OVERRIDE = "override"
    MEMBERSHIP = "membership"


@dataclass(frozen=True)
class Override:
    level: str
    reason: str
    actor: str
    expires_at: datetime


@dataclass(frozen=True)
class Standing:
    """A member's level as the member sees it."""

    member_id: uuid.UUID
    level: Level | None
    source: Source
    since: datetime
    until: date
    """The last day of the current window: when the earned level is next decided (or the
    day an override expires)."""
    earned: str | None
    """The level the metric earned, beneath any override."""
    override: Override | None
    grace_until: date | None
    """The last day of a grace period under way."""


@dataclass(frozen=True)
class Contribution:
    event_id: uuid.UUID
    event_type: str
    amount: int
    occurred_at: datetime
    aggregates: Aggregates | None = None
    """Under an EXPRESSION ladder: what the event added to the window's aggregates."""


@dataclass(frozen=True)
class Progress:
    """The member's metric in the current window, and what it lacks."""

    metric: str
    value: int
    window_start: date
    window_end: date
    """The last day of the window."""
    next_level: Level | None
    missing: int
    """What the next level lacks (0 without one)."""
    keep: int
    """What the member must still earn by ``window_end`` to keep the earned level."""
    contributions: tuple[Contribution, ...]
    aggregates: Aggregates | None = None
    """Under an EXPRESSION ladder: the window's aggregates the expression read."""
    error: str | None = None
    """Under an EXPRESSION ladder: why the expression gave no metric for the member."""


@dataclass(frozen=True)
class Change:
    id: uuid.UUID
    kind: str
    from_level: str | None
    to_level: str | None
    reason: str
    actor: str
    event_id: uuid.UUID | None
    metric: int | None
    at: datetime


__all__ = ["Change", "Contribution", "Override", "Progress", "Source", "Standing"]
