"""A tenant's clearing settings, validated when the tenant enables the module.

The operator (the tenant) chooses how long a settlement period is; periods are counted in
the tenant's time zone (a month from the 1st at midnight, a week from Monday at midnight).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

NAME = "clearing"
"""The module's name: its tables' prefix, its ledger causes' kind, its actor in jobs."""


class PeriodLength(StrEnum):
    MONTHLY = "monthly"
    WEEKLY = "weekly"


class ClearingSettings(BaseModel):
    """What a tenant decides about its settlement."""

    period: PeriodLength = Field(
        PeriodLength.MONTHLY, description="How long a settlement period is (tenant time zone)."
    )


__all__ = ["NAME", "ClearingSettings", "PeriodLength"]
