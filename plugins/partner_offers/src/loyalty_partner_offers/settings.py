"""The module's settings per tenant: none yet (every offer carries its own terms)."""

from __future__ import annotations

from loyalty_core.sdk import NoSettings

NAME = "partner_offers"
OfferSettings = NoSettings

__all__ = ["NAME", "OfferSettings"]
