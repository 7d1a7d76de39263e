"""GraphQL over HTTP as the GraphQL-over-HTTP spec asks, with our limits, masking and auth."""

from __future__ import annotations

import gc
import io
import logging
import os
import re
import uuid
import weakref
from datetime import timedelta
from decimal import Decimal

import orjson
import pytest
import pytest_asyncio
from hypothesis import given
from hypothesis import strategies as st
from loyalty_core.apikeys.service import create_api_key
from loyalty_core.context import RequestContext
from loyalty_core.db.engine import Database
from loyalty_core.modules.manager import build_registry
from loyalty_core.tenants.models import Tenant
from loyalty_gateway.auth import Caller
from loyalty_gateway.http import MAX_BODY_BYTES, RandomIds, dump_json, negotiate
from loyalty_gateway.logs import JsonFormatter
from loyalty_gateway.state import GatewayState
from loyalty_testing import (
    MakeApp,
    RunningGateway,
    admin_token,
    enable_for,
    graphql,
    insert_member,
    member_token,
    platform_token,
    token,
)

from tests.modules import greetings

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
SPEC = {"Accept": GRAPHQL_RESPONSE}
"""The Accept header of a client that knows the spec's media type (and gets 400s)."""


@pytest_asyncio.fixture(loop_scope="session")
async def gateway(make_app: MakeApp) -> RunningGateway:
    return await make_app(build_registry(plugins=[greetings], load_entry_points=False))


@pytest_asyncio.fixture(loop_scope="session")
async def greeted(gateway: RunningGateway, db: Database, tenant: Tenant) -> Tenant:
    """The test's tenant, with the greetings module enabled."""
    await enable_for(db, gateway.registry, tenant, greetings.NAME)
    return tenant


def codes(body: dict[str, object]) -> list[object]:
    errors = body.get("errors")
    assert isinstance(errors, list), body
    return [error["extensions"]["code"] for error in errors]


# -- media types and status codes ------------------------------------------------------------


def test_response_bodies_write_decimals_as_strings_and_any_key_as_a_string() -> None:
    assert dump_json({"data": {"amount": Decimal("2.50")}}) == b'{"data":{"amount":"2.50"}}'
    # A JSON scalar built in Python may hold keys that are not strings.
    assert (
        dump_json({"data": {"counts": {1: "a", "b": 2}}}) == b'{"data":{"counts":{"1":"a","b":2}}}'
    )
    with pytest.raises(TypeError):
        dump_json({"data": object()})


@pytest.mark.parametrize(
    "accept",
    [
        GRAPHQL_RESPONSE,
        f"{GRAPHQL_RESPONSE}, {JSON}",
        f"{JSON};q=0.9, {GRAPHQL_RESPONSE}",
        f"{GRAPHQL_RESPONSE}, */*;q=0.5",
    ],
)
async def test_clients_naming_the_spec_media_type_get_it(
    gateway: RunningGateway, accept: str
) -> None:
    response = await gateway.client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Accept": accept}
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("accept", [None, "", "*/*", "application/*", "text/plain, */*;q=0.1"])
async def test_legacy_clients_get_json_and_200_for_request_errors(
    gateway: RunningGateway, accept: str | None
) -> None:
    """No Accept header or only wildcards: a client that may predate the spec's media type,
    answered ``application/json`` as the GraphQL-over-HTTP spec asks."""
    request = gateway.client.build_request("POST", "/graphql", json={"query": "{ noSuchField }"})
    del request.headers["accept"]
    if accept is not None:
        request.headers["accept"] = accept

    response = await gateway.client.send(request)

    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    assert codes(response.json()) == ["GRAPHQL_VALIDATION_FAILED"]


ACCEPTED_RANGES = st.sampled_from(
    [GRAPHQL_RESPONSE, JSON, "application/*", "*/*", "text/html", "text/csv", "image/png"]
)


@given(
    st.lists(
        st.tuples(ACCEPTED_RANGES, st.sampled_from([None, "0", "0.1", "0.5", "0.9", "1"])),
        max_size=5,
    )
)
def test_the_spec_media_type_is_answered_only_to_clients_that_name_it_first(
    ranges: list[tuple[str, str | None]],
) -> None:
    accept = ", ".join(r if q is None else f"{r};q={q}" for r, q in ranges)
    quality: dict[str, float] = {}
    for media_range, q in ranges:  # a range given twice counts at its best
        quality[media_range] = max(quality.get(media_range, 0.0), float(q or 1))
    json_like = max((quality.get(r, 0.0) for r in (JSON, "application/*", "*/*")), default=0.0)
    spec = quality.get(GRAPHQL_RESPONSE, 0.0)

    chosen = negotiate(accept)

    if not ranges:
        assert chosen == JSON
    elif spec > 0 and spec >= json_like:
        assert chosen == GRAPHQL_RESPONSE, accept
    elif json_like > 0:
        assert chosen == JSON, accept
    else:
        assert chosen is None, accept


async def test_clients_accepting_only_json_get_json(gateway: RunningGateway) -> None:
    response = await gateway.client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Accept": JSON}
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == JSON


async def test_validation_errors_are_400_in_graphql_response_json(gateway: RunningGateway) -> None:
    response = await gateway.client.post(
        "/graphql", json={"query": "{ noSuchField }"}, headers=SPEC
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert "data" not in response.json()
    assert codes(response.json()) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_validation_errors_are_200_in_legacy_json(gateway: RunningGateway) -> None:
    response = await gateway.client.post(
        "/graphql", json={"query": "{ noSuchField }"}, headers={"Accept": JSON}
    )

    assert response.status_code == 200
    assert codes(response.json()) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_syntax_errors_are_parse_failures(gateway: RunningGateway) -> None:
    response = await gateway.client.post("/graphql", json={"query": "{ __typename"}, headers=SPEC)

    assert response.status_code == 400
    assert codes(response.json()) == ["GRAPHQL_PARSE_FAILED"]


async def test_get_runs_queries(gateway: RunningGateway) -> None:
    response = await gateway.client.get("/graphql", params={"query": "{ __typename }"})

    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_get_refuses_mutations_with_405(gateway: RunningGateway) -> None:
    response = await gateway.client.get("/graphql", params={"query": "mutation { __typename }"})

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert codes(response.json()) == ["BAD_REQUEST"]


async def test_post_runs_mutations(gateway: RunningGateway) -> None:
    response = await gateway.client.post("/graphql", json={"query": "mutation { __typename }"})

    assert response.json() == {"data": {"__typename": "Mutation"}}


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
async def test_malformed_json_is_400(gateway: RunningGateway, accept: str) -> None:
    response = await gateway.client.post(
        "/graphql",
        content=b'{"query": ',
        headers={"Content-Type": JSON, "Accept": accept},
    )

    assert response.status_code == 400
    assert codes(response.json()) == ["BAD_REQUEST"]


@pytest.mark.parametrize(
    "body",
    [{}, {"query": 42}, {"query": "{ __typename }", "variables": [1]}, [{"query": "{ a }"}]],
    ids=["no query", "query not a string", "variables not an object", "batch"],
)
async def test_malformed_requests_are_400(gateway: RunningGateway, body: object) -> None:
    response = await gateway.client.post("/graphql", json=body, headers={"Accept": JSON})

    assert response.status_code == 400
    assert codes(response.json()) == ["BAD_REQUEST"]


async def test_bodies_other_than_json_are_415(gateway: RunningGateway) -> None:
    response = await gateway.client.post(
        "/graphql", content="{ __typename }", headers={"Content-Type": "application/graphql"}
    )

    assert response.status_code == 415


async def test_unacceptable_accept_is_406(gateway: RunningGateway) -> None:
    response = await gateway.client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Accept": "text/csv"}
    )

    assert response.status_code == 406


async def test_bodies_over_the_limit_are_413(gateway: RunningGateway) -> None:
    padding = " " * MAX_BODY_BYTES
    response = await gateway.client.post(
        "/graphql",
        content=orjson.dumps({"query": "{ __typename }" + padding}),
        headers={"Content-Type": JSON},
    )

    assert response.status_code == 413


async def test_variables_that_do_not_coerce_are_bad_requests(gateway: RunningGateway) -> None:
    response = await gateway.client.post(
        "/graphql",
        json={
            "query": "query ($b: Boolean!) { __typename @include(if: $b) }",
            "variables": {"b": "many"},
        },
        headers=SPEC,
    )

    assert response.status_code == 400
    assert codes(response.json()) == ["BAD_REQUEST"]


async def test_root_fields_follow_skip_and_include_on_every_request(
    gateway: RunningGateway,
) -> None:
    """Root fields are collected once per operation only where nothing can change them: a
    document with ``@include`` is collected again for each request's variables."""
    conditional = "query ($b: Boolean!) { a: __typename b: __typename @include(if: $b) }"
    plain = "query Q { a: __typename b: __typename }"
    found = []
    for query, variables in [
        (conditional, {"b": True}),
        (conditional, {"b": False}),
        (conditional, {"b": True}),
        (plain, None),
        (plain, None),
    ]:
        response = await gateway.client.post(
            "/graphql", json={"query": query, "variables": variables}
        )
        found.append(response.json()["data"])

    both, one = {"a": "Query", "b": "Query"}, {"a": "Query"}
    assert found == [both, one, both, both, both]


async def test_an_unknown_operation_name_is_a_bad_request(gateway: RunningGateway) -> None:
    response = await gateway.client.post(
        "/graphql", json={"query": "query A { __typename }", "operationName": "B"}, headers=SPEC
    )

    assert response.status_code == 400
    assert codes(response.json()) == ["BAD_REQUEST"]


async def test_subscriptions_over_http_point_to_websocket(
    gateway: RunningGateway, greeted: Tenant
) -> None:
    response = await gateway.client.post(
        "/graphql",
        json={"query": "subscription { countdown }"},
        headers={"Authorization": f"Bearer {admin_token(greeted.id)}", **SPEC},
    )

    assert response.status_code == 400
    assert "WebSocket" in response.json()["errors"][0]["message"]


async def test_the_callers_request_id_is_kept(gateway: RunningGateway) -> None:
    response = await gateway.client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"X-Request-Id": "trace-42"}
    )

    assert response.headers["x-request-id"] == "trace-42"


async def test_request_ids_made_here_cannot_be_guessed_from_one_another(
    gateway: RunningGateway,
) -> None:
    ids = [
        (await gateway.client.post("/graphql", json={"query": "{ __typename }"})).headers[
            "x-request-id"
        ]
        for _ in range(40)
    ]

    assert all(re.fullmatch("[0-9a-f]{16}", request_id) for request_id in ids), ids
    # Random ids share no prefix and are no count: 64 bits each, 2**-32 for any two halves.
    assert len({request_id[:8] for request_id in ids}) == len(ids), ids
    assert len({request_id[8:] for request_id in ids}) == len(ids), ids


def test_a_forked_child_makes_request_ids_of_its_own() -> None:
    ids = RandomIds()
    ids.next()  # the pool is read before the fork
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:
        os.write(writing, ids.next().encode())
        os._exit(0)
    os.close(writing)
    os.waitpid(child, 0)
    childs = os.read(reading, 64).decode()
    os.close(reading)

    assert len(childs) == 16
    assert childs != ids.next()


async def test_graphiql_is_served_to_browsers_in_development(gateway: RunningGateway) -> None:
    response = await gateway.client.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_graphiql_is_not_served_in_production(make_app: MakeApp) -> None:
    production = await make_app(environment="production")

    response = await production.client.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 406


# -- document limits -------------------------------------------------------------------------


async def test_documents_nested_too_deep_are_refused(make_app: MakeApp) -> None:
    shallow = await make_app(max_query_depth=2)

    direct = await graphql(shallow.client, "{ viewer { member { id } } }")
    through_fragment = await graphql(
        shallow.client,
        "query { ...Deep } fragment Deep on Query { viewer { member { id } } }",
    )
    within = await graphql(shallow.client, "{ viewer { role } }")

    assert codes(direct) == ["QUERY_TOO_COMPLEX"]
    assert "deep" in direct["errors"][0]["message"]
    assert codes(through_fragment) == ["QUERY_TOO_COMPLEX"]
    assert codes(within) == ["UNAUTHENTICATED"]  # passed validation, refused by the resolver


async def test_documents_with_too_many_aliases_are_refused(gateway: RunningGateway) -> None:
    limit = gateway.settings.max_aliases
    fields = " ".join(f"a{i}: __typename" for i in range(limit + 1))

    body = await graphql(gateway.client, f"{{ {fields} }}")

    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "aliases" in body["errors"][0]["message"]


async def test_documents_with_too_many_tokens_are_refused(gateway: RunningGateway) -> None:
    fields = " ".join("__typename" for _ in range(gateway.settings.max_tokens))

    body = await graphql(gateway.client, f"{{ {fields} }}")

    assert codes(body) == ["GRAPHQL_PARSE_FAILED"]


async def test_documents_with_too_many_operations_are_refused(gateway: RunningGateway) -> None:
    response = await gateway.client.post(
        "/graphql",
        json={"query": "query A { __typename } query B { __typename }", "operationName": "A"},
        headers=SPEC,
    )

    assert response.status_code == 400
    assert codes(response.json()) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "operations" in response.json()["errors"][0]["message"]


async def test_introspection_is_off_in_production(make_app: MakeApp) -> None:
    production = await make_app(environment="production")

    introspection = await graphql(production.client, "{ __schema { queryType { name } } }")
    typename = await graphql(production.client, "{ __typename }")

    assert set(codes(introspection)) == {"GRAPHQL_VALIDATION_FAILED"}
    assert "introspection" in introspection["errors"][0]["message"]
    assert typename == {"data": {"__typename": "Query"}}


async def test_introspection_can_be_enabled_in_production(make_app: MakeApp) -> None:
    production = await make_app(environment="production", introspection=True)

    body = await graphql(production.client, "{ __schema { queryType { name } } }")

    assert body == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


# -- errors ----------------------------------------------------------------------------------


async def test_unexpected_errors_are_masked_and_logged_with_the_request_id(
    gateway: RunningGateway, greeted: Tenant
) -> None:
    logged = io.StringIO()
    handler = logging.StreamHandler(logged)
    handler.setFormatter(JsonFormatter())
    errors_logger = logging.getLogger("loyalty_gateway.errors")
    errors_logger.addHandler(handler)
    try:
        response = await gateway.client.post(
            "/graphql",
            json={"query": "{ greetingFailure }"},
            headers={"Authorization": f"Bearer {admin_token(greeted.id)}"},
        )
    finally:
        errors_logger.removeHandler(handler)

    request_id = response.headers["x-request-id"]
    error = response.json()["errors"][0]
    assert response.status_code == 200
    assert error["message"] == "internal error"
    assert error["extensions"] == {"code": "INTERNAL", "requestId": request_id}
    assert "secret" not in response.text
    line = orjson.loads(logged.getvalue().splitlines()[0])
    assert line["requestId"] == request_id
    assert "RuntimeError: connection string" in line["exception"]


async def test_forbidden_in_a_resolver_carries_its_code(
    gateway: RunningGateway, greeted: Tenant
) -> None:
    body = await graphql(gateway.client, "{ greetingSecret }", token=admin_token(greeted.id))

    assert body["errors"][0]["message"] == "greetings are secret"
    assert codes(body) == ["FORBIDDEN"]


async def test_anonymous_callers_get_unauthenticated_from_resolvers(
    gateway: RunningGateway,
) -> None:
    body = await graphql(gateway.client, "{ viewer { role } }")

    assert codes(body) == ["UNAUTHENTICATED"]


# -- credentials -----------------------------------------------------------------------------


async def test_admin_tokens_name_their_tenant(gateway: RunningGateway, tenant: Tenant) -> None:
    body = await graphql(
        gateway.client, "{ viewer { role tenant { slug } } }", token=admin_token(tenant.id)
    )

    assert body == {"data": {"viewer": {"role": "ADMIN", "tenant": {"slug": tenant.slug}}}}


async def test_member_tokens_see_their_member(
    gateway: RunningGateway, db: Database, tenant: Tenant
) -> None:
    async with db.tenant_transaction(tenant.id) as conn:
        member_id = await insert_member(conn, tenant.id)

    body = await graphql(
        gateway.client,
        "{ viewer { role member { id } } }",
        token=member_token(tenant.id, member_id),
    )

    assert body["data"]["viewer"]["role"] == "MEMBER"
    assert body["data"]["viewer"]["member"]["id"] == str(member_id)


async def test_a_request_that_batched_its_reads_leaves_no_cycle_to_collect(
    gateway: RunningGateway, db: Database, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request's DataLoaders refer back to its context. Left in place after the response,
    that cycle waited for the garbage collector, and its pauses stalled every request in
    flight: a young collection of about 50,000 such objects took 50 ms, the p99 of the
    member dashboard. The context must go with its request."""
    async with db.tenant_transaction(tenant.id) as conn:
        member_id = await insert_member(conn, tenant.id)
    contexts: list[weakref.ref[RequestContext]] = []
    make_context = GatewayState.context

    def recorded(state: GatewayState, caller: Caller, request_id: str) -> RequestContext:
        context = make_context(state, caller, request_id)
        contexts.append(weakref.ref(context))
        return context

    monkeypatch.setattr(GatewayState, "context", recorded)
    gc.collect()
    gc.disable()
    try:
        body = await graphql(
            gateway.client,
            "{ viewer { member { identifiers { value } balances { available } } } }",
            token=member_token(tenant.id, member_id),
        )
        freed = [context() is None for context in contexts]
    finally:
        gc.enable()

    assert body["data"]["viewer"]["member"] == {"identifiers": [], "balances": [{"available": 0}]}
    assert freed == [True]


async def test_platform_tokens_have_no_tenant(gateway: RunningGateway) -> None:
    body = await graphql(
        gateway.client, "{ viewer { role tenant { slug } } }", token=platform_token()
    )

    assert body == {"data": {"viewer": {"role": "PLATFORM", "tenant": None}}}


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer not-a-jwt",
        "Bearer " + token("admin", "someone", secret="another-secret-of-enough-length-0123"),
        "Bearer " + token("admin", "someone", expires_in=timedelta(minutes=-5)),
        "Bearer " + token("touchpoint", "someone"),
        "Bearer " + token("admin", "someone"),  # no tenant
        "Basic dXNlcjpwYXNz",
    ],
    ids=["garbage", "wrong secret", "expired", "unknown role", "no tenant", "basic auth"],
)
async def test_bad_credentials_are_401(gateway: RunningGateway, authorization: str) -> None:
    response = await gateway.client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Authorization": authorization}
    )

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert codes(response.json()) == ["UNAUTHENTICATED"]


async def test_tokens_of_a_tenant_that_does_not_exist_are_401(gateway: RunningGateway) -> None:
    response = await gateway.client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"Authorization": f"Bearer {admin_token(uuid.uuid4())}"},
    )

    assert response.status_code == 401


async def test_development_tokens_are_refused_in_production(
    make_app: MakeApp, tenant: Tenant
) -> None:
    production = await make_app(environment="production")

    response = await production.client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"Authorization": f"Bearer {admin_token(tenant.id)}"},
    )

    assert response.status_code == 401


async def test_api_keys_authenticate_touchpoints(
    gateway: RunningGateway, db: Database, tenant: Tenant
) -> None:
    async with db.tenant_transaction(tenant.id) as conn:
        issued = await create_api_key(
            conn, tenant.id, name="till", scopes=["events:write"], actor="test"
        )
    query = "{ viewer { role scopes tenant { slug } } }"

    by_header = await graphql(gateway.client, query, api_key=issued.secret)
    by_authorization = await gateway.client.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"ApiKey {issued.secret}"}
    )

    expected = {"role": "TOUCHPOINT", "scopes": ["events:write"], "tenant": {"slug": tenant.slug}}
    assert by_header == {"data": {"viewer": expected}}
    assert by_authorization.json() == {"data": {"viewer": expected}}


async def test_invalid_api_keys_are_401(gateway: RunningGateway, tenant: Tenant) -> None:
    forged = f"lk_{tenant.id.hex}_{tenant.id.hex}_not-the-secret"

    response = await gateway.client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"X-Api-Key": forged}
    )

    assert response.status_code == 401
    assert codes(response.json()) == ["UNAUTHENTICATED"]


async def test_two_credentials_at_once_are_refused(gateway: RunningGateway, tenant: Tenant) -> None:
    response = await gateway.client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"Authorization": f"Bearer {admin_token(tenant.id)}", "X-Api-Key": "lk_x"},
    )

    assert response.status_code == 401
