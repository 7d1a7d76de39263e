"""Money of a line: points x rate, rounded once, to the currency's minor unit.

The rule (one, for every line): the exact value ``points x rate`` (rates are Decimal, in
the currency's major unit per point) is rounded to the minor unit half-to-even (banker's
rounding: 0.5 cent goes to the even cent, so rounding has no bias over many lines). What is
posted to the ledger is the rounded amount, so a statement, which sums posted lines, equals
the ledger to the unit. The sub-unit difference of each line is kept on the line
(``exact_amount``) and settled at the period close through the rounding account.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from loyalty_core.sdk import minor_units


def exact_money(points: int, rate: Decimal, currency: str) -> Decimal:
    """``points x rate`` in minor units, unrounded."""
    return Decimal(points) * rate * (Decimal(10) ** minor_units(currency))


def rounded(exact: Decimal) -> int:
    """The posted amount of an exact value in minor units (half to even)."""
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def whole_units(residue: Decimal) -> int:
    """The whole minor units of a residue, toward zero; the fraction is carried on."""
    return int(residue.quantize(Decimal(1), rounding=ROUND_DOWN))


def percent_of(amount: int, percent: Decimal) -> Decimal:
    """``percent`` % of an amount in minor units, unrounded."""
    return Decimal(abs(amount)) * percent / Decimal(100)


__all__ = ["exact_money", "percent_of", "rounded", "whole_units"]
