"""A tenant's tiers settings, validated when the tenant enables the module.

The ladder itself is data (``tierLadderSet``), versioned and simulated before a change;
settings hold what the module needs before any ladder exists: the status points asset it
provisions, and how long before a window's end a member hears that the level is at risk.
"""

from __future__ import annotations

from loyalty_core.sdk import ledger
from pydantic import BaseModel, Field, field_validator


class TierSettings(BaseModel):
    """What a tenant decides about tiers beyond its ladder."""

    status_asset: str = Field(
        "status",
        pattern=r"^[a-z][a-z0-9_]{0,31}$",
        description="Code of the status points asset (non-spendable points that campaigns "
        "award and the status_points metric counts); created when the module is enabled, or "
        "made not spendable if the tenant has it already. Never the spendable points asset.",
    )
    warning_days: int = Field(
        14,
        ge=1,
        le=180,
        description="Days before a window's end at which a member whose metric no longer "
        "holds the level is warned (the tiers.downgrade_warning domain event).",
    )
    membership_webhook_secret: str | None = Field(
        None,
        min_length=16,
        max_length=200,
        description="The secret the payment provider signs membership webhooks with; "
        "without one the webhook answers 404.",
    )
    membership_grace_days: int = Field(
        7,
        ge=0,
        le=60,
        description="Days a membership whose payment failed (or that was not renewed) "
        "still gives its level and benefits.",
    )

    @field_validator("status_asset")
    @classmethod
    def _not_the_points(cls, value: str) -> str:
        if value == ledger.DEFAULT_ASSET_CODE:
            raise ValueError("status points are an asset of their own, not the spendable points")
        return value


__all__ = ["TierSettings"]
