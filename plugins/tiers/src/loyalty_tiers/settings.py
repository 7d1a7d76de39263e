"""A tenant's tiers settings, validated when the tenant enables the module.

The ladder itself is data (``tierLadderSet``), versioned and simulated before a change;
settings hold what the module needs before any ladder exists: the status points asset it
provisions, and how long before a window's end a member hears that the level is at risk.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class TierSettings(BaseModel):
    """What a tenant decides about tiers beyond its ladder."""

    status_asset: str = Field(
        "status",
        pattern=r"^[a-z][a-z0-9_]{0,31}$",
        description="Code of the status points asset (non-spendable points that campaigns "
        "award and the status_points metric counts); created when the module is enabled.",
    )
    warning_days: int = Field(
        14,
        ge=1,
        le=180,
        description="Days before a window's end at which a member whose metric no longer "
        "holds the level is warned (the tiers.downgrade_warning domain event).",
    )


__all__ = ["TierSettings"]
