"""Conditions in CEL: compiled once per expression text (an LRU), checked when saved.

The CEL library compiles without declarations, so a misspelt field would only show up as a
missing key when an event arrives, i.e. as a campaign that silently never fires. So on save
every field path under ``event``, ``member`` and ``now`` is checked against what rules can
see (the event type's JSON Schema, the member fields below) and an unknown one is rejected
with its position, like a syntax error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import cel

from loyalty_core.errors import ErrorCode, LoyaltyError

ANY = "any"
"""A field whose own fields are not known (a member's attributes, an open JSON object)."""

EVENT_FIELDS: dict[str, Any] = {
    "type": None,
    "source": None,
    "externalId": None,
    "amount": None,
    "currency": None,
    "occurredAt": None,
}
WINDOWS = (7, 30, 90, 365)
"""Days of the windowed member aggregates (``member.spendLast90Days``, ...)."""
MEMBER_FIELDS: dict[str, Any] = {
    "id": None,
    "status": None,
    "attributes": ANY,
    "enrolledAt": None,
    "purchaseCount": None,
    "eventCount": None,
    "totalSpend": None,
    **{
        f"{aggregate}Last{days}Days": None
        for aggregate in ("spend", "purchases", "events")
        for days in WINDOWS
    },
    "segments": None,
}
"""What conditions see of a member; the windowed aggregates are over the days before the
event, as of the event (see ``repository.member_aggregates``)."""
MEMBER_ROW_FIELDS = frozenset({"id", "status", "attributes", "enrolledAt"})
"""Member fields the member's row holds; the others (aggregates, segments) cost reads."""
MACROS = ("all", "exists", "exists_one", "map", "filter")
MAX_LENGTH = 2000

_STRING = re.compile(r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")
_PATH = re.compile(r"(?<![\w.])([A-Za-z_]\w*)((?:\s*\.\s*[A-Za-z_]\w*)*)(\s*\()?")
_BOUND = re.compile(r"\.\s*(?:" + "|".join(MACROS) + r")\s*\(\s*([A-Za-z_]\w*)\s*,")
_POSITION = re.compile(r"<input>:(\d+):(\d+): (.*)")


class InvalidCondition(LoyaltyError):
    """A condition that does not compile or names a field rules cannot see."""

    code = ErrorCode.INVALID_CONDITION


class ConditionFailed(Exception):
    """A valid condition that could not be evaluated for these variables (a division by
    zero, an integer overflow, a comparison of a number with a string, a function given a
    value it cannot take): a fault of the condition for this event, never of the event.
    ``error_class`` names the library's error."""

    def __init__(self, message: str, error_class: str) -> None:
        super().__init__(message)
        self.error_class = error_class


@lru_cache(maxsize=1024)
def compiled(expression: str) -> cel.Program:
    """The compiled program of ``expression``; shared by every campaign using the text."""
    return cel.compile(expression)


def check(
    expression: str,
    event_schema: Mapping[str, Any],
    *,
    field: str = "condition",
    facts: Iterable[str] = (),
) -> None:
    """Raise :class:`InvalidCondition` (with line and column) unless ``expression`` compiles
    and every field it names exists for an event of ``event_schema`` (the member's fields
    include the names of the module ``facts`` the tenant's modules contribute)."""
    _raise_first(problems(expression, event_roots(event_schema, facts), field=field))


def check_segment(expression: str, *, field: str = "condition", facts: Iterable[str] = ()) -> None:
    """Like :func:`check` for a segment: it sees ``member`` (but not its segments) and ``now``."""
    _raise_first(segment_problems(expression, field=field, facts=facts))


def segment_problems(
    expression: str, *, field: str = "condition", facts: Iterable[str] = ()
) -> list[InvalidCondition]:
    """What :func:`check_segment` finds wrong, all of it: a segment needs a condition."""
    if not expression.strip():
        return [InvalidCondition("a segment needs a condition", field=field)]
    return problems(expression, segment_roots(facts), field=field)


MEMBER_ALONE_FIELDS = frozenset({"eventCount", *(f"eventsLast{days}Days" for days in WINDOWS)})
"""Member fields that count events of the trigger's type: meaningless without a trigger."""


def check_member(expression: str, *, field: str = "condition", facts: Iterable[str] = ()) -> None:
    """Like :func:`check` for a condition over the member alone, with no event (who may see
    a reward): it sees ``member`` (segments included, not the counts of the trigger's event
    type) and ``now``. An empty condition holds for everyone."""
    member = {k: v for k, v in MEMBER_FIELDS.items() if k not in MEMBER_ALONE_FIELDS}
    member |= dict.fromkeys(facts)
    _raise_first(problems(expression, {"member": member, "now": {}}, field=field))


def check_variables(expression: str, roots: Mapping[str, Any], *, field: str) -> None:
    """Raise :class:`InvalidCondition` (with line and column) unless ``expression`` is a
    non-empty expression that compiles and names only the fields of ``roots`` (a root's
    value is a dict of its fields, None for a leaf, :data:`ANY` for an open object): a
    module's own expression over variables of its own, checked like a condition."""
    if not expression.strip():
        raise InvalidCondition("an expression is required", field=field)
    _raise_first(problems(expression, roots, field=field))


def event_roots(event_schema: Mapping[str, Any], facts: Iterable[str] = ()) -> dict[str, Any]:
    """What a campaign's condition sees: ``event`` (its payload by ``event_schema``),
    ``member`` (with the module ``facts``) and ``now``."""
    member = {**MEMBER_FIELDS, **dict.fromkeys(facts)}
    return {"event": _event_fields(event_schema), "member": member, "now": {}}


def segment_roots(facts: Iterable[str] = ()) -> dict[str, Any]:
    """What a segment's condition sees: ``member`` (not its segments) and ``now``."""
    member = {k: v for k, v in MEMBER_FIELDS.items() if k != "segments"}
    return {"member": member | dict.fromkeys(facts), "now": {}}


def problems(
    expression: str, roots: Mapping[str, Any], *, field: str = "condition"
) -> list[InvalidCondition]:
    """Everything wrong with ``expression`` over the variables ``roots``, in the order of
    the text, each with its line and column: the syntax errors the CEL library reports, or,
    when it compiles, every field it names that ``roots`` lack. Empty when it is fine (an
    empty expression included: whether one is allowed is the caller's rule). Pure and
    cached by the compiler, so an editor may ask on every keystroke."""
    if len(expression) > MAX_LENGTH:
        return [InvalidCondition(f"a condition has at most {MAX_LENGTH} characters", field=field)]
    if not expression.strip():
        return []
    try:
        compiled(expression)
    except (ValueError, RuntimeError) as exc:
        return _syntax_errors(str(exc), field)
    return _unknown_paths(expression, roots, field)


def _raise_first(found: list[InvalidCondition]) -> None:
    if found:
        raise found[0]


def evaluate_value(expression: str, variables: Mapping[str, Any]) -> Any:
    """What ``expression`` gives for ``variables`` (a number, a string...), from the compiled
    program; :class:`ConditionFailed` when it cannot be evaluated (a missing field
    included: a module's own variables are always all there)."""
    try:
        return compiled(expression).execute(dict(variables))
    except Exception as exc:
        raise ConditionFailed(str(exc), type(exc).__name__) from exc


def evaluate(expression: str, variables: Mapping[str, Any]) -> bool:
    """True when the condition holds. A field absent from this event (an optional payload
    property, a member attribute not set) makes the condition false: the schema allows it,
    so the event is not one the condition is about. Any other error while evaluating raises
    :class:`ConditionFailed` (the library raises ``ZeroDivisionError``, ``OverflowError``,
    ``TypeError``, ``IndexError``, ``RuntimeError`` and more, so every ``Exception`` is one)."""
    if not expression.strip():
        return True
    try:
        return compiled(expression).execute(dict(variables)) is True
    except KeyError:
        return False
    except Exception as exc:
        raise ConditionFailed(str(exc), type(exc).__name__) from exc


@lru_cache(maxsize=1024)
def member_fields(expression: str) -> frozenset[str] | None:
    """The member fields a (valid) condition reads, ``member.totalSpend`` as ``totalSpend``;
    None when it uses the member as a whole (``member["totalSpend"]``, ``member`` passed on),
    so that a caller computes every field."""
    fields: set[str] = set()
    for name, parts, _ in _paths(expression):
        if name == "member":
            if not parts:
                return None
            fields.add(parts[0])
    return frozenset(fields)


def _syntax_errors(message: str, field: str) -> list[InvalidCondition]:
    """The library's errors, one per ``<input>:line:column: text`` it names (it gives them as
    text only); the whole message, without a place, if it names none."""
    found = [
        InvalidCondition(
            f"condition does not compile at line {line}, column {column}: {text}",
            field=field,
            line=int(line),
            column=int(column),
        )
        for line, column, text in _POSITION.findall(message)
    ]
    return found or [InvalidCondition(f"condition does not compile: {message}", field=field)]


def _event_fields(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {**EVENT_FIELDS, "payload": _schema_fields(schema)}


def _schema_fields(schema: Mapping[str, Any]) -> dict[str, Any] | str:
    properties = schema.get("properties")
    if schema.get("type") != "object" or not isinstance(properties, dict):
        return ANY
    return {name: _schema_fields(sub) for name, sub in properties.items() if isinstance(sub, dict)}


def _paths(expression: str) -> list[tuple[str, list[str], int]]:
    """The variable paths an expression names: root, field names, the root's offset."""
    blanked = _STRING.sub(lambda m: " " * len(m.group(0)), expression)
    bound = set(_BOUND.findall(blanked))
    found: list[tuple[str, list[str], int]] = []
    for match in _PATH.finditer(blanked):
        name, rest, call = match.group(1), match.group(2), match.group(3)
        if name in bound or name in {"true", "false", "null", "in"}:
            continue
        parts = [p.strip() for p in rest.split(".")[1:]]
        if call and not parts:
            continue  # a function: size(...), timestamp(...)
        if call:
            parts = parts[:-1]  # the last name is a method: s.startsWith(...)
        found.append((name, parts, match.start(1)))
    return found


def _unknown_paths(expression: str, roots: Mapping[str, Any], field: str) -> list[InvalidCondition]:
    blanked = _STRING.sub(lambda m: " " * len(m.group(0)), expression)
    found: list[InvalidCondition] = []
    for name, parts, start in _paths(expression):
        if name not in roots:
            found.append(_unknown(expression, start, name, field))
            continue
        known: Any = roots[name]
        offset = start + len(name)
        for part in parts:
            offset = blanked.index(part, offset)
            if known == ANY:
                break
            if not isinstance(known, dict) or part not in known:
                found.append(_unknown(expression, offset, part, field))
                break
            known = known[part]
            offset += len(part)
    return found


def _unknown(expression: str, offset: int, name: str, field: str) -> InvalidCondition:
    line = expression.count("\n", 0, offset) + 1
    column = offset - (expression.rfind("\n", 0, offset) + 1) + 1
    return InvalidCondition(
        f"unknown field {name!r} at line {line}, column {column}",
        field=field,
        line=line,
        column=column,
    )


__all__ = [
    "MEMBER_ALONE_FIELDS",
    "MEMBER_FIELDS",
    "MEMBER_ROW_FIELDS",
    "WINDOWS",
    "ConditionFailed",
    "InvalidCondition",
    "check",
    "check_member",
    "check_segment",
    "check_variables",
    "compiled",
    "evaluate",
    "evaluate_value",
    "event_roots",
    "member_fields",
    "problems",
    "segment_problems",
    "segment_roots",
]
