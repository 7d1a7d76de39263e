"""When a lot expires: an asset's expiry policy applied to the moment its points become
available. Pure computation, so every policy and time zone edge is testable without a
database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from loyalty_core.ledger.models import Asset, ExpiryPolicy

ZONED = frozenset({ExpiryPolicy.END_OF_MONTH, ExpiryPolicy.END_OF_YEAR, ExpiryPolicy.FIXED_DATE})
"""Policies whose moment depends on the tenant's time zone (a day ends at local midnight)."""


def expires_at(asset: Asset, available_from: datetime, timezone: str) -> datetime | None:
    """When points of ``asset`` that become available at ``available_from`` expire (UTC), or
    None when they never do.

    - ``DAYS_AFTER_EARN``: ``expiry_days`` later, to the second.
    - ``END_OF_MONTH`` / ``END_OF_YEAR``: at the end of the month or year (local midnight in
      ``timezone``) they became available in, plus ``expiry_periods`` months or years.
    - ``FIXED_DATE``: at the end of ``expiry_date``, local time. Points that become available
      after that never expire by it (the retailer sets a new date or policy for those).
    """
    policy = asset.expiry_policy
    if policy is ExpiryPolicy.DAYS_AFTER_EARN and asset.expiry_days is not None:
        return available_from + timedelta(days=asset.expiry_days)
    if policy not in ZONED:
        return None
    zone = ZoneInfo(timezone)
    local = available_from.astimezone(zone).date()
    if policy is ExpiryPolicy.END_OF_MONTH:
        first_after = _add_months(local.replace(day=1), asset.expiry_periods + 1)
    elif policy is ExpiryPolicy.END_OF_YEAR:
        first_after = date(local.year + asset.expiry_periods + 1, 1, 1)
    else:
        if asset.expiry_date is None:
            return None
        first_after = asset.expiry_date + timedelta(days=1)
    moment = datetime.combine(first_after, time(0), tzinfo=zone).astimezone(UTC)
    return moment if moment > available_from else None


def _add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


__all__ = ["ZONED", "expires_at"]
