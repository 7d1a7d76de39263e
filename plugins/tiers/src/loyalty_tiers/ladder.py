"""A tenant's tier ladder: its levels, the qualifying metric, the window and the policies.

Pure rules, no SQL: which level a metric qualifies for, where a member's qualification
window starts and ends, and what a window's end does to a level under each downgrade
policy. The repository and the window-end job apply these to rows; the simulation applies
the same functions to every member, so what it predicts is what the ladder then does.

Windows are whole months of the tenant's calendar (its time zone): a calendar year runs
January to December, a rolling window covers the current month and the ``months - 1``
before it, and the anniversary year starts on the first day of the month the member
enrolled in. The metric is kept per member and month, so every window is a sum of at most
36 month rows, whatever its kind, and a change of the ladder's window recomputes from the
same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from itertools import pairwise

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_LEVELS = 12
MAX_BENEFITS = 20
YEAR = 12


class Metric(StrEnum):
    """What qualifies a member for a level."""

    STATUS_POINTS = "status_points"
    """Status points: the tenant's non-spendable points asset (``status`` by default) that
    campaigns award beside or instead of spendable points."""
    SPEND = "spend"
    """Purchase amounts in the tenant's currency, in minor units, less refunds."""
    PURCHASES = "purchases"
    """Purchases counted; a purchase refunded in full no longer counts."""
    VISITS = "visits"
    """Events of the ladder's ``visit_types`` (check-ins, store visits) counted."""
    EXPRESSION = "expression"
    """A CEL expression over the member's aggregates in the window (``window.spend``,
    ``window.purchases``, ``window.visits``, ``window.statusPoints``): see ``expression``."""


class WindowKind(StrEnum):
    ROLLING = "rolling"
    CALENDAR_YEAR = "calendar_year"
    ANNIVERSARY_YEAR = "anniversary_year"


class DowngradePolicy(StrEnum):
    """What happens at a window's end to a member whose metric no longer holds the level."""

    QUALIFYING = "qualifying"
    """Drop to the level the window's metric qualifies for."""
    ONE_LEVEL = "one_level"
    """Drop one level at a time (never below what the metric qualifies for)."""
    GRACE = "grace"
    """Keep the level ``grace_days`` longer; if the new window's metric holds it by then the
    member keeps it, otherwise the member drops to the level the new window qualifies for
    (never lower than the ended window did)."""


class Level(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_-]*$")
    threshold: int | None = Field(
        None, ge=0, le=10**12, description="Metric that reaches the level; none if invitation-only."
    )
    benefits: tuple[str, ...] = Field((), max_length=MAX_BENEFITS)
    invitation_only: bool = False

    @field_validator("benefits")
    @classmethod
    def _benefits(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not 1 <= len(b.strip()) <= 200 for b in value):
            raise ValueError("a benefit is 1 to 200 characters")
        return value

    @model_validator(mode="after")
    def _threshold(self) -> Level:
        if self.invitation_only != (self.threshold is None):
            raise ValueError("a level has a threshold unless it is invitation-only")
        return self


class Ladder(BaseModel):
    """Levels from lowest to highest; the metric, window and policies that move members."""

    model_config = ConfigDict(frozen=True)

    levels: tuple[Level, ...] = Field(min_length=1, max_length=MAX_LEVELS)
    metric: Metric = Metric.STATUS_POINTS
    visit_types: tuple[str, ...] = ("visit",)
    window: WindowKind = WindowKind.CALENDAR_YEAR
    expression: str | None = Field(
        None,
        max_length=2000,
        description="With the EXPRESSION metric: CEL over the window's aggregates giving the "
        "metric, e.g. window.spend / 100 + window.visits * 50.",
    )
    months: int = Field(12, ge=1, le=36, description="Length of a rolling window.")
    downgrade: DowngradePolicy = DowngradePolicy.QUALIFYING
    grace_days: int = Field(0, ge=0, le=366)
    refunds_downgrade: bool = Field(
        False,
        description="A refund that takes the metric under the level downgrades at once "
        "(never below the level the last window's end confirmed); otherwise only at the "
        "window's end.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Ladder:
        names = [level.name for level in self.levels]
        if len(set(names)) != len(names):
            raise ValueError("level names are unique")
        thresholds = [lv.threshold for lv in self.levels if lv.threshold is not None]
        if not thresholds:
            raise ValueError("at least one level is reached by the metric")
        if any(b <= a for a, b in pairwise(thresholds)):
            raise ValueError("thresholds rise from level to level")
        if (self.metric is Metric.EXPRESSION) != bool(self.expression and self.expression.strip()):
            raise ValueError("an expression goes with the EXPRESSION metric, and only with it")
        if self.downgrade is DowngradePolicy.GRACE and self.grace_days == 0:
            raise ValueError("a grace policy needs grace_days")
        return self

    # -- levels ---------------------------------------------------------------------------

    def rank(self, name: str | None) -> int:
        """Position of a level (-1 for none, or a name this ladder no longer has)."""
        for index, level in enumerate(self.levels):
            if level.name == name:
                return index
        return -1

    def level(self, name: str | None) -> Level | None:
        index = self.rank(name)
        return None if index < 0 else self.levels[index]

    def qualifying(self, metric: int) -> str | None:
        """The highest level ``metric`` reaches (invitation-only levels are never reached)."""
        found = None
        for level in self.levels:
            if level.threshold is not None and metric >= level.threshold:
                found = level.name
        return found

    def next_level(self, name: str | None) -> Level | None:
        """The next level up reachable by the metric, above ``name``."""
        return next(
            (level for level in self.levels[self.rank(name) + 1 :] if level.threshold is not None),
            None,
        )

    def one_below(self, name: str | None) -> str | None:
        """The reachable level just below ``name`` (None below the lowest)."""
        below = [lv for lv in self.levels[: max(self.rank(name), 0)] if lv.threshold is not None]
        return below[-1].name if below else None

    def higher(self, a: str | None, b: str | None) -> str | None:
        return a if self.rank(a) >= self.rank(b) else b

    # -- windows --------------------------------------------------------------------------

    def length(self) -> int:
        """Months in a window."""
        return self.months if self.window is WindowKind.ROLLING else YEAR

    def step(self) -> int:
        """Months between two window ends: a rolling window is re-evaluated every month."""
        return 1 if self.window is WindowKind.ROLLING else YEAR

    def window_end(self, today: date, anchor_month: int) -> date:
        """The first day after the window containing ``today`` (tenant's local date);
        ``anchor_month`` is the member's enrolment month (anniversary years)."""
        month = month_start(today)
        if self.window is WindowKind.ROLLING:
            return add_months(month, 1)
        start_month = 1 if self.window is WindowKind.CALENDAR_YEAR else anchor_month
        start = date(month.year, start_month, 1)
        if start > month:
            start = date(month.year - 1, start_month, 1)
        return add_months(start, YEAR)

    def window_start(self, end: date) -> date:
        """The first month of the window ending at ``end``."""
        return add_months(end, -self.length())


@dataclass(frozen=True)
class WindowEnd:
    """What a window's end decides for one member."""

    level: str | None
    in_grace: bool = False
    """Under the grace policy: the level is kept for the grace period..."""
    grace_level: str | None = None
    """... and then drops to this one (none: no level) unless the member requalified."""


def at_window_end(ladder: Ladder, level: str | None, metric: int) -> WindowEnd:
    """The member's level after a window whose metric was ``metric``: kept or raised when
    the metric holds it, otherwise lowered by the ladder's policy."""
    qualified = ladder.qualifying(metric)
    if ladder.rank(qualified) >= ladder.rank(level):
        return WindowEnd(qualified)
    if ladder.downgrade is DowngradePolicy.ONE_LEVEL:
        return WindowEnd(ladder.higher(qualified, ladder.one_below(level)))
    if ladder.downgrade is DowngradePolicy.GRACE:
        return WindowEnd(level, in_grace=True, grace_level=qualified)
    return WindowEnd(qualified)


def at_grace_end(
    ladder: Ladder, level: str | None, grace_level: str | None, metric: int
) -> str | None:
    """The level when grace ends: what the new window's ``metric`` qualifies for, at least
    the level the ended window left, at most the level kept through grace."""
    earned = ladder.higher(ladder.qualifying(metric), grace_level)
    return earned if ladder.rank(earned) <= ladder.rank(level) else level


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first of the month ``months`` after (or before) ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


__all__ = [
    "DowngradePolicy",
    "Ladder",
    "Level",
    "Metric",
    "WindowEnd",
    "WindowKind",
    "add_months",
    "at_grace_end",
    "at_window_end",
    "month_start",
]
