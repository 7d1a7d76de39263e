"""What every value a caller sends must be before the core or a module acts on it.

PostgreSQL stores neither the NUL character (U+0000) in ``text`` or ``jsonb`` nor a lone
surrogate (U+D800 to U+DFFF, which has no UTF-8 form): the driver or the server refuses the
statement, far from the field at fault, and the caller saw ``internal error``. A JSON value
nested a thousand deep passes the JSON decoder and then overflows the recursion of whatever
walks it next (JSON Schema validation, serialisation for the database). A time without its
offset cannot be compared with an aware one. So these rules are checked once, where a value
enters: GraphQL's variable coercion and literals (the gateway), the ``JSON`` and
``DateTime`` scalars, and the NDJSON lines of ``POST /events``. Each refusal is a
:class:`ValidationFailed` (``INVALID_INPUT``) naming the field; nothing is written.

Limits of a JSON value (``docs/api.md``): at most :data:`MAX_JSON_DEPTH` levels of arrays
and objects, :data:`MAX_JSON_VALUES` values in all (elements and members), strings and keys
of at most :data:`MAX_JSON_STRING` characters. Its total size is bounded by what carries it:
a GraphQL request body, or one NDJSON line (:data:`MAX_LINE_BYTES`).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from loyalty_core.errors import ValidationFailed

MAX_JSON_DEPTH = 32
"""Levels of arrays and objects in one JSON value (``{"a": [1]}`` is two)."""
MAX_JSON_VALUES = 10_000
"""Array elements and object members in one JSON value, counted together."""
MAX_JSON_STRING = 10_000
"""Characters in one string or key of a JSON value."""
MAX_LINE_BYTES = 1024 * 1024
"""Bytes in one NDJSON line, as in one GraphQL request body."""
ITEMS_ALONE = "loyalty.items_alone"
"""Metadata of a GraphQL input field (``strawberry.field(metadata={ITEMS_ALONE: True})``)
holding a list whose items succeed or fail alone, as ``eventIngestBatch``'s events: an item
holding a value no field takes reaches the resolver as a :class:`RefusedItem` instead of
refusing the whole request."""

_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why PostgreSQL cannot store ``value`` as text (``"may not contain ..."``), or None.
    The NUL test is a scan of the string in C; an ASCII string (``isascii`` reads a flag,
    it does not scan) holds no surrogate."""
    if "\x00" in value:
        return "may not contain the NUL character (U+0000)"
    if not value.isascii() and _SURROGATE.search(value) is not None:
        return "may not contain a lone surrogate (U+D800 to U+DFFF)"
    return None


def check_text(value: str, field: str) -> str:
    """``value`` when PostgreSQL can store it; else ValidationFailed naming ``field``."""
    problem = text_problem(value)
    if problem is not None:
        raise ValidationFailed(f"text {problem}", field=field)
    return value


def check_json(value: Any, field: str = "") -> Any:
    """``value`` when it keeps the limits of a JSON value and all its text (keys included)
    can be stored; else ValidationFailed naming ``field`` and the path inside the value
    (``payload.items[3].name``; without ``field``, the path alone, empty for the value
    itself). The walk stops at the first problem and never recurses deeper than
    :data:`MAX_JSON_DEPTH`."""
    try:
        _walk(value, MAX_JSON_DEPTH, [MAX_JSON_VALUES])
    except _Refused as refused:
        where = join_path(field, reversed(refused.path))
        raise ValidationFailed(refused.problem, field=where) from None
    return value


def aware_datetime(value: str, field: str) -> datetime:
    """An RFC 3339 time (ISO 8601 with its UTC offset); a time without one is refused, as it
    could be compared with no other."""
    try:
        parsed = datetime.fromisoformat(check_text(value, field))
    except ValueError:
        raise ValidationFailed("not an ISO 8601 date and time", field=field) from None
    return require_offset(parsed, field)


def require_offset(value: datetime, field: str) -> datetime:
    """``value`` when it carries its UTC offset; else ValidationFailed naming ``field``."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed(
            "a time needs its UTC offset (2026-11-23T21:48:48Z or +01:00)", field=field
        )
    return value


def join_path(field: str, parts: Any) -> str:
    """``field`` followed by keys (``.name``) and indices (``[3]``)."""
    joined = field
    for part in parts:
        if isinstance(part, int):
            joined = f"{joined}[{part}]"
        else:
            joined = f"{joined}.{part}" if joined else part
    return joined


class RefusedItem:
    """An item of a list judged item by item (:data:`ITEMS_ALONE`) that holds a value no
    field takes: the error, its field relative to the item (``payload.note``)."""

    __slots__ = ("error",)

    def __init__(self, error: ValidationFailed) -> None:
        self.error = error


class _Refused(Exception):
    """A problem found deep in a JSON value; the path is collected on the way out."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        self.path: list[str | int] = []


def _walk(value: Any, depth: int, budget: list[int]) -> None:
    """Check ``value``; a plain ASCII string (nearly every key and text) costs two tests
    inline, anything else goes to :func:`_string`, which says what is wrong, if anything."""
    kind = type(value)
    if kind is str:
        _string(value)
    elif kind is dict:
        _enter(len(value), depth, budget)
        for key, item in value.items():
            if type(key) is str and ("\x00" in key or not key.isascii() or len(key) > _LONG):
                _string(key, "a key")
            kind = type(item)
            if kind is str:
                if "\x00" in item or not item.isascii() or len(item) > _LONG:
                    _inside(item, key, depth, budget)
            elif kind is dict or kind is list:
                _inside(item, key, depth, budget)
    elif kind is list:
        _enter(len(value), depth, budget)
        for index, item in enumerate(value):
            kind = type(item)
            if kind is str:
                if "\x00" in item or not item.isascii() or len(item) > _LONG:
                    _inside(item, index, depth, budget)
            elif kind is dict or kind is list:
                _inside(item, index, depth, budget)


_LONG = MAX_JSON_STRING


def _inside(item: Any, step: str | int, depth: int, budget: list[int]) -> None:
    """Check ``item``, found at ``step`` of its container, one level down."""
    try:
        _walk(item, depth - 1, budget)
    except _Refused as refused:
        refused.path.append(step)
        raise


def _enter(size: int, depth: int, budget: list[int]) -> None:
    if depth == 0:
        raise _Refused(f"a JSON value may nest at most {MAX_JSON_DEPTH} levels deep")
    budget[0] -= size
    if budget[0] < 0:
        raise _Refused(f"a JSON value may hold at most {MAX_JSON_VALUES} values")


def _string(value: str, what: str = "text") -> None:
    if len(value) > MAX_JSON_STRING:
        raise _Refused(f"{what} of a JSON value may hold at most {MAX_JSON_STRING} characters")
    problem = text_problem(value)
    if problem is not None:
        raise _Refused(f"{what} {problem}")


__all__ = [
    "ITEMS_ALONE",
    "MAX_JSON_DEPTH",
    "MAX_JSON_STRING",
    "MAX_JSON_VALUES",
    "MAX_LINE_BYTES",
    "RefusedItem",
    "aware_datetime",
    "check_json",
    "check_text",
    "join_path",
    "require_offset",
    "text_problem",
]
