"""A tenant as the rest of the code sees it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class Tenant:
    """A retailer's programme: name, time zone, default currency and settings (``earnRates``)."""

    id: uuid.UUID
    slug: str
    name: str
    timezone: str
    default_currency: str
    settings: dict[str, object] = field(default_factory=dict)
    created_at: datetime | None = None

    def earn_rate(self, currency: str) -> Decimal:
        """Base points per currency unit (until rules take over): ``settings.earnRates``,
        a map of currency to a decimal string; currencies not listed earn nothing."""
        rates = self.settings.get("earnRates", {})
        if not isinstance(rates, dict):
            return Decimal(0)
        return Decimal(str(rates.get(currency, 0)))


__all__ = ["Tenant"]
