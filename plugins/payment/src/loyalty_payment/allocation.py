"""How a payment's amount is split across its tenders: pure functions, no I/O.

Authorisation fills tenders in the customer's order of preference; capture takes from them
in the same order; a refund returns value pro rata to what each tender paid. Every split
sums exactly to the amount it splits, so no minor unit is lost or made up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from loyalty_core.sdk import InsufficientFunds, ValidationFailed


@dataclass(frozen=True)
class Ask:
    """What one tender is asked for: ``requested`` exactly (None: as much as it can), with
    ``available`` what it can hold and ``most`` what the tenant's rules allow it."""

    requested: int | None
    available: int
    most: int
    least: int = 0
    """The smallest part the rules allow when the tender pays at all (the minimum share of
    points); an as-much-as-possible tender that cannot reach it pays nothing."""


def authorization(amount: int, asks: Sequence[Ask]) -> list[int]:
    """The part of ``amount`` each tender holds, in order. A tender given an exact amount
    holds exactly that or the whole authorisation fails (nothing is held)."""
    parts: list[int] = []
    due = amount
    for index, ask in enumerate(asks):
        field = f"tenders.{index}.amount"
        can = min(ask.available, ask.most)
        if ask.requested is None:
            part = min(can, due)
            parts.append(part if part >= max(ask.least, 1) else 0)
        else:
            if ask.requested > due:
                raise ValidationFailed(
                    f"the tender asks {ask.requested} but only {due} remains due", field=field
                )
            if ask.requested < ask.least:
                raise ValidationFailed(f"this tender pays at least {ask.least}", field=field)
            if ask.requested > can:
                raise InsufficientFunds(
                    f"the tender can pay {can}, not {ask.requested}", field=field
                )
            parts.append(ask.requested)
        due -= parts[-1]
    if not any(parts):
        raise InsufficientFunds("the tenders can pay nothing of this amount", field="tenders")
    return parts


def capture(amount: int, held: Sequence[int]) -> list[int]:
    """Capture ``amount`` from the tenders in order of preference, each up to what it held."""
    parts: list[int] = []
    due = amount
    for part_held in held:
        parts.append(min(part_held, due))
        due -= parts[-1]
    return parts


def refund(amount: int, captured: Sequence[int], refunded: Sequence[int]) -> list[int]:
    """Split a refund of ``amount`` across the tenders pro rata to what each captured.

    Each tender's target is its share of everything refunded so far, rounded down; the
    minor units rounding leaves over go to the tenders in order of preference, within what
    each may still take back. Refunding in any number of steps returns each tender exactly
    what it paid once everything is refunded.
    """
    total_captured = sum(captured)
    total_after = sum(refunded) + amount
    if total_after > total_captured:
        raise ValueError("refund exceeds the capture")
    room = [c - r for c, r in zip(captured, refunded, strict=True)]
    parts = [
        min(
            room[i],
            max(0, total_after * c // total_captured - refunded[i]) if total_captured else 0,
        )
        for i, c in enumerate(captured)
    ]
    # Targets rounded down never exceed the amount; if earlier leftovers made a tender run
    # ahead of its share, trim from the last tenders back.
    excess = sum(parts) - amount
    for i in reversed(range(len(parts))):
        cut = min(excess, parts[i]) if excess > 0 else 0
        parts[i] -= cut
        excess -= cut
    left = amount - sum(parts)
    for i in range(len(parts)):
        give = min(left, room[i] - parts[i])
        parts[i] += give
        left -= give
    return parts


__all__ = ["Ask", "authorization", "capture", "refund"]
