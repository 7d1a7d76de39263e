"""Variables coerced by the compiled functions are exactly what graphql-core makes of them,
but for values no field takes (text with a NUL or a lone surrogate), which the gateway refuses
itself, for the whole request or, in a list judged item by item, for the item.

For every input type of the composed schema (every module installed), values are drawn that
are valid or invalid in the ways clients get them wrong (a null, a wrong type, a field left
out or made up, a list where one value goes): the compiled coercion must give graphql-core's
value whenever graphql-core accepts one, and hand every value it refuses back to graphql-core.
"""

from __future__ import annotations

import string
from typing import Any

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    build_schema,
    parse,
)
from graphql.execution.values import get_variable_values
from graphql.pyutils import Undefined
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyalty_core.inputs import text_problem
from loyalty_core.modules.manager import build_registry
from loyalty_gateway.composition import compose_schema, graphql_schema
from loyalty_gateway.documents import PreparedDocument

_REGISTRY = build_registry()
SCHEMA: GraphQLSchema = graphql_schema(compose_schema(_REGISTRY, frozenset(_REGISTRY.modules)))
INPUT_TYPES = sorted(
    name
    for name, type_ in SCHEMA.type_map.items()
    if isinstance(type_, GraphQLInputObjectType | GraphQLEnumType | GraphQLScalarType)
    and not name.startswith("__")
)

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)
ANYTHING = JSON_VALUES | st.floats(allow_nan=False)
VALID_SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "String": st.text(max_size=8),
    "ID": st.text(string.ascii_letters, max_size=8) | st.integers(0, 10**6),
    "Int": st.integers(-(2**31), 2**31 - 1),
    "Float": st.floats(allow_nan=False, allow_infinity=False),
    "Boolean": st.booleans(),
    "Date": st.dates().map(lambda d: d.isoformat()),
    "DateTime": st.datetimes().map(lambda d: d.isoformat() + "+00:00"),
    "JSON": JSON_VALUES,
}


def sometimes(usual: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``usual`` seven times in eight, else ``odd``: a value is mostly valid all the way down,
    with a mistake here and there."""
    return st.integers(0, 7).flatmap(lambda roll: odd if roll == 0 else usual)


def values_of(type_: GraphQLInputType, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of ``type_`` as clients send them: mostly valid, now and then not."""
    if isinstance(type_, GraphQLNonNull):
        return sometimes(present_values_of(type_.of_type, depth), st.none())
    return sometimes(present_values_of(type_, depth), st.none())


def present_values_of(type_: GraphQLInputType, depth: int) -> st.SearchStrategy[Any]:
    if isinstance(type_, GraphQLList):
        item = values_of(type_.of_type, depth + 1)
        return st.lists(item, max_size=3) | item  # a value alone is a list of one
    if isinstance(type_, GraphQLEnumType):
        return sometimes(st.sampled_from(list(type_.values)), st.text(max_size=4) | ANYTHING)
    if isinstance(type_, GraphQLScalarType):
        return sometimes(VALID_SCALARS.get(type_.name, ANYTHING), ANYTHING)
    assert isinstance(type_, GraphQLInputObjectType)
    if depth > 4:
        return ANYTHING
    fields = type_.fields
    required = {
        name: values_of(field.type, depth + 1)
        for name, field in fields.items()
        if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
    }
    optional = {
        name: values_of(field.type, depth + 1)
        for name, field in fields.items()
        if name not in required
    }
    objects = st.fixed_dictionaries(required, optional=optional)
    made_up = st.fixed_dictionaries({}, optional={"zz": ANYTHING, "Type": ANYTHING})
    wrong = (
        st.tuples(objects, made_up).map(lambda pair: pair[0] | pair[1])
        | objects.map(lambda found: dict(list(found.items())[1:]))  # one field left out
        | ANYTHING
    )
    return sometimes(objects, wrong)


def both(schema: GraphQLSchema, type_text: str, value: Any) -> tuple[Any, Any]:
    """``value`` as variable ``$v: type_text``: the compiled coercion's result (None: handed
    back) and graphql-core's (a list of errors when it refuses)."""
    document = parse(f"query Q($v: {type_text}) {{ __typename }}")
    prepared = PreparedDocument(document, schema=schema)
    operation = prepared.operation(None)
    assert operation is not None
    fast = prepared.coerced_variables(operation, {"v": value})
    reference = get_variable_values(schema, operation.variable_definitions or (), {"v": value})
    return fast, reference


def assert_same(schema: GraphQLSchema, type_text: str, value: Any) -> None:
    fast, reference = both(schema, type_text, value)
    if isinstance(fast, GraphQLError):  # a value no field may take, refused by the gateway
        assert fast.extensions is not None
        assert fast.extensions["code"] == "INVALID_INPUT"
        assert isinstance(reference, list) or _unstorable_text(value), value
    elif fast is not None and _unstorable_text(value):  # refused item by item
        assert "RefusedItem" in repr(dict(fast)), value
    elif isinstance(reference, list):  # graphql-core refused: errors are its to report
        assert fast is None, f"{type_text} accepted {value!r}, which graphql-core refuses"
    else:
        assert fast is not None, f"{type_text} handed back {value!r}, which graphql-core takes"
        assert dict(fast) == reference


def _unstorable_text(value: Any) -> bool:
    """Whether some string in ``value`` (a key included) holds text PostgreSQL refuses."""
    if isinstance(value, str):
        return text_problem(value) is not None
    if isinstance(value, dict):
        return any(_unstorable_text(k) or _unstorable_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable_text(item) for item in value)
    return False


@pytest.mark.parametrize("name", INPUT_TYPES)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_input_type_coerces_as_graphql_core_does(name: str, data: st.DataObject) -> None:
    type_ = SCHEMA.type_map[name]
    assert isinstance(type_, GraphQLInputObjectType | GraphQLEnumType | GraphQLScalarType)
    for type_text, wrapped in (
        (f"{name}!", GraphQLNonNull(type_)),
        (f"[{name}!]", GraphQLList(GraphQLNonNull(type_))),
    ):
        assert_same(SCHEMA, type_text, data.draw(values_of(wrapped), label=type_text))


def test_missing_variables_take_their_defaults_or_go_to_graphql_core() -> None:
    document = parse("query Q($a: Int = 3, $b: String, $c: Int!) { __typename }")
    prepared = PreparedDocument(document, schema=SCHEMA)
    operation = prepared.operation(None)
    assert operation is not None

    assert prepared.coerced_variables(operation, {"c": 1}) == {"a": 3, "c": 1}
    assert prepared.coerced_variables(operation, {"c": 1, "b": None}) == {
        "a": 3,
        "b": None,
        "c": 1,
    }
    assert prepared.coerced_variables(operation, {"a": 5}) is None  # $c is required


CORNERS = build_schema(
    """
    input Tree { label: String!, children: [Tree!] }
    input Choice @oneOf { a: Int, b: String }
    input Defaults { size: Int! = 10, tags: [String!] = ["x"] }
    type Query { tree(t: Tree): Int, choice(c: Choice): Int, defaults(d: Defaults): Int }
    """
)


@pytest.mark.parametrize(
    ("type_text", "value"),
    [
        ("Tree", {"label": "a", "children": [{"label": "b"}]}),  # contains itself
        ("Choice", {"a": 1}),  # OneOf
        ("Choice", {"a": 1, "b": "x"}),
    ],
)
def test_types_not_served_are_left_to_graphql_core(type_text: str, value: Any) -> None:
    fast, _ = both(CORNERS, type_text, value)
    assert fast is None


@pytest.mark.parametrize(
    "value",
    [{}, {"size": 3}, {"tags": "one"}, {"tags": None}, {"size": None}, {"size": "3"}],
)
def test_input_field_defaults_and_lists_of_one(value: Any) -> None:
    assert_same(CORNERS, "Defaults!", value)


def _nothing_for_none(value: Any) -> Any:
    return Undefined if value == "none" else value


ODD = GraphQLSchema(
    GraphQLObjectType(
        "Query",
        {
            "odd": GraphQLField(
                GraphQLInt,
                args={
                    "o": GraphQLArgument(GraphQLScalarType("Odd", parse_value=_nothing_for_none))
                },
            )
        },
    )
)


@pytest.mark.parametrize("value", ["none", "some"])
def test_a_scalar_that_parses_to_nothing_is_refused(value: str) -> None:
    assert_same(ODD, "Odd!", value)
