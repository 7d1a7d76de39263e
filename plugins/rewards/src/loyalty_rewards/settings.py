"""A tenant's rewards settings, validated when the tenant enables the module."""

from __future__ import annotations

from datetime import timedelta

from loyalty_core.sdk import codes
from pydantic import BaseModel, Field


class RewardSettings(BaseModel):
    """What a tenant decides about its vouchers; rewards themselves are catalogue rows."""

    code_length: int = Field(
        16, ge=codes.MIN_LENGTH, le=32, description="Random symbols per generated voucher code."
    )
    voucher_days: int = Field(
        30, ge=1, le=3_660, description="Days a voucher stays valid unless its reward says."
    )
    reservation_minutes: int = Field(
        15, ge=1, le=1_440, description="How long voucherReserve holds a code for a checkout."
    )
    max_failed_attempts: int = Field(
        10, ge=1, le=100, description="Failed voucher look-ups before the caller is locked out."
    )
    lockout_minutes: int = Field(15, ge=1, le=10_080, description="How long a lock-out lasts.")

    @property
    def lockout(self) -> timedelta:
        return timedelta(minutes=self.lockout_minutes)

    @property
    def reservation(self) -> timedelta:
        return timedelta(minutes=self.reservation_minutes)


__all__ = ["RewardSettings"]
