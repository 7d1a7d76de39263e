"""A tenant's gift card settings, validated when the tenant enables the module.

Expiry is a legal question more than a business one (several countries forbid gift cards
that lapse within a few years, others count from the last use), so the tenant chooses the
policy its country requires; the default is never.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from loyalty_core.sdk import is_currency
from pydantic import BaseModel, Field, field_validator, model_validator

from loyalty_giftcards.codes import MIN_LENGTH


class ExpiryPolicy(StrEnum):
    NEVER = "never"
    AFTER_ISSUE = "after_issue"
    AFTER_LAST_USE = "after_last_use"


class GiftCardSettings(BaseModel):
    """What a tenant decides about its gift cards."""

    currencies: list[str] = Field(
        default_factory=lambda: ["EUR"],
        min_length=1,
        max_length=10,
        description="ISO 4217 codes cards may be issued in; one ledger asset each.",
    )
    expiry_policy: ExpiryPolicy = ExpiryPolicy.NEVER
    expiry_days: int | None = Field(
        None, gt=0, le=36_600, description="Days after issue or last use (with a policy)."
    )
    code_length: int = Field(16, ge=MIN_LENGTH, le=32, description="Random symbols per code.")
    pin_required: bool = Field(False, description="Cards get a PIN that every look-up needs.")
    max_balance: int = Field(50_000, gt=0, description="Most a card may hold, in minor units.")
    max_failed_attempts: int = Field(
        10, ge=1, le=100, description="Failed look-ups before a card or credential locks."
    )
    lockout_minutes: int = Field(15, ge=1, le=10_080, description="How long a lock-out lasts.")

    @field_validator("currencies")
    @classmethod
    def _currencies(cls, value: list[str]) -> list[str]:
        codes = [code.upper() for code in value]
        if not all(is_currency(code) for code in codes):
            raise ValueError("currencies are ISO 4217 codes such as EUR")
        if len(set(codes)) != len(codes):
            raise ValueError("currencies must not repeat")
        return codes

    @model_validator(mode="after")
    def _expiry(self) -> GiftCardSettings:
        if (self.expiry_policy is ExpiryPolicy.NEVER) != (self.expiry_days is None):
            raise ValueError("expiry_days is required with an expiry policy, and only then")
        return self

    @property
    def lockout(self) -> timedelta:
        return timedelta(minutes=self.lockout_minutes)

    @property
    def expiry(self) -> timedelta | None:
        return None if self.expiry_days is None else timedelta(days=self.expiry_days)


def asset_code(currency: str) -> str:
    """The ledger asset that holds a tenant's cards in ``currency``: ``giftcard_eur``."""
    return f"giftcard_{currency.lower()}"


__all__ = ["ExpiryPolicy", "GiftCardSettings", "asset_code"]
