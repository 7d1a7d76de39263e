"""Currencies: ISO 4217 codes and their minor units (amounts travel as integers)."""

from __future__ import annotations

from decimal import Decimal

from loyalty_core.errors import ValidationFailed

# ISO 4217 currencies whose minor unit is not 2 digits; every other code has 2.
_MINOR_UNITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0, "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}  # fmt: skip


# ISO 4217 codes in use (list one, 2024, with the funds and precious-metal codes): a tenant
# that configures "EUX" or "" gets INVALID_INPUT on that field, not a currency nothing pays in.
CURRENCIES = frozenset({
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD",
    "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUC", "CUP",
    "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP",
    "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS",
    "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW",
    "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD",
    "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN",
    "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR",
    "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SLL",
    "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY",
    "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES",
    "VND", "VUV", "WST", "XAF", "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XCD", "XCG", "XDR",
    "XOF", "XPD", "XPF", "XPT", "XSU", "XTS", "XUA", "XXX", "YER", "ZAR", "ZMW", "ZWG", "ZWL",
})  # fmt: skip


def is_currency(code: str) -> bool:
    """Whether ``code`` is an ISO 4217 currency code (upper case, as stored)."""
    return code in CURRENCIES


def validate_currency(code: str, *, field: str = "currency") -> str:
    if not is_currency(code):
        raise ValidationFailed(f"{code[:16]!r} is not an ISO 4217 currency code", field=field)
    return code


def minor_units(currency: str) -> int:
    """Digits after the decimal point of ``currency`` (EUR 2, JPY 0, KWD 3)."""
    return _MINOR_UNITS.get(currency, 2)


def to_major(amount_minor: int, currency: str) -> Decimal:
    """``1999`` EUR cents as ``Decimal('19.99')``: exact, never a float."""
    return Decimal(amount_minor).scaleb(-minor_units(currency))


__all__ = ["CURRENCIES", "is_currency", "minor_units", "to_major", "validate_currency"]
