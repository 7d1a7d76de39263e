"""The composed schema, fuzzed: no document anyone can send answers ``INTERNAL`` or a 5xx.

hypothesis-graphql draws queries and mutations from the schema of a tenant with every
first-party module enabled, with arguments of every shape the schema admits (strings with
NULs, JSON nested and odd, times with and without offsets, ids of this tenant, of another
tenant and of nothing), and a smaller share of documents that break the schema on purpose.
Each is sent as an admin, as a till's API key, as a member and anonymously, over the real
app on the real database. Whatever the answer, it must be an answer: a 2xx or 4xx status and
no error coded ``INTERNAL``, in ``errors`` or in any payload.

hypothesis runs in a worker thread and sends each document on the test's event loop, so a
failure is shrunk to the smallest document that still fails. Examples are bounded so the
whole run stays within a minute or two on a small machine.
"""

from __future__ import annotations

import asyncio
import string
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes
from hypothesis_graphql import strategies as gql
from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import (
    MakeApp,
    RunningGateway,
    admin_token,
    create_test_tenant,
    enable_for,
    member_token,
)

from tests.api import enrol, pos_key

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema" / "schema.graphql"
# Every first-party module (the schema file's), with settings a retailer would give it.
MODULE_SETTINGS: dict[str, dict[str, object]] = {
    "giftcards": {"currencies": ["EUR"], "max_balance": 100_000},
    "payment": {
        "point_values": [{"asset": "points", "currency": "EUR", "value": "1"}],
        "hold_minutes": 30,
    },
    "onboarding": {},
    "clearing": {"period": "monthly"},
}
SCOPES = ("EVENTS_WRITE", "MEMBERS_READ", "MEMBERS_WRITE", "POINTS_REDEEM", "ENROLMENT")
EXAMPLES = 60  # per principal, for queries and for mutations; a third of it for invalid ones

Send = Callable[[str], Awaitable[httpx.Response]]


@dataclass(frozen=True)
class Target:
    """What the fuzzer aims at: the tenant's schema and the ids worth trying."""

    schema: graphql.GraphQLSchema
    ids: tuple[str, ...]


def json_values() -> st.SearchStrategy[graphql.ValueNode]:
    """JSON literals of any shape: scalars, lists and objects, keys and strings with any
    character a caller can send, NULs included."""
    text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
    leaves: st.SearchStrategy[graphql.ValueNode] = st.one_of(
        st.none().map(lambda _: graphql.NullValueNode()),
        st.booleans().map(lambda b: graphql.BooleanValueNode(value=b)),
        st.integers(min_value=-(2**70), max_value=2**70).map(nodes.Int),
        st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
        text.map(nodes.String),
    )

    def extend(
        children: st.SearchStrategy[graphql.ValueNode],
    ) -> st.SearchStrategy[graphql.ValueNode]:
        fields = st.lists(
            st.tuples(st.text(string.ascii_letters, min_size=1, max_size=8), children),
            max_size=4,
            unique_by=lambda pair: pair[0],
        ).map(
            lambda pairs: nodes.Object(
                [
                    graphql.ObjectFieldNode(name=graphql.NameNode(value=name), value=value)
                    for name, value in pairs
                ]
            )
        )
        return st.one_of(st.lists(children, max_size=4).map(nodes.List), fields)

    return st.recursive(leaves, extend, max_leaves=12)


def date_times() -> st.SearchStrategy[graphql.ValueNode]:
    """Times with an offset, without one, far off, and not times at all."""
    moments = st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
    )
    return st.one_of(
        moments.map(lambda t: t.isoformat()),
        moments.map(lambda t: t.replace(tzinfo=None).isoformat()),
        st.sampled_from(["", "now", "2026-02-30T00:00:00Z", "2026-01-01T10:00:00+25:00"]),
    ).map(nodes.String)


def dates() -> st.SearchStrategy[graphql.ValueNode]:
    return st.one_of(
        st.dates().map(lambda d: d.isoformat()), st.sampled_from(["", "2026-13-01", "01.02.2026"])
    ).map(nodes.String)


def decimals() -> st.SearchStrategy[graphql.ValueNode]:
    """Decimals as strings (how the scalar travels): ordinary, negative, huge, tiny, and the
    special and malformed values a parser may still take."""
    return st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False, places=10).map(str),
        st.sampled_from(["NaN", "-Infinity", "1e999999", "-0", "1E-30", "", "1,5", "abc"]),
    ).map(nodes.String)


def ids(known: tuple[str, ...]) -> st.SearchStrategy[graphql.ValueNode]:
    """Ids that exist in this tenant or another, well-formed ids of nothing, and garbage."""
    return st.one_of(
        st.sampled_from(known),
        st.uuids().map(str),
        st.text(max_size=40),
    ).map(nodes.String)


def scalars(target: Target) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    return {
        "ID": ids(target.ids),
        "JSON": json_values(),
        "DateTime": date_times(),
        "Date": dates(),
        "Decimal": decimals(),
    }


def documents(target: Target) -> Iterator[tuple[st.SearchStrategy[str], int]]:
    """Strategies of document texts with their number of examples: valid queries, valid
    mutations, and documents that break the schema once."""
    custom = scalars(target)
    yield gql.queries(target.schema, custom_scalars=custom), EXAMPLES
    yield gql.mutations(target.schema, custom_scalars=custom), EXAMPLES
    yield gql.queries(target.schema, custom_scalars=custom, mode=gql.Mode.NEGATIVE), EXAMPLES // 3


def internal_codes(value: object) -> Iterator[object]:
    """Every ``code`` anywhere in a response body whose value is ``INTERNAL``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "code" and item == "INTERNAL":
                yield value
            else:
                yield from internal_codes(item)
    elif isinstance(value, list):
        for item in value:
            yield from internal_codes(item)


async def answers_without_internal_errors(send: Send, document: str) -> None:
    response = await send(document)
    if response.status_code >= 500 or list(internal_codes(response.json())):
        pytest.fail(f"{response.status_code} {response.text}\nfor\n{document}", pytrace=False)


def fuzz(
    loop: asyncio.AbstractEventLoop, send: Send, strategy: st.SearchStrategy[str], examples: int
) -> None:
    """Run hypothesis over ``strategy`` (in the calling thread), each document sent on
    ``loop``; an assertion fails the run with the smallest document that still fails."""

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(document=strategy)
    def check(document: str) -> None:
        future = asyncio.run_coroutine_threadsafe(
            answers_without_internal_errors(send, document), loop
        )
        future.result(timeout=60)

    check()


async def fuzz_gateway(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> tuple[RunningGateway, Target, dict[str, dict[str, str]]]:
    """A gateway with every first-party module enabled for ``tenant``, a member there and one
    in another tenant, and the headers of each principal."""
    gateway = await make_app()
    for name in MODULE_SETTINGS:
        await enable_for(db, gateway.registry, tenant, name, MODULE_SETTINGS.get(name, {}))
    client = gateway.client
    member = await enrol(client, tenant.id, "fuzz@example.test")
    other = await create_test_tenant(db)
    stranger = await enrol(client, other.id, "stranger@example.test")
    key = await pos_key(client, tenant.id, SCOPES)
    headers = {
        "admin": {"Authorization": f"Bearer {admin_token(tenant.id)}"},
        "till": {"X-Api-Key": key},
        "member": {"Authorization": f"Bearer {member_token(tenant.id, uuid.UUID(member))}"},
        "anonymous": {},
    }
    schema = graphql.build_schema(SCHEMA_FILE.read_text())
    return gateway, Target(schema, (member, stranger, str(tenant.id))), headers


@pytest.mark.parametrize("principal", ["admin", "till", "member", "anonymous"])
async def test_no_generated_document_answers_internal(
    make_app: MakeApp, db: Database, tenant: Tenant, principal: str
) -> None:
    gateway, target, headers = await fuzz_gateway(make_app, db, tenant)
    loop = asyncio.get_running_loop()

    async def send(document: str) -> httpx.Response:
        return await gateway.client.post(
            "/graphql", json={"query": document}, headers=headers[principal]
        )

    for strategy, examples in documents(target):
        await asyncio.to_thread(fuzz, loop, send, strategy, examples)
