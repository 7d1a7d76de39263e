"""Currencies: ISO 4217 codes and their minor units (amounts travel as integers)."""

from __future__ import annotations

import re
from decimal import Decimal

from loyalty_core.errors import ValidationFailed

_CODE = re.compile(r"[A-Z]{3}")

# ISO 4217 currencies whose minor unit is not 2 digits; every other code has 2.
_MINOR_UNITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0, "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}  # fmt: skip


def validate_currency(code: str, *, field: str = "currency") -> str:
    if not _CODE.fullmatch(code):
        raise ValidationFailed(f"{code!r} is not an ISO 4217 currency code", field=field)
    return code


def minor_units(currency: str) -> int:
    """Digits after the decimal point of ``currency`` (EUR 2, JPY 0, KWD 3)."""
    return _MINOR_UNITS.get(currency, 2)


def to_major(amount_minor: int, currency: str) -> Decimal:
    """``1999`` EUR cents as ``Decimal('19.99')``: exact, never a float."""
    return Decimal(amount_minor).scaleb(-minor_units(currency))


__all__ = ["minor_units", "to_major", "validate_currency"]
