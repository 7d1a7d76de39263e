"""A tenant as the rest of the code sees it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class Branding:
    """How the tenant's apps look: a logo (an https URL or a ``data:image/...`` URL) and two
    colours (``#rrggbb``); each may be unset."""

    logo_url: str | None = None
    primary_color: str | None = None
    accent_color: str | None = None

    @classmethod
    def of_settings(cls, settings: dict[str, object]) -> Branding:
        """The branding kept in a tenant's ``settings.branding`` (none: all unset)."""
        found = settings.get("branding")
        if not isinstance(found, dict):
            return cls()
        return cls(
            logo_url=_text(found.get("logoUrl")),
            primary_color=_text(found.get("primaryColor")),
            accent_color=_text(found.get("accentColor")),
        )

    def as_settings(self) -> dict[str, str]:
        """The ``settings.branding`` object: the fields that are set, by their API names."""
        found = {
            "logoUrl": self.logo_url,
            "primaryColor": self.primary_color,
            "accentColor": self.accent_color,
        }
        return {name: value for name, value in found.items() if value is not None}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


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

    @property
    def branding(self) -> Branding:
        return Branding.of_settings(self.settings)

    def earn_rate(self, currency: str) -> Decimal:
        """Base points per currency unit (until rules take over): ``settings.earnRates``,
        a map of currency to a decimal string; currencies not listed earn nothing."""
        rates = self.settings.get("earnRates", {})
        if not isinstance(rates, dict):
            return Decimal(0)
        return Decimal(str(rates.get(currency, 0)))


__all__ = ["Branding", "Tenant"]
