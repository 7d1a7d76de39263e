"""Frozen read models the services return, and the arithmetic of a badge's periods.

A badge counts in periods: all time (one period), a local calendar week or month of the
tenant (``week:2026-W49``, ``month:2026-12``; a week starts on Monday at midnight in the
tenant's time zone, so a daylight-saving change moves nothing), or a fixed window (events
outside it do not count).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo


class Measure(StrEnum):
    """What a qualifying event brings: one, or the value of a field of the event."""

    COUNT = "count"
    SUM = "sum"


class Period(StrEnum):
    """The period a badge's progress counts in, and starts again after."""

    ALL_TIME = "all_time"
    WEEK = "week"
    MONTH = "month"
    WINDOW = "window"


class Status(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"
    PAUSED = "paused"
    """Stopped by its own failures (``health``); a definition never takes it from a caller."""


ALL_TIME_KEY = "all"
WINDOW_KEY = "window"


@dataclass(frozen=True)
class Badge:
    """A badge definition with its health (events its condition failed for)."""

    id: uuid.UUID
    name: str
    description: str
    event_type: str
    condition: str
    measure: Measure
    sum_field: str | None
    target: int
    period: Period
    starts_at: datetime | None
    ends_at: datetime | None
    repeatable: bool
    secret: bool
    revoke_on_refund: bool
    daily_cap: int | None
    reward_points: int
    reward_asset: str
    reward_effect: dict[str, Any] | None
    status: Status
    failures: int
    consecutive_failures: int
    last_error: str | None
    last_failure_at: datetime | None
    status_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Any) -> Badge:
        return cls(
            id=row.id,
            name=row.name,
            description=row.description,
            event_type=row.event_type,
            condition=row.condition,
            measure=Measure(row.measure),
            sum_field=row.sum_field,
            target=row.target,
            period=Period(row.period),
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            repeatable=row.repeatable,
            secret=row.secret,
            revoke_on_refund=row.revoke_on_refund,
            daily_cap=row.daily_cap,
            reward_points=row.reward_points,
            reward_asset=row.reward_asset,
            reward_effect=row.reward_effect,
            status=Status(row.status),
            failures=row.failures,
            consecutive_failures=row.consecutive_failures,
            last_error=row.last_error,
            last_failure_at=row.last_failure_at,
            status_reason=row.status_reason,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @property
    def zoned(self) -> bool:
        """Whether the badge needs the tenant's time zone (local weeks, months or days)."""
        return self.period in (Period.WEEK, Period.MONTH) or self.daily_cap is not None

    def period_key(self, at: datetime, zone: ZoneInfo) -> str | None:
        """The period ``at`` falls in, or None when it is outside the badge's window."""
        if self.period is Period.WINDOW:
            assert self.starts_at is not None
            assert self.ends_at is not None
            return WINDOW_KEY if self.starts_at <= at < self.ends_at else None
        return calendar_key(self.period, at, zone)

    def completions(self, value: int) -> int:
        """How many completions ``value`` makes: one at most unless repeatable."""
        reached = max(value, 0) // self.target
        return reached if self.repeatable else min(reached, 1)


def calendar_key(period: Period, at: datetime, zone: ZoneInfo) -> str:
    """The key of the calendar period (all time, local ISO week, local month) of ``at``."""
    if period is Period.ALL_TIME:
        return ALL_TIME_KEY
    local = at.astimezone(zone)
    if period is Period.WEEK:
        iso = local.isocalendar()
        return f"week:{iso.year}-W{iso.week:02d}"
    return f"month:{local.year}-{local.month:02d}"


def kept_after_refund(granted: int, amount: int, refunded: int) -> int:
    """What a purchase that brought ``granted`` still brings once ``refunded`` of its
    ``amount`` is refunded: its share of what was kept, rounded up, so a count stays until
    the purchase is refunded in full and a sum of the amount follows the money kept."""
    if amount <= 0 or refunded >= amount:
        return 0
    return math.ceil(granted * (amount - refunded) / amount)


@dataclass(frozen=True)
class Contribution:
    """One event's part in a progress: ``amount`` counted (negative for a refund that took
    some back), ``offered`` what it brought before the daily cap."""

    event_id: uuid.UUID
    amount: int
    offered: int
    occurred_at: datetime
    purchase_event_id: uuid.UUID | None


@dataclass(frozen=True)
class Award:
    """A completion of a badge by a member, and its revocation if a refund took it back."""

    id: uuid.UUID
    badge_id: uuid.UUID
    member_id: uuid.UUID
    period_key: str
    seq: int
    event_id: uuid.UUID
    transaction_id: uuid.UUID | None
    earned_at: datetime
    revoked_at: datetime | None
    revoked_by: uuid.UUID | None

    @classmethod
    def of(cls, row: Any) -> Award:
        return cls(
            id=row.id,
            badge_id=row.badge_id,
            member_id=row.member_id,
            period_key=row.period_key,
            seq=row.seq,
            event_id=row.event_id,
            transaction_id=row.transaction_id,
            earned_at=row.earned_at,
            revoked_at=row.revoked_at,
            revoked_by=row.revoked_by,
        )


@dataclass(frozen=True)
class Progress:
    """A member's progress toward a badge in one period (zero when nothing counted yet)."""

    badge: Badge
    member_id: uuid.UUID
    period_key: str
    value: int
    earned: int


__all__ = [
    "ALL_TIME_KEY",
    "WINDOW_KEY",
    "Award",
    "Badge",
    "Contribution",
    "Measure",
    "Period",
    "Progress",
    "Status",
    "calendar_key",
    "kept_after_refund",
]
