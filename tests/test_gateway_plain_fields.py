"""Plain fields served by the gateway's executor answer exactly as graphql-core's own path:
the same data, and the same errors at the same paths when a value does not fit its type."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import ExecutionResult, execute, parse
from loyalty_gateway.execution import Executor
from loyalty_gateway.plain_fields import PLAIN, mark_plain_fields


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclass
class Source:
    name: Any
    count: Any
    colour: Any
    note: Any = None


@strawberry.type
class Item:
    name: str
    count: int
    colour: Colour
    note: str | None

    @strawberry.field
    def shout(self) -> str:
        return str(self.name).upper()


ITEMS = [
    Source("a", 1, Colour.RED, "n"),
    Source(None, 2, Colour.BLUE),  # a null where none may be
    Source("c", 2**40, Colour.RED),  # an Int out of range
    Source("d", 4, "green"),  # not a member of the enum
]


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item | None]:
        return ITEMS  # type: ignore[return-value]


QUERY = parse("{ items { name count colour note shout alias: name __typename } }")


def _run(*, fast: bool) -> ExecutionResult:
    schema = strawberry.Schema(query=Query)._schema
    if fast:
        assert mark_plain_fields(schema) == 4  # name, count, colour, note (not shout)
    result = execute(schema, QUERY, execution_context_class=Executor if fast else None)
    assert isinstance(result, ExecutionResult)
    return result


def test_plain_fields_answer_as_graphql_core_does() -> None:
    fast, reference = _run(fast=True), _run(fast=False)

    assert fast.data == reference.data
    assert fast.data is not None
    assert fast.data["items"][0] == {
        "name": "a",
        "count": 1,
        "colour": "RED",
        "note": "n",
        "shout": "A",
        "alias": "a",
        "__typename": "Item",
    }
    assert [item is None for item in fast.data["items"]] == [False, True, True, True]
    errors = [(e.path, e.message) for e in fast.errors or []]
    assert errors == [(e.path, e.message) for e in reference.errors or []]
    assert [path for path, _ in errors] == [
        ["items", 1, "name"],
        ["items", 2, "count"],
        ["items", 3, "colour"],
    ]


def test_only_leaf_fields_of_the_basic_resolver_are_marked() -> None:
    schema = strawberry.Schema(query=Query)._schema
    mark_plain_fields(schema)
    item = schema.type_map["Item"]
    marked = {name for name, field in item.fields.items() if PLAIN in (field.extensions or {})}  # type: ignore[attr-defined]
    assert marked == {"name", "count", "colour", "note"}
