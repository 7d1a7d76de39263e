"""What a document may cost: refused before validation when it is too large, too deep or too
costly, so no caller (an anonymous one on the public schema included) can stall the event loop
with documents that take long to validate."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio
from graphql import GraphQLSchema, parse, validate
from graphql.validation.validate import ValidationAbortedError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyalty_core.modules.manager import build_registry
from loyalty_core.settings import Settings
from loyalty_gateway.composition import compose_schema, graphql_schema
from loyalty_gateway.limits import (
    MAX_OVERLAPS,
    MERGE_BUDGET,
    STANDARD_INTROSPECTION_QUERY,
    BudgetedMergeRule,
    DocumentLimits,
    DocumentSize,
)
from loyalty_testing import MakeApp, RunningGateway, graphql

TOO_COMPLEX = "QUERY_TOO_COMPLEX"


@pytest_asyncio.fixture(loop_scope="session")
async def production(make_app: MakeApp) -> RunningGateway:
    return await make_app(environment="production")


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body["errors"]]


# Each took from 40 to 740 ms of CPU to validate before documents were measured first (0.17 to
# 1.7 s on the event loop of a busy machine), within the 2,000 tokens allowed.
ADVERSARIAL = {
    "one field repeated": "{" + " viewer { role }" * 400 + "}",
    "one field with other arguments": "{"
    + "".join(f' member(id: "{i}") {{ id }}' for i in range(220))
    + "}",
    "fragments compared pairwise": "{ viewer { "
    + " ".join(f"...F{i}" for i in range(60))
    + " } } "
    + " ".join(f"fragment F{i} on Viewer {{ role tenant {{ id }} }}" for i in range(60)),
    "nested repeats": "{" + " viewer { tenant { id name slug } }" * 150 + "}",
    "a fragment spread on itself": "{ viewer { " + "...F " * 600 + "} } "
    "fragment F on Viewer { role tenant { id slug name } }",
    "an unused fragment": "{ __typename } fragment F on Query {" + " viewer { role }" * 400 + "}",
    "below a field the schema lacks": "{ nope {" + " viewer { role }" * 400 + "} }",
    "fragments doubling": "{ ...F0 } "
    + " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(12))
    + " fragment F12 on Query { viewer { role } }",
}


@pytest.mark.parametrize("document", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
async def test_documents_that_took_long_to_validate_are_refused_anonymously(
    production: RunningGateway, document: str
) -> None:
    body = await graphql(production.client, document)

    assert codes(body) == [TOO_COMPLEX], body
    assert "data" not in body


async def test_fields_fragment_spreads_and_cost_have_limits(make_app: MakeApp) -> None:
    small = await make_app(max_fields=6, max_fragment_spreads=2, max_query_cost=50)

    fields = await graphql(small.client, "{ viewer { role subject scopes tenant { id name } } }")
    spreads = await graphql(
        small.client,
        "{ a: viewer { ...V } b: viewer { ...V } c: viewer { ...V } } "
        "fragment V on Viewer { role }",
    )
    costly = await graphql(small.client, "{ members(first: 20) { edges { node { id status } } } }")
    within = await graphql(small.client, "{ members(first: 2) { edges { node { id status } } } }")

    assert "fields" in fields["errors"][0]["message"]
    assert "spreads" in spreads["errors"][0]["message"]
    assert "cost" in costly["errors"][0]["message"]
    assert [codes(fields), codes(spreads), codes(costly)] == [[TOO_COMPLEX]] * 3
    assert codes(within) == ["UNAUTHENTICATED"]  # measured, validated, refused by the resolver


@pytest.mark.parametrize(
    ("first", "cost"),
    # members, edges, pageInfo, hasNextPage once; node, id and status once per edge.
    [("2", 4 + 3 * 2), ("$n", 4 + 3 * 100), (None, 4 + 3 * 20)],
)
def test_lists_cost_as_many_objects_as_their_page_may_hold(
    core_schema: GraphQLSchema, first: str | None, cost: int
) -> None:
    arguments = f"(first: {first})" if first else ""
    document = parse(
        f"query ($n: Int) {{ members{arguments} {{ edges {{ node {{ id status }} }} "
        "pageInfo { hasNextPage } } }"
    )

    assert DocumentSize.of(core_schema, document).cost == cost


async def test_the_standard_introspection_query_passes_and_a_deeper_one_is_refused(
    make_app: MakeApp,
) -> None:
    development = await make_app()
    deeper = STANDARD_INTROSPECTION_QUERY.replace(
        "ofType {\n                    name\n                    kind\n                  }",
        "ofType {\n name\n kind\n ofType { name kind }\n }",
    )
    assert deeper != STANDARD_INTROSPECTION_QUERY
    traversal = (
        "{ __schema { types { fields { type { fields { type { fields { type { fields { name } } }"
        " } } } } } } }"
    )

    three_lists = (
        "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    )

    standard = await graphql(development.client, STANDARD_INTROSPECTION_QUERY)
    refused = [
        await graphql(development.client, query) for query in (deeper, traversal, three_lists)
    ]

    assert "errors" not in standard
    assert [set(codes(body)) for body in refused] == [
        {TOO_COMPLEX},
        {TOO_COMPLEX},
        {"GRAPHQL_VALIDATION_FAILED"},  # graphql-core's recommended rule
    ]
    assert "deep" in refused[0]["errors"][0]["message"]
    assert "introspection depth" in refused[2]["errors"][0]["message"]


async def test_field_suggestions_are_given_only_where_introspection_is_allowed(
    make_app: MakeApp,
) -> None:
    development = await make_app()
    production = await make_app(environment="production")
    misspelled = "{ viewer { rol } }"
    bad_enum = "query ($s: MemberStatus) { members(status: $s) { edges { cursor } } }"

    shown = [
        await graphql(development.client, misspelled),
        await graphql(development.client, bad_enum, {"s": "ACTIV"}),
    ]
    hidden = [
        await graphql(production.client, misspelled),
        await graphql(production.client, bad_enum, {"s": "ACTIV"}),
    ]

    assert all("Did you mean" in body["errors"][0]["message"] for body in shown), shown
    assert not any("Did you mean" in str(body) for body in hidden), hidden
    assert "Cannot query field 'rol' on type 'Viewer'." in hidden[0]["errors"][0]["message"]
    assert [codes(body) for body in hidden] == [["GRAPHQL_VALIDATION_FAILED"], ["BAD_REQUEST"]]


# -- the measure bounds the merge rule's work --------------------------------------------------


@pytest.fixture(scope="module")
def core_schema() -> GraphQLSchema:
    return graphql_schema(compose_schema(build_registry(), frozenset()))


MEMBER_LEAVES = ["id", "status", "firstName", "x: id", "y: status", "__typename"]


@st.composite
def member_selections(draw: st.DrawFn, fragments: int, depth: int = 2) -> str:
    """A selection on Member: leaves, identifiers, spreads of the fragments before, and inline
    fragments, as many times over as drawn."""
    choices: list[str] = list(MEMBER_LEAVES)
    choices += [f"...F{i}" for i in range(fragments)]
    if depth > 0:
        inner = draw(member_selections(fragments, depth - 1))
        choices += ["identifiers { kind value }", f"... on Member {{ {inner} }}"]
    items = draw(st.lists(st.sampled_from(choices), min_size=1, max_size=12))
    return " ".join(items)


@st.composite
def documents(draw: st.DrawFn) -> str:
    count = draw(st.integers(0, 8))
    fragments = [
        f"fragment F{i} on Member {{ {draw(member_selections(i))} }}" for i in range(count)
    ]
    roots = draw(
        st.lists(
            st.sampled_from(['member(id: "1")', 'member(id: "2")', 'm: member(id: "1")']),
            min_size=1,
            max_size=10,
        )
    )
    body = " ".join(f"{root} {{ {draw(member_selections(count))} }}" for root in roots)
    return "{ " + body + " } " + " ".join(fragments)


class MeteredMergeRule(BudgetedMergeRule):
    spent: int = 0

    def leave_document(self, *_args: object) -> None:
        MeteredMergeRule.spent = MERGE_BUDGET - self.rule_context.remaining_complexity_budget


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=documents())
def test_documents_within_the_limits_stay_within_the_merge_budget(
    core_schema: GraphQLSchema, source: str
) -> None:
    """The measure before validation is what refuses: a document it lets through spends a
    few units of the merge rule's budget per overlap it counted, never the whole budget."""
    limits = DocumentLimits.from_settings(Settings(environment="production"))
    document = parse(source)
    size = DocumentSize.of(core_schema, document)
    refused = limits.check(core_schema, document)

    errors = validate(core_schema, document, [MeteredMergeRule])

    assert (refused is None) == (size.overlaps <= MAX_OVERLAPS and size.fields <= 300)
    if refused is None:
        assert not any(isinstance(error, ValidationAbortedError) for error in errors)
        assert MeteredMergeRule.spent <= 4 * size.overlaps + size.spreads, source
