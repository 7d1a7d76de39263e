"""The limits of a JSON value (depth, values, string length) and of nesting in general: a value
past them is refused with a code before any work, never ``internal error``.

Depths are drawn around the limit (32) and far past it (up to 1000, where the recursion of
JSON Schema validation or serialisation overflowed), in variables, in literals, in NDJSON
lines; lists nested 1000 deep in variables of a list type and request bodies nested past the
JSON decoder's own limit are malformed requests (400 with a code).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyalty_core.inputs import MAX_JSON_DEPTH, MAX_JSON_STRING, MAX_JSON_VALUES
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token

from tests.api import Storefront, storefront

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CREATE = "mutation($i: MemberCreateInput!) { memberCreate(input: $i) { errors { code } } }"
BATCH = (
    "mutation($events: [EventIngestInput!]!) "
    "{ eventIngestBatch(input: {events: $events}) { results { errors { code } } } }"
)
DEPTHS = st.integers(MAX_JSON_DEPTH - 3, MAX_JSON_DEPTH + 3) | st.integers(MAX_JSON_DEPTH, 1000)


DEEP = "@deep@"


def nested(depth: int, kinds: list[bool]) -> bytes:
    """JSON ``depth`` levels deep (objects or arrays as ``kinds`` says, cycled), written out
    as text: orjson and the standard library stop short of 1000 levels."""
    opening = b"".join(b'{"k":' if kinds[i % len(kinds)] else b"[" for i in range(depth))
    closing = b"".join(b"}" if kinds[i % len(kinds)] else b"]" for i in reversed(range(depth)))
    return opening + b"1" + closing


def dumps(value: Any, deep: bytes = b"") -> bytes:
    """``value`` as JSON, with ``deep`` where the string :data:`DEEP` is."""
    return json.dumps(value).encode().replace(json.dumps(DEEP).encode(), deep)


class Shop(Storefront):
    async def post(self, body: bytes, **headers: str) -> tuple[int, Any]:
        response = await self.gateway.client.post(
            "/graphql",
            content=body,
            # The GraphQL-over-HTTP media type, under which a request error is a 400.
            headers={
                "Content-Type": "application/json",
                "Accept": "application/graphql-response+json",
                **headers,
            },
        )
        assert response.status_code != 500, response.text
        return response.status_code, response.json()

    async def admin(self, query: str, variables: Any, deep: bytes = b"") -> tuple[int, Any]:
        body = dumps({"query": query, "variables": variables}, deep)
        return await self.post(body, Authorization=f"Bearer {admin_token(self.tenant.id)}")


@pytest_asyncio.fixture(loop_scope="session")
async def shop(make_app: MakeApp, tenant: Tenant) -> Shop:
    return await storefront(make_app, tenant, Shop)


@SETTINGS
@given(depth=DEPTHS, kinds=st.lists(st.booleans(), min_size=1, max_size=3))
async def test_attributes_and_payloads_deeper_than_the_limit_are_refused(
    shop: Shop, depth: int, kinds: list[bool]
) -> None:
    deep = nested(depth - 1, kinds)  # the attributes object itself is one level
    identifiers = [{"kind": "EMAIL", "value": f"{uuid.uuid4().hex}@example.com"}]
    status, body = await shop.admin(
        CREATE, {"i": {"identifiers": identifiers, "attributes": {"a": DEEP}}}, deep
    )
    if depth <= MAX_JSON_DEPTH:
        assert status == 200, body
        assert body["data"]["memberCreate"]["errors"] == []
    else:
        assert status == 400, body
        [error] = body["errors"]
        assert error["extensions"]["code"] == "INVALID_INPUT"
        assert error["extensions"]["field"].startswith("i.attributes.a")

    event = {
        "type": "visit",
        "source": "app",
        "externalId": f"deep-{uuid.uuid4()}",
        "memberId": shop.member,
        "payload": {"a": DEEP},
    }
    flat = {**event, "externalId": f"flat-{uuid.uuid4()}", "payload": {}}
    response = await shop.gateway.client.post(
        "/events",
        content=dumps(event, deep) + b"\n" + dumps(flat),
        headers={"Content-Type": "application/x-ndjson", "X-Api-Key": shop.key},
    )
    assert response.status_code == 200, response.text
    deep_answer, flat_answer = (json.loads(answer) for answer in response.content.splitlines())
    assert flat_answer["errors"] == []
    if depth <= MAX_JSON_DEPTH:
        assert deep_answer["errors"] == []
    else:
        [error] = deep_answer["errors"]
        assert error["code"] == "INVALID_INPUT"
        assert error["field"].startswith("payload.a")
        await assert_deep_lists_and_bodies_are_malformed(shop, depth)


async def assert_deep_lists_and_bodies_are_malformed(shop: Shop, depth: int) -> None:
    """A list nested ``depth`` deep where a list of input objects goes, and a request body
    nested past the JSON decoder's limit (1024): 400 with a code."""
    status, body = await shop.admin(BATCH, {"events": DEEP}, nested(depth, [False]))
    assert status == 400, body
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    deep_body = dumps({"query": "{ __typename }", "variables": DEEP}, nested(1100, [True]))
    status, body = await shop.post(deep_body)
    assert status == 400, body
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@SETTINGS
@given(depth=st.integers(MAX_JSON_DEPTH - 2, 190), kinds=st.lists(st.booleans(), min_size=1))
async def test_literals_deeper_than_the_limit_are_refused_with_the_argument(
    shop: Shop, depth: int, kinds: list[bool]
) -> None:
    """Up to where the GraphQL parser's own limit (200 levels in all) refuses the document."""
    literal = nested(depth, kinds).decode().replace('"k":', "k:")  # GraphQL's syntax
    query = (
        "mutation { memberCreate(input: {identifiers: [{kind: EMAIL, value: "
        f'"{uuid.uuid4().hex}@example.com"}}], attributes: {literal}}}) {{ errors {{ code }} }} }}'
    )
    status, body = await shop.admin(query, None)
    if depth <= MAX_JSON_DEPTH and kinds[0]:  # attributes must be an object
        assert status == 200, body
    elif depth > MAX_JSON_DEPTH:
        assert status == 400, body
        [error] = body["errors"]
        assert error["extensions"]["code"] == "INVALID_INPUT"
        assert error["extensions"]["field"].startswith("input.attributes")


@SETTINGS
@given(
    which=st.sampled_from(["values", "string", "key"]),
    over=st.integers(1, 50),
)
async def test_json_values_past_their_size_limits_are_refused(
    shop: Shop, which: str, over: int
) -> None:
    if which == "values":
        attributes: Any = {"a": list(range(MAX_JSON_VALUES + over - 1))}
    elif which == "string":
        attributes = {"a": "x" * (MAX_JSON_STRING + over)}
    else:
        attributes = {"x" * (MAX_JSON_STRING + over): 1}
    identifiers = [{"kind": "EMAIL", "value": f"{uuid.uuid4().hex}@example.com"}]
    status, body = await shop.admin(
        CREATE, {"i": {"identifiers": identifiers, "attributes": attributes}}
    )
    assert status == 400, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert error["extensions"]["field"].startswith("i.attributes")
