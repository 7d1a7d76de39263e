"""Text PostgreSQL cannot store, anywhere a caller sends text: refused as INVALID_INPUT with the
field (or, for a lone surrogate the JSON decoder refuses first, as a malformed request), never
``internal error``, and nothing written; in a batch (``eventIngestBatch``, ``POST /events``)
the item fails alone and the others are stored.

Hypothesis places a NUL character or a lone surrogate anywhere in nested JSON (as a value or as
a key), in plain string arguments, search terms, idempotency keys and literals, sent by a
tenant admin, a till (API key) and a member; and in NDJSON lines of ``POST /events`` beside
valid ones, which are still stored.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyalty_core.errors import ValidationFailed
from loyalty_core.inputs import check_json, check_text
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, member_token

from tests.api import Storefront, storefront

BAD_CHARACTERS = st.sampled_from(["\x00", "\ud800", "\udfff", "\udc00"])
SCALARS = st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=4)
KEYS = st.text(max_size=4)
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CREATE = "mutation($i: MemberCreateInput!) { memberCreate(input: $i) { errors { code } } }"
UPDATE = "mutation($i: MemberUpdateInput!) { memberUpdate(input: $i) { errors { code } } }"
INGEST = "mutation($i: EventIngestInput!) { eventIngest(input: $i) { errors { code } } }"
REDEEM = "mutation($i: PointsRedeemInput!) { pointsRedeem(input: $i) { errors { code field } } }"
SEARCH = "query($s: String) { members(search: $s) { edges { cursor } } }"


@st.composite
def bad_text(draw: st.DrawFn) -> str:
    """Text with one character PostgreSQL refuses, anywhere in it."""
    return draw(st.text(max_size=5)) + draw(BAD_CHARACTERS) + draw(st.text(max_size=5))


@st.composite
def json_holding(draw: st.DrawFn, bad: str) -> dict[str, Any]:
    """A JSON object with ``bad`` somewhere inside, as a value or as a key, among others."""
    value: Any = bad if draw(st.booleans()) else {bad: draw(SCALARS)}
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.booleans()):
            siblings = draw(st.dictionaries(KEYS, SCALARS, max_size=2))
            value = {**siblings, draw(KEYS): value}
        else:
            items = draw(st.lists(SCALARS, max_size=2))
            items.insert(draw(st.integers(0, len(items))), value)
            value = items
    return {draw(KEYS): value}


def _dumps(value: Any) -> str:
    """JSON as any client writes it: a lone surrogate as its ``\\u`` escape."""
    return json.dumps(value)


class Shop(Storefront):
    """One tenant's gateway, admin, till and member, made once per test."""

    async def post(self, query: str, variables: dict[str, Any] | None = None, **auth: str) -> Any:
        # The GraphQL-over-HTTP media type, under which a request error is a 400.
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/graphql-response+json",
        }
        if "token" in auth:
            headers["Authorization"] = f"Bearer {auth['token']}"
        if "api_key" in auth:
            headers["X-Api-Key"] = auth["api_key"]
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        response = await self.gateway.client.post("/graphql", content=_dumps(body), headers=headers)
        assert response.status_code != 500, response.text
        return response.status_code, response.json()

    @property
    def admin(self) -> str:
        return admin_token(self.tenant.id)


@pytest_asyncio.fixture(loop_scope="session")
async def shop(make_app: MakeApp, tenant: Tenant) -> Shop:
    return await storefront(make_app, tenant, Shop)


def assert_refused(status: int, body: dict[str, Any], bad: str, field_prefix: str) -> None:
    """A request error naming the field (NUL), or a malformed body (a lone surrogate, which
    the JSON decoder refuses): never executed, never internal."""
    assert status == 400, body
    assert "data" not in body or body["data"] is None, body
    [error] = body["errors"]
    if "\x00" in bad and not any("\ud800" <= c <= "\udfff" for c in bad):
        assert error["extensions"]["code"] == "INVALID_INPUT", error
        assert error["extensions"]["field"].startswith(field_prefix), error
    else:
        assert error["extensions"]["code"] in ("INVALID_INPUT", "BAD_REQUEST"), error


@SETTINGS
@given(data=st.data())
async def test_admin_attributes_with_bad_text_anywhere_are_refused(
    shop: Shop, data: st.DataObject
) -> None:
    bad = data.draw(bad_text())
    attributes = data.draw(json_holding(bad))
    email = f"{uuid.uuid4().hex}@example.com"
    identifiers = [{"kind": "EMAIL", "value": email}]

    status, body = await shop.post(
        CREATE, {"i": {"identifiers": identifiers, "attributes": attributes}}, token=shop.admin
    )

    assert_refused(status, body, bad, "i.attributes")
    _, found = await shop.post(SEARCH, {"s": email}, token=shop.admin)
    assert found["data"]["members"]["edges"] == []  # nothing written


@SETTINGS
@given(data=st.data())
async def test_a_members_own_attributes_and_a_tills_payloads_with_bad_text_are_refused(
    shop: Shop, data: st.DataObject
) -> None:
    bad = data.draw(bad_text())
    token = member_token(shop.tenant.id, uuid.UUID(shop.member))
    status, body = await shop.post(
        UPDATE, {"i": {"id": shop.member, "attributes": data.draw(json_holding(bad))}}, token=token
    )
    assert_refused(status, body, bad, "i.attributes")

    event = {
        "type": "visit",
        "source": "app",
        "externalId": f"visit-{uuid.uuid4()}",
        "memberId": shop.member,
        "payload": data.draw(json_holding(bad)),
    }
    status, body = await shop.post(INGEST, {"i": event}, api_key=shop.key)
    assert_refused(status, body, bad, "i.payload")


@SETTINGS
@given(data=st.data())
async def test_plain_strings_keys_and_search_terms_with_bad_text_are_refused(
    shop: Shop, data: st.DataObject
) -> None:
    bad = data.draw(bad_text())
    field = data.draw(st.sampled_from(["externalId", "source", "type"]))
    event = {
        "type": "visit",
        "source": "app",
        "externalId": f"visit-{uuid.uuid4()}",
        "memberId": shop.member,
        "payload": {},
        field: bad,
    }
    status, body = await shop.post(INGEST, {"i": event}, api_key=shop.key)
    assert_refused(status, body, bad, f"i.{field}")

    redeem = {"memberId": shop.member, "amount": 1, "idempotencyKey": bad}
    status, body = await shop.post(REDEEM, {"i": redeem}, api_key=shop.key)
    assert_refused(status, body, bad, "i.idempotencyKey")

    status, body = await shop.post(SEARCH, {"s": bad}, token=shop.admin)
    assert_refused(status, body, bad, "s")


@SETTINGS
@given(prefix=st.text(st.characters(codec="ascii", exclude_characters='"\\'), max_size=4))
async def test_a_nul_in_a_literal_is_refused_with_the_argument(shop: Shop, prefix: str) -> None:
    literal = json.dumps(prefix + "\x00")  # a GraphQL string is written as a JSON one
    for query, field in (
        (f"{{ members(search: {literal}) {{ edges {{ cursor }} }} }}", "search"),
        (
            "mutation { memberCreate(input: {identifiers: [{kind: EMAIL, value: "
            f"{literal}}}], attributes: {{note: [1, {literal}]}}}}) {{ errors {{ code }} }} }}",
            "input.",
        ),
    ):
        status, body = await shop.post(query, token=shop.admin)
        assert status == 400, body
        codes = {error["extensions"]["code"] for error in body["errors"]}
        assert codes == {"INVALID_INPUT"}, body
        assert all(error["extensions"]["field"].startswith(field) for error in body["errors"])


@SETTINGS
@given(data=st.data())
async def test_a_bad_ndjson_line_fails_alone_and_the_valid_ones_are_stored(
    shop: Shop, data: st.DataObject
) -> None:
    bad = data.draw(bad_text())
    where = data.draw(st.sampled_from(["payload", "externalId", "source", "identifier"]))
    run = uuid.uuid4().hex
    hostile: dict[str, Any] = {
        "type": "visit",
        "source": "shop",
        "externalId": f"bad-{run}",
        "memberId": shop.member,
        "payload": {},
    }
    if where == "payload":
        hostile["payload"] = data.draw(json_holding(bad))
    elif where == "identifier":
        del hostile["memberId"]
        hostile["identifier"] = {"kind": "EMAIL", "value": bad}
    else:
        hostile[where] = bad
    good = [
        {
            "type": "visit",
            "source": "shop",
            "externalId": f"good-{run}-{n}",
            "memberId": shop.member,
            "payload": {"n": n},
        }
        for n in range(2)
    ]
    position = data.draw(st.integers(0, 2))
    lines = [_dumps(event) for event in good]
    lines.insert(position, _dumps(hostile))

    response = await shop.gateway.client.post(
        "/events",
        content="\n".join(lines).encode(),
        headers={"Content-Type": "application/x-ndjson", "X-Api-Key": shop.key},
    )

    assert response.status_code == 200, response.text
    answers = [json.loads(line) for line in response.content.splitlines()]
    assert [a["line"] for a in answers] == [1, 2, 3]
    refused = answers.pop(position)
    [error] = refused["errors"]
    assert error["code"] == "INVALID_INPUT", refused
    assert error["field"] == "line" or error["field"].startswith(where), refused
    assert [a["errors"] for a in answers] == [[], []]
    assert all(a["replayed"] is False and a["eventId"] for a in answers)


BATCH = """
mutation($i: EventIngestBatchInput!) {
  eventIngestBatch(input: $i) { results { event { id } errors { code field } } errors { code } }
}
"""


@SETTINGS
@given(data=st.data())
async def test_a_bad_item_of_a_batch_fails_alone_and_the_valid_ones_are_stored(
    shop: Shop, data: st.DataObject
) -> None:
    bad = data.draw(st.text(max_size=5)) + "\x00"  # a lone surrogate is not even JSON
    where = data.draw(st.sampled_from(["payload", "externalId", "source", "occurredAt"]))
    run = uuid.uuid4().hex
    events = [
        {
            "type": "visit",
            "source": "app",
            "externalId": f"batch-{run}-{n}",
            "memberId": shop.member,
            "payload": {"n": n},
        }
        for n in range(3)
    ]
    position = data.draw(st.integers(0, 2))
    hostile = events[position]
    if where == "payload":
        hostile["payload"] = data.draw(json_holding(bad))
    elif where == "occurredAt":
        hostile["occurredAt"] = "2026-01-01T10:00:00"  # no offset
    else:
        hostile[where] = bad

    status, body = await shop.post(BATCH, {"i": {"events": events}}, api_key=shop.key)

    assert status == 200, body
    results = body["data"]["eventIngestBatch"]["results"]
    refused = results.pop(position)
    [error] = refused["errors"]
    assert error["code"] == "INVALID_INPUT", refused
    assert error["field"].startswith(f"events[{position}].{where}"), refused
    assert refused["event"] is None
    assert [r["errors"] for r in results] == [[], []]
    assert all(r["event"]["id"] for r in results)


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_the_rules_refuse_bad_text_wherever_python_code_puts_it(data: st.DataObject) -> None:
    """Python strings may hold lone surrogates the JSON decoder never lets through (a module's
    own parsing, a job): the rules name them too, with the path."""
    bad = data.draw(bad_text())
    with pytest.raises(ValidationFailed) as refused:
        check_json(data.draw(json_holding(bad)), "payload")
    assert refused.value.field is not None
    assert refused.value.field.startswith("payload")
    with pytest.raises(ValidationFailed):
        check_text(bad, "name")
