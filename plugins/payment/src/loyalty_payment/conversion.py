"""Money to points and back, exactly (Decimal), by a tenant's rounding rule."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from loyalty_payment.settings import Rounding


def points_for(money: int, value: Decimal, rounding: Rounding) -> int:
    """The whole points that pay ``money`` minor units at ``value`` minor units a point."""
    return int((Decimal(money) / value).quantize(Decimal(1), rounding=rounding.mode))


def money_for(points: int, value: Decimal, rounding: Rounding) -> int:
    """The most money ``points`` can pay: the largest amount whose :func:`points_for` is at
    most ``points`` (``points_for`` is monotonic, so every smaller amount is payable too)."""
    if points <= 0:
        return 0
    # points_for(m) <= p  <=>  m / v < p + t  (t = 1 rounding down, 1/2 half up), or, when
    # rounding up, m / v <= p.
    if rounding is Rounding.UP:
        return int((points * value).to_integral_value(rounding=ROUND_FLOOR))
    step = Decimal(1) if rounding is Rounding.DOWN else Decimal("0.5")
    return int(((points + step) * value).to_integral_value(rounding=ROUND_CEILING)) - 1


__all__ = ["money_for", "points_for"]
