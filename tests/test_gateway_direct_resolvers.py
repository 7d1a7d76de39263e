"""Direct resolvers answer exactly as strawberry's: the same arguments converted to the same
Python values (input objects, lists, enums, global ids, ``Maybe``), the same parameters
passed, the same errors; and only the fields that use no strawberry feature get one."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from typing import Any

import pytest
import strawberry
from graphql import ExecutionResult, GraphQLObjectType, GraphQLSchema, execute, parse, subscribe
from loyalty_gateway.direct_resolvers import mark_direct_resolvers
from loyalty_gateway.execution import Executor
from strawberry.permission import BasePermission
from strawberry.relay import GlobalID
from strawberry.scalars import JSON


@strawberry.enum
class Size(enum.Enum):
    SMALL = "s"
    LARGE = "l"


@strawberry.input
class Line:
    sku: str
    quantity: int = 1
    size: Size | None = None
    tags: list[str] | None = None
    note: strawberry.Maybe[str | None] = None
    parts: list[Line] | None = None


class Nobody(BasePermission):
    message = "nobody may"

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Query:
    @strawberry.field
    def echo(
        self,
        lines: list[Line],
        node: GlobalID | None = None,
        nodes: list[GlobalID] | None = None,
        size: Size = Size.SMALL,
        sizes: list[Size | None] | None = None,
        data: JSON | None = None,
    ) -> str:
        return repr((lines, node, nodes, size, sizes, data))

    @strawberry.field
    def required(self, value: strawberry.Maybe[str]) -> str:
        return repr(value)

    @strawberry.field
    async def later(self, root: Any, info: strawberry.Info, times: int = 2) -> str:
        return f"{info.field_name} {times * 2} {root is self}"

    @strawberry.field(permission_classes=[Nobody])  # type: ignore[untyped-decorator]
    def guarded(self) -> str:
        return "secret"


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def ticks(self, count: int) -> AsyncIterator[int]:
        for tick in range(count):
            yield tick


def _schema(*, direct: bool) -> tuple[strawberry.Schema, GraphQLSchema]:
    schema = strawberry.Schema(query=Query, subscription=Subscription)
    if direct:
        mark_direct_resolvers(schema, schema._schema)
    return schema, schema._schema


async def _both(document: str, variables: dict[str, Any] | None = None) -> ExecutionResult:
    """``document`` run on a schema with direct resolvers and on one without, which must
    agree; returns the result."""
    results = []
    for direct in (True, False):
        _, core = _schema(direct=direct)
        result = execute(
            core,
            parse(document),
            variable_values=variables,
            root_value=Query(),
            execution_context_class=Executor,
        )
        if not isinstance(result, ExecutionResult):
            result = await result
        results.append(result)
    direct_result, reference = results
    assert direct_result.data == reference.data
    assert [(e.path, e.message) for e in direct_result.errors or []] == [
        (e.path, e.message) for e in reference.errors or []
    ]
    return direct_result


ECHO = """
query ($lines: [Line!]!, $node: ID, $nodes: [ID!], $sizes: [Size], $data: JSON) {
  echo(lines: $lines, node: $node, nodes: $nodes, size: LARGE, sizes: $sizes, data: $data)
}
"""


async def test_arguments_convert_to_the_values_strawberry_gives() -> None:
    lines = [
        {"sku": "a"},
        {"sku": "b", "quantity": 3, "size": "LARGE", "tags": ["x", "y"], "note": None},
        {"sku": "c", "note": "gift", "parts": [{"sku": "c1", "parts": [{"sku": "c11"}]}]},
    ]
    variables = {
        "lines": lines,
        "node": str(GlobalID("Item", "1")),
        "nodes": [str(GlobalID("Item", "2")), str(GlobalID("Other", "3"))],
        "sizes": ["SMALL", None],
        "data": {"nested": [1, {"deep": True}]},
    }
    result = await _both(ECHO, variables)

    assert result.errors is None
    assert result.data is not None
    echoed = result.data["echo"]
    assert "Line(sku='c', quantity=1, size=None, tags=None, note=Some('gift')" in echoed
    assert "parts=[Line(sku='c1', quantity=1" in echoed
    assert "GlobalID(type_name='Item', node_id='1')" in echoed
    assert "<Size.LARGE: 'l'>, [<Size.SMALL: 's'>, None]" in echoed


async def test_absent_and_null_arguments_convert_as_strawberry_converts_them() -> None:
    result = await _both(ECHO, {"lines": [], "node": None, "sizes": None})
    assert result.data == {"echo": "([], None, None, <Size.LARGE: 'l'>, None, None)"}


async def test_a_null_for_a_maybe_is_refused_with_strawberrys_error() -> None:
    result = await _both("{ required(value: null) }")
    assert result.data is None
    assert result.errors is not None
    assert "cannot be explicitly set to null" in result.errors[0].message

    assert (await _both('{ required(value: "x") }')).data == {"required": "Some('x')"}


async def test_root_info_and_async_resolvers_get_what_strawberry_passes() -> None:
    result = await _both("{ later later2: later(times: 5) }")
    assert result.data == {"later": "later 4 True", "later2": "later 10 True"}


async def test_fields_using_strawberry_features_keep_strawberrys_resolver() -> None:
    schema, core = _schema(direct=False)
    assert mark_direct_resolvers(schema, core) == 3  # echo, required, later
    query = core.type_map["Query"]
    subscription = core.type_map["Subscription"]
    assert isinstance(query, GraphQLObjectType)
    assert isinstance(subscription, GraphQLObjectType)
    resolvers = {name: field.resolve.__name__ for name, field in query.fields.items()}
    assert resolvers == {
        "echo": "_direct_resolver",
        "required": "_direct_resolver",
        "later": "_direct_resolver",
        "guarded": "_resolver",  # permission classes are a field extension
    }
    assert subscription.fields["ticks"].resolve.__name__ != "_direct_resolver"

    refused = await _both("{ guarded }")
    assert refused.errors is not None
    assert refused.errors[0].message == "nobody may"


async def test_subscriptions_still_stream_after_marking() -> None:
    _, core = _schema(direct=True)
    stream = await subscribe(core, parse("subscription { ticks(count: 3) }"), root_value=None)
    assert not isinstance(stream, ExecutionResult)
    assert [item.data async for item in stream] == [{"ticks": 0}, {"ticks": 1}, {"ticks": 2}]


@pytest.mark.parametrize("document", ["{ echo(lines: [{quantity: 1}]) }", "{ echo }"])
async def test_arguments_refused_by_graphql_are_refused_alike(document: str) -> None:
    result = await _both(document)
    assert result.errors
