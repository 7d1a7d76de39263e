"""A ladder's qualifying metric as a CEL expression over the member's window aggregates.

Tiers are decided per qualification window, so the aggregates an expression sees are the
window's, kept per member and month beside the metric (``tiers_metrics``): ``window.spend``
(purchase amounts in the tenant's currency, minor units, less refunds),
``window.purchases`` (purchases, less those refunded in full), ``window.visits`` (events of
the ladder's ``visit_types``) and ``window.statusPoints`` (what the status asset received).
``window.spend / 100 + window.visits * 50`` ranks a member by euros spent plus fifty per
visit; every window end, simulation and progress figure evaluates the same expression over
the same sums.

The language and the programs are the rules engine's (``sdk.conditions``): checked on
``tierLadderSet`` (it must compile, name only these fields and give a number), compiled once
per expression text and cached for the process, so a ladder's expression compiles once. An
expression that fails for a member at run time (a division by zero) is skipped for that
member: no level changes, the failure is counted on the ladder's health and shown by
``tierLadder``, and the event, window end or simulation goes on.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from loyalty_core.sdk import conditions

AGGREGATES = ("spend", "purchases", "visits", "statusPoints")
ROOTS: dict[str, Any] = {"window": dict.fromkeys(AGGREGATES)}
MAX_METRIC = 10**15
_STATUS = re.compile(r"\bstatusPoints\b|\bwindow\s*\[")


@dataclass(frozen=True)
class Aggregates:
    """What a member did in a window (or what one event added to it)."""

    spend: int = 0
    purchases: int = 0
    visits: int = 0
    status_points: int = 0

    def __bool__(self) -> bool:
        return any((self.spend, self.purchases, self.visits, self.status_points))

    def variables(self) -> dict[str, Any]:
        return {
            "window": {
                "spend": self.spend,
                "purchases": self.purchases,
                "visits": self.visits,
                "statusPoints": self.status_points,
            }
        }


def check(expression: str) -> None:
    """Refuse (``INVALID_CONDITION`` on ``expression``) an expression that does not compile,
    names another field than the window's aggregates, or gives no number for a member with
    one of everything."""
    conditions.check_variables(expression, ROOTS, field="expression")
    try:
        value(expression, Aggregates(1, 1, 1, 1))
    except conditions.ConditionFailed as exc:
        raise conditions.InvalidCondition(
            f"the expression gives no metric for a member with 1 of everything: {exc}",
            field="expression",
        ) from exc


def value(expression: str, aggregates: Aggregates) -> int:
    """The metric ``expression`` gives for ``aggregates``, rounded down to a whole number;
    ``ConditionFailed`` when it cannot be evaluated or gives something else than a number
    within +-10^15."""
    found = conditions.evaluate_value(expression, aggregates.variables())
    if isinstance(found, bool) or not isinstance(found, int | float):
        raise conditions.ConditionFailed(
            f"the expression gives a {type(found).__name__}, not a number", "TypeError"
        )
    if not (math.isfinite(found) and -MAX_METRIC <= found <= MAX_METRIC):
        raise conditions.ConditionFailed("the metric is out of range", "OverflowError")
    return math.floor(found)


def needs_status_points(expression: str) -> bool:
    """Whether the expression reads the status points (which cost a read per event)."""
    return _STATUS.search(expression) is not None


__all__ = ["AGGREGATES", "Aggregates", "check", "needs_status_points", "value"]
