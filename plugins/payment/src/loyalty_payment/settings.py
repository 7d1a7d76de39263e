"""A tenant's payment settings, validated when the tenant enables the module.

What a point is worth is the retailer's decision, per asset and currency, in the currency's
minor units: ``value: 1`` makes a point worth one cent, ``value: 0.5`` half a cent. The
rounding rule says how a money amount turns into whole points.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum

from loyalty_core.sdk import is_currency
from pydantic import BaseModel, Field, field_validator, model_validator


class Rounding(StrEnum):
    """How many whole points pay a money amount: ``up`` (the retailer never receives less
    than the amount's value), ``down`` (the member never gives more), ``half_up``."""

    UP = "up"
    DOWN = "down"
    HALF_UP = "half_up"

    @property
    def mode(self) -> str:
        return {"up": ROUND_CEILING, "down": ROUND_FLOOR, "half_up": ROUND_HALF_UP}[self.value]


class PointValue(BaseModel):
    """What one point of ``asset`` pays in ``currency``, in the currency's minor units."""

    asset: str = Field("points", min_length=1, max_length=32)
    currency: str = Field(min_length=3, max_length=3)
    value: Decimal = Field(gt=0, le=1_000_000, decimal_places=6)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not is_currency(value.upper()):
            raise ValueError("currency is an ISO 4217 code such as EUR")
        return value.upper()


class PaymentSettings(BaseModel):
    """What a tenant decides about paying with points and stored value."""

    point_values: list[PointValue] = Field(
        default_factory=list,
        max_length=50,
        description="What a point is worth per asset and currency; none: points cannot pay.",
    )
    rounding: Rounding = Rounding.UP
    min_points_share: Decimal = Field(
        Decimal(0), ge=0, le=1, description="Least share of a basket points may pay, if any."
    )
    max_points_share: Decimal = Field(
        Decimal(1), ge=0, le=1, description="Most share of a basket points may pay."
    )
    hold_minutes: int = Field(
        30, ge=1, le=43_200, description="How long an authorisation holds value (max 30 days)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> PaymentSettings:
        if self.min_points_share > self.max_points_share:
            raise ValueError("min_points_share must not exceed max_points_share")
        pairs = [(p.asset, p.currency) for p in self.point_values]
        if len(set(pairs)) != len(pairs):
            raise ValueError("one point value per asset and currency")
        return self

    def point_value(self, asset: str, currency: str) -> Decimal | None:
        for entry in self.point_values:
            if entry.asset == asset and entry.currency == currency:
                return entry.value
        return None


__all__ = ["PaymentSettings", "PointValue", "Rounding"]
