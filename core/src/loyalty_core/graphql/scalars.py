"""The ``JSON`` and ``DateTime`` scalars as every schema of the gateway parses them.

strawberry's own ``JSON`` takes any value as it is and its ``DateTime`` takes a time without
an offset; both then fail far from the request (a recursion overflow, a NUL the database
refuses, a naive time compared with an aware one). These keep strawberry's names and output
and refuse such input when it is coerced, variables and literals alike (graphql-core's
default ``parse_literal`` reads the literal and hands it to ``parse_value``), with the rules
of :mod:`loyalty_core.inputs`. They replace strawberry's through ``StrawberryConfig.scalar_map``
(:data:`SCALARS`), so every field of the core and of every module that declares ``JSON`` or
``datetime`` gets them without asking.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types.scalar import ScalarDefinition

from loyalty_core.errors import ValidationFailed
from loyalty_core.inputs import aware_datetime, check_json


def _parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValidationFailed("a DateTime is a string (RFC 3339)", field="")
    return aware_datetime(value, "")


def _serialize_datetime(value: datetime) -> str:
    return value.isoformat()


JSON_SCALAR: ScalarDefinition = strawberry.scalar(
    name="JSON",
    description=(
        "The `JSON` scalar type represents JSON values as specified by "
        "[ECMA-404](https://ecma-international.org/wp-content/uploads/"
        "ECMA-404_2nd_edition_december_2017.pdf)."
    ),
    specified_by_url=(
        "https://ecma-international.org/wp-content/uploads/ECMA-404_2nd_edition_december_2017.pdf"
    ),
    serialize=lambda value: value,
    parse_value=check_json,
)
DATETIME_SCALAR: ScalarDefinition = strawberry.scalar(
    name="DateTime",
    description=(
        "A date and time with its UTC offset, RFC 3339 (`2026-11-23T21:48:48Z`); "
        "a time without an offset is refused."
    ),
    serialize=_serialize_datetime,
    parse_value=_parse_datetime,
)
SCALARS: dict[object, ScalarDefinition] = {JSON: JSON_SCALAR, datetime: DATETIME_SCALAR}
"""What ``StrawberryConfig.scalar_map`` takes to put these in place of strawberry's."""

__all__ = ["DATETIME_SCALAR", "JSON_SCALAR", "SCALARS"]
