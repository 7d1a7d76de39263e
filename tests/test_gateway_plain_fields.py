"""Plain fields served by the gateway's executor answer exactly as graphql-core's own path:
the same data, and the same errors at the same paths when a value does not fit its type."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Annotated, Any

import strawberry
from graphql import DocumentNode, ExecutionResult, execute, parse
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


def _run(query: type, document: DocumentNode, *, fast: bool) -> ExecutionResult:
    """``document`` on ``query``'s schema: by the executor on marked fields (``fast``), or
    by graphql-core alone."""
    schema = strawberry.Schema(query=query)._schema
    if fast:
        mark_plain_fields(schema)
    result = execute(schema, document, execution_context_class=Executor if fast else None)
    assert isinstance(result, ExecutionResult)
    return result


def test_plain_fields_answer_as_graphql_core_does() -> None:
    fast, reference = _run(Query, QUERY, fast=True), _run(Query, QUERY, fast=False)

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


@strawberry.type
class Other:
    label: str


@strawberry.type
class UnionQuery:
    @strawberry.field
    def things(self) -> list[Annotated[Item | Other, strawberry.union("Thing")]]:
        return [Item(name="a", count=1, colour=Colour.RED, note=None), Other(label="x")]


def test_typename_is_the_concrete_type_whatever_its_alias() -> None:
    document = parse(
        "{ __typename root: __typename things { __typename kind: __typename "
        "... on Other { label } } }"
    )
    fast = _run(UnionQuery, document, fast=True)

    assert fast.data == _run(UnionQuery, document, fast=False).data
    assert fast.data == {
        "__typename": "UnionQuery",
        "root": "UnionQuery",
        "things": [
            {"__typename": "Item", "kind": "Item"},
            {"__typename": "Other", "kind": "Other", "label": "x"},
        ],
    }
    assert fast.errors is None


def test_only_fields_of_the_basic_resolver_are_marked() -> None:
    schema = strawberry.Schema(query=Query)._schema
    assert mark_plain_fields(schema) == 4  # name, count, colour, note (not shout)
    item = schema.type_map["Item"]
    marked = {name for name, field in item.fields.items() if PLAIN in (field.extensions or {})}  # type: ignore[attr-defined]
    assert marked == {"name", "count", "colour", "note"}


@dataclass
class Holder:
    """What a resolver returns: plain objects and lists of them, some of them broken."""

    main: Any
    spare: Any
    items: Any
    maybe: Any


@strawberry.type
class Box:
    label: str
    item: Item
    items: list[Item]
    maybe: list[Item | None] | None


@strawberry.type
class Shelf:
    main: Box
    spare: Box | None
    items: list[Item]
    maybe: list[Item | None] | None


@dataclass
class Contents:
    """A box as a resolver would build it."""

    label: Any
    item: Any
    items: Any
    maybe: Any


GOOD = Source("a", 1, Colour.RED, "n")
SHELVES = [
    # All plain and valid: served by the executor.
    Holder(
        main=Contents(label="x", item=GOOD, items=[GOOD, GOOD], maybe=None),
        spare=None,
        items=[GOOD],
        maybe=[None, GOOD],
    ),
    # A null item where none may be, deep inside: graphql-core reports it.
    Holder(
        main=Contents(label="y", item=GOOD, items=[GOOD, None], maybe=[None]),
        spare=Contents(label="z", item=Source(None, 1, Colour.RED), items=[], maybe=None),
        items=(GOOD,),
        maybe=None,
    ),
    # A non-null object missing.
    Holder(main=None, spare=None, items=[GOOD], maybe=None),
    # A list that is not one.
    Holder(
        main=Contents(label="w", item=GOOD, items=[], maybe=None),
        spare=None,
        items=[],
        maybe="no list",
    ),
]


@strawberry.type
class ShelfQuery:
    @strawberry.field
    def shelves(self) -> list[Shelf | None]:
        return SHELVES  # type: ignore[return-value]


SHELF_QUERY = parse(
    "{ shelves { __typename main { label item { name colour shout } items { count } "
    "maybe { note } } spare { label item { name } } items { name __typename } "
    "maybe { count } } }"
)


def test_plain_objects_and_lists_answer_as_graphql_core_does() -> None:
    fast = _run(ShelfQuery, SHELF_QUERY, fast=True)
    reference = _run(ShelfQuery, SHELF_QUERY, fast=False)

    assert fast.data == reference.data
    assert fast.data is not None
    assert fast.data["shelves"][0]["items"] == [{"name": "a", "__typename": "Item"}]
    assert fast.data["shelves"][0]["maybe"] == [None, {"count": 1}]
    errors = sorted((str(e.path), e.message) for e in fast.errors or [])
    assert errors == sorted((str(e.path), e.message) for e in reference.errors or [])
    assert [path for path, _ in errors] == [
        "['shelves', 1, 'main', 'items', 1]",
        "['shelves', 2, 'main']",
        "['shelves', 3, 'maybe']",
    ]


def test_objects_are_marked_when_plain_and_checked_by_no_is_type_of() -> None:
    schema = strawberry.Schema(query=ShelfQuery)._schema
    mark_plain_fields(schema)
    marked = {
        f"{type_name}.{name}"
        for type_name in ("Shelf", "Box")
        for name, field in schema.type_map[type_name].fields.items()  # type: ignore[attr-defined]
        if PLAIN in (field.extensions or {})
    }
    assert marked == {
        "Shelf.main",
        "Shelf.spare",
        "Shelf.items",
        "Shelf.maybe",
        "Box.label",
        "Box.item",
        "Box.items",
        "Box.maybe",
    }


def test_plain_objects_are_completed_without_graphql_core(monkeypatch: Any) -> None:
    """The executor completes the valid shelves' plain subtrees itself: graphql-core's
    ``execute_field`` runs for a fraction of the fields it runs for on an unmarked schema."""
    calls = 0
    execute_field = Executor.execute_field

    def counted(self: Executor, *args: Any) -> Any:
        nonlocal calls
        calls += 1
        return execute_field(self, *args)

    monkeypatch.setattr(Executor, "execute_field", counted)
    counts = []
    for mark in (True, False):
        calls = 0
        schema = strawberry.Schema(query=ShelfQuery)._schema
        if mark:
            mark_plain_fields(schema)
        execute(schema, SHELF_QUERY, execution_context_class=Executor)
        counts.append(calls)
    assert counts[0] * 2 < counts[1]
