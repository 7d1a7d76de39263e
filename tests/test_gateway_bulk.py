"""``POST /events``: events as NDJSON over HTTP on real PostgreSQL, answered line for line;
replays, bad lines, and requests refused whole."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import orjson
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, RunningGateway

from tests.api import available, enrol, pos_key

NDJSON = {"Content-Type": "application/x-ndjson"}


def _line(external_id: str, member: dict[str, Any], amount: int = 1000, **rest: Any) -> bytes:
    event = {
        "type": "purchase",
        "source": "shop-export",
        "externalId": external_id,
        "payload": {"amount": amount, "currency": "EUR"},
        **member,
        **rest,
    }
    return orjson.dumps(event)


async def _post(gateway: RunningGateway, key: str, body: bytes) -> list[dict[str, Any]]:
    response = await gateway.client.post(
        "/events", content=body, headers={**NDJSON, "X-Api-Key": key}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    return [orjson.loads(line) for line in response.content.splitlines()]


async def test_events_in_ndjson_are_answered_line_for_line_and_replay(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    key = await pos_key(gateway.client, tenant.id)
    ada = await enrol(gateway.client, tenant.id, "ada@example.com")
    bob = await enrol(gateway.client, tenant.id, "bob@example.com")
    body = b"\n".join(
        [
            _line("o-1", {"memberId": ada}),
            b"",
            _line("o-2", {"identifier": {"kind": "EMAIL", "value": "Bob@Example.com"}}, 2500),
            _line("o-3", {"memberId": ada}, occurredAt="2026-11-20T09:30:00+01:00"),
        ]
    )

    first = await _post(gateway, key, body + b"\n")
    windows = b"\xef\xbb\xbf" + body.replace(b"\n", b"\r\n")  # a byte order mark, CRLF
    again = await _post(gateway, key, windows)

    assert [(r["line"], r["errors"], r["replayed"]) for r in first] == [
        (1, [], False),
        (3, [], False),
        (4, [], False),
    ]
    assert [r["memberId"] for r in first] == [ada, bob, ada]
    assert [[t["kind"] for t in r["transactions"]] for r in first] == [["EARN"]] * 3
    assert first[1]["transactions"][0]["reason"] == "purchase o-2"
    assert [r["replayed"] for r in again] == [True] * 3
    assert [r["eventId"] for r in again] == [r["eventId"] for r in first]
    assert await available(gateway.client, tenant.id, ada) == 20
    assert await available(gateway.client, tenant.id, bob) == 25


async def test_a_bad_line_fails_alone(make_app: MakeApp, tenant: Tenant) -> None:
    gateway = await make_app()
    key = await pos_key(gateway.client, tenant.id)
    ada = {"memberId": await enrol(gateway.client, tenant.id, "ada@example.com")}
    lines = [
        b"{not json",
        b"[1, 2]",
        orjson.dumps({"type": "purchase", "source": "s", "externalId": "x", **ada}),
        _line("b-1", {"memberId": "nobody"}),
        _line("b-2", {"memberId": str(uuid.uuid4())}),
        _line("b-3", ada, occurredAt="yesterday"),
        _line("b-4", ada, amount=0),
        _line("b-5", ada, type=7),
        _line("b-6", {"identifier": {"kind": "EMAIL"}}),
        _line("b-7", ada),
    ]

    answers = await _post(gateway, key, b"\n".join(lines))

    assert [(a["line"], [(e["code"], e["field"]) for e in a["errors"]]) for a in answers] == [
        (1, [("INVALID_INPUT", "line")]),
        (2, [("INVALID_INPUT", "line")]),
        (3, [("INVALID_INPUT", "payload")]),
        (4, [("NOT_FOUND", "memberId")]),
        (5, [("NOT_FOUND", "id")]),
        (6, [("INVALID_INPUT", "occurredAt")]),
        (7, [("SCHEMA_VIOLATION", "payload.amount")]),
        (8, [("INVALID_INPUT", "type")]),
        (9, [("INVALID_INPUT", "identifier")]),
        (10, []),
    ]
    assert all(a["errors"][0]["message"] for a in answers[:-1])
    assert await available(gateway.client, tenant.id, ada["memberId"]) == 10


async def test_more_events_than_a_batch_are_ingested_in_batches(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    key = await pos_key(gateway.client, tenant.id)
    members = [
        {"memberId": await enrol(gateway.client, tenant.id, f"m{n}@x.org")} for n in range(5)
    ]
    body = b"\n".join(_line(f"big-{n}", members[n % 5], 100) for n in range(2500))

    answers = await _post(gateway, key, body)

    assert [a["line"] for a in answers] == list(range(1, 2501))
    assert all(a["errors"] == [] for a in answers)
    for member in members:
        assert await available(gateway.client, tenant.id, member["memberId"]) == 500


async def test_requests_refused_whole(make_app: MakeApp, tenant: Tenant) -> None:
    gateway = await make_app()
    key = await pos_key(gateway.client, tenant.id)
    reader = await pos_key(gateway.client, tenant.id, scopes=("MEMBERS_READ",))
    line = _line("r-1", {"memberId": str(uuid.uuid4())})
    client = gateway.client

    async def status(body: bytes, **headers: str) -> tuple[int, str]:
        response = await client.post("/events", content=body, headers=headers)
        return response.status_code, response.json()["errors"][0]["extensions"]["code"]

    assert await status(line, **NDJSON) == (401, "UNAUTHENTICATED")
    assert await status(line, **NDJSON, **{"X-Api-Key": "lk_nonsense"}) == (401, "UNAUTHENTICATED")
    assert await status(line, **NDJSON, **{"X-Api-Key": reader}) == (403, "FORBIDDEN")
    json = {"Content-Type": "application/json", "X-Api-Key": key}
    assert await status(line, **json) == (415, "BAD_REQUEST")
    too_many = b"\n".join([line] * 10_001)
    assert await status(too_many, **NDJSON, **{"X-Api-Key": key}) == (413, "INVALID_INPUT")
    too_big = b" " * (16 * 1024 * 1024 + 1)
    assert await status(too_big, **NDJSON, **{"X-Api-Key": key}) == (413, "BAD_REQUEST")
    assert (await client.get("/events")).status_code == 405


API_DOCS = Path(__file__).resolve().parent.parent / "docs" / "api.md"
NDJSON_BLOCK = re.compile(r"^```ndjson\n(.*?)^```", re.MULTILINE | re.DOTALL)


async def test_the_documented_example_answers_as_documented(
    make_app: MakeApp, tenant: Tenant
) -> None:
    """docs/api.md's request, sent as it stands, answers lines shaped as its answer shows."""
    request, documented = NDJSON_BLOCK.findall(API_DOCS.read_text(encoding="utf-8"))
    gateway = await make_app()
    key = await pos_key(gateway.client, tenant.id)
    await enrol(gateway.client, tenant.id, "ada@example.com")

    answers = await _post(gateway, key, request.encode())

    expected = [orjson.loads(line) for line in documented.splitlines()]
    assert [sorted(a) for a in answers] == [sorted(e) for e in expected]
    assert [[(t["kind"], t["reason"]) for t in a.get("transactions", [])] for a in answers] == [
        [(t["kind"], t["reason"]) for t in e.get("transactions", [])] for e in expected
    ]
    assert [a["errors"] for a in answers] == [e["errors"] for e in expected]
