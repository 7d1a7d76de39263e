"""Introspection as real clients send it: GraphiQL's documentation explorer, Apollo and
graphql-codegen ask the full query and rebuild the schema from the answer."""

from __future__ import annotations

import itertools
from typing import Any, cast

import pytest
import strawberry
from graphql import (
    GraphQLSchema,
    IntrospectionQuery,
    build_client_schema,
    build_schema,
    get_introspection_query,
    graphql_sync,
    lexicographic_sort_schema,
    print_schema,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyalty_core.db.engine import Database
from loyalty_core.modules.manager import ModuleRegistry, build_registry
from loyalty_core.sdk import ModuleInfo, SchemaContribution, hookimpl
from loyalty_gateway.composition import CompositionError, compose_schema, graphql_schema
from loyalty_testing import MakeApp, admin_token, create_test_tenant, enable_for, graphql
from strawberry.scalars import JSON

FULL_INTROSPECTION = get_introspection_query(
    descriptions=True,
    specified_by_url=True,
    directive_is_repeatable=True,
    schema_description=True,
    input_value_deprecation=True,
)
"""What GraphiQL, Apollo and graphql-codegen send, with every option a client may turn on."""


def module_sets(registry: ModuleRegistry) -> list[frozenset[str]]:
    """The core alone, every installed module alone, every pair of them and all together.

    What composing a set can get wrong is between two modules (a name both define, a type one
    extends and another defines), so pairs cover it; every combination would double with each
    module installed.
    """
    installed = sorted(module.info.name for module in registry.optional)
    return [
        *(
            frozenset(combination)
            for size in (0, 1, 2)
            for combination in itertools.combinations(installed, size)
        ),
        frozenset(installed),
    ]


def sorted_sdl(schema: GraphQLSchema) -> str:
    """The SDL with types and fields in one order, whatever order the schema declared them in."""
    return print_schema(lexicographic_sort_schema(schema))


async def test_every_module_set_answers_the_full_introspection_query_and_rebuilds(
    make_app: MakeApp, db: Database
) -> None:
    gateway = await make_app()
    sets = module_sets(gateway.registry)
    assert len(sets) >= 30, "the first-party modules are installed"

    for modules in sets:
        tenant = await create_test_tenant(db)
        for name in sorted(modules):
            await enable_for(db, gateway.registry, tenant, name)

        body = await graphql(gateway.client, FULL_INTROSPECTION, token=admin_token(tenant.id))

        assert "errors" not in body, (sorted(modules), body.get("errors"))
        client = build_client_schema(body["data"])
        composed = str(compose_schema(gateway.registry, modules))
        assert sorted_sdl(client) == sorted_sdl(build_schema(composed)), sorted(modules)


# -- default values --------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**31), 2**31 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


def defaulted_module(default: Any) -> object:
    """A module whose one query field takes a JSON argument defaulting to ``default``."""

    @strawberry.type
    class Query:
        @strawberry.field
        def echo(self, value: JSON | None = default) -> str:
            return "echo"

    class Defaulted:
        @staticmethod
        @hookimpl
        def loyalty_module() -> ModuleInfo:
            return ModuleInfo(name="defaulted", version="1.0.0", description="A default.")

        @staticmethod
        @hookimpl
        def loyalty_schema() -> SchemaContribution:
            return SchemaContribution(query=Query)

    return Defaulted


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(default=JSON_VALUES)
def test_a_schema_composes_only_with_defaults_introspection_can_write(default: Any) -> None:
    registry = build_registry(plugins=[defaulted_module(default)], load_entry_points=False)

    if isinstance(default, (dict, list)):  # no literal of a scalar writes them
        with pytest.raises(CompositionError, match=r"Query\.echo\(value:\)"):
            compose_schema(registry, frozenset({"defaulted"}))
        return
    composed = compose_schema(registry, frozenset({"defaulted"}))

    answer = graphql_sync(graphql_schema(composed), FULL_INTROSPECTION)
    assert answer.errors is None
    assert answer.data is not None
    client = build_client_schema(cast("IntrospectionQuery", answer.data))
    assert client.query_type is not None
    echo = client.query_type.fields["echo"].args["value"]
    assert echo.default_value == default
    assert sorted_sdl(client) == sorted_sdl(build_schema(str(composed)))


@pytest.mark.parametrize("default", [{}, [], {"factor": "2"}, [1, 2]])
def test_a_structured_json_default_is_refused_naming_its_field(default: Any) -> None:
    registry = build_registry(plugins=[defaulted_module(default)], load_entry_points=False)

    with pytest.raises(CompositionError, match=r"Query\.echo\(value:\)"):
        compose_schema(registry, frozenset({"defaulted"}))
