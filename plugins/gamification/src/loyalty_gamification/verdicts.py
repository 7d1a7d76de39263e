"""One event's conditions, each evaluated once: badges, streaks and challenge steps often
share a condition (``event.payload.store == "coffee-bar"``), and evaluating one is the
costliest thing the ingest path does in Python (tens of microseconds each)."""

from __future__ import annotations

from typing import Any

from loyalty_core.sdk import conditions


class Verdicts:
    """The variables of one event (:func:`conditions.variables`) and what each condition
    text made of them: True, False, or the failure, raised again for every definition that
    asks (each one is counted on its own health)."""

    def __init__(self, variables: dict[str, Any]) -> None:
        self.variables = variables
        self._found: dict[str, bool | conditions.ConditionFailed] = {}

    def holds(self, expression: str) -> bool:
        """Whether the condition holds for the event; raises :class:`ConditionFailed`."""
        if not expression:
            return True
        found = self._found.get(expression)
        if found is None:
            try:
                found = conditions.evaluate(expression, self.variables)
            except conditions.ConditionFailed as exc:
                found = exc
            self._found[expression] = found
        if isinstance(found, conditions.ConditionFailed):
            raise found
        return found


__all__ = ["Verdicts"]
