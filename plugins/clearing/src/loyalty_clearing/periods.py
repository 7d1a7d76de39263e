"""Settlement periods: calendar months or ISO weeks in the tenant's time zone.

A period is half-open, ``[start, end)``: a movement at exactly midnight of the 1st belongs
to the new month. Pure functions, no database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from loyalty_core.sdk import ValidationFailed

from loyalty_clearing.models import Period
from loyalty_clearing.settings import PeriodLength

FIRST_YEAR, LAST_YEAR = 1970, 9000
"""Days a period may be asked for by: settlement has nothing before, and the calendar's
end is no period's."""


def period_of(moment: datetime, zone: ZoneInfo, length: PeriodLength) -> Period:
    """The period ``moment`` falls in."""
    return period_starting(_start_of(moment.astimezone(zone).date(), length), zone, length)


def period_containing(day: date, zone: ZoneInfo, length: PeriodLength) -> Period:
    """The period a local ``day`` falls in; INVALID_INPUT on ``period`` for a day outside
    the years settlement knows."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValidationFailed(f"period: a day from {FIRST_YEAR} to {LAST_YEAR}", field="period")
    return period_starting(_start_of(day, length), zone, length)


def period_starting(starts_on: date, zone: ZoneInfo, length: PeriodLength) -> Period:
    if length is PeriodLength.WEEKLY:
        ends_on = starts_on + timedelta(days=7)
    elif starts_on.month == 12:
        ends_on = date(starts_on.year + 1, 1, 1)
    else:
        ends_on = date(starts_on.year, starts_on.month + 1, 1)
    return Period(starts_on, ends_on, _midnight(starts_on, zone), _midnight(ends_on, zone))


def _start_of(day: date, length: PeriodLength) -> date:
    if length is PeriodLength.WEEKLY:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


__all__ = ["period_containing", "period_of", "period_starting"]
