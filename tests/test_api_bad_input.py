"""Bad input through the API: a clear error with a machine-readable code, and nothing written.

Every case runs against a tenant whose row counts are taken before and after: a refused
request must not leave a member, an event, a ledger row, an audit line or an outbox row.
"""

from __future__ import annotations

from typing import Any

import pytest
from loyalty_core.db.engine import Database
from loyalty_core.db.tables import (
    audit_log,
    event_types,
    events,
    ledger_entries,
    ledger_lots,
    ledger_transactions,
    member_identifiers,
    members,
    outbox,
)
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, RunningGateway, admin_token, graphql
from sqlalchemy import func, select

from tests.api import credit, enrol, pos_key

WRITTEN_TABLES = (
    members,
    member_identifiers,
    events,
    event_types,
    ledger_transactions,
    ledger_entries,
    ledger_lots,
    audit_log,
    outbox,
)

INGEST = "mutation($i: EventIngestInput!) { eventIngest(input: $i) { errors { code field } } }"
REDEEM = "mutation($i: PointsRedeemInput!) { pointsRedeem(input: $i) { errors { code field } } }"
ADJUST = "mutation($i: PointsAdjustInput!) { pointsAdjust(input: $i) { errors { code field } } }"
CREATE = "mutation($i: MemberCreateInput!) { memberCreate(input: $i) { errors { code field } } }"
TYPE_SAVE = (
    "mutation($i: EventTypeSaveInput!) { eventTypeSave(input: $i) { errors { code field } } }"
)


async def _counts(db: Database, tenant: Tenant) -> dict[str, int]:
    async with db.tenant_transaction(tenant.id) as conn:
        return {
            table.name: int(await conn.scalar(select(func.count()).select_from(table)) or 0)
            for table in WRITTEN_TABLES
        }


def _purchase(member_id: str, **changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "purchase",
        "source": "pos-1",
        "externalId": "receipt-1",
        "memberId": member_id,
        "payload": {"amount": 1999, "currency": "EUR"},
    }
    event.update(changes)
    return event


def _cases(member: str) -> list[tuple[str, str, dict[str, Any], str, str | None]]:
    """(name, mutation, input, expected code, expected field)."""
    long = "x" * 5000
    return [
        (
            "zero redemption",
            REDEEM,
            {"memberId": member, "amount": 0, "idempotencyKey": "k"},
            "INVALID_INPUT",
            "amount",
        ),
        (
            "negative redemption",
            REDEEM,
            {"memberId": member, "amount": -5, "idempotencyKey": "k"},
            "INVALID_INPUT",
            "amount",
        ),
        (
            "overdraft",
            REDEEM,
            {"memberId": member, "amount": 101, "idempotencyKey": "k"},
            "INSUFFICIENT_BALANCE",
            "amount",
        ),
        (
            "zero adjustment",
            ADJUST,
            {"memberId": member, "amount": 0, "reason": "r", "idempotencyKey": "k"},
            "INVALID_INPUT",
            "amount",
        ),
        (
            "empty reason",
            ADJUST,
            {"memberId": member, "amount": 5, "reason": " ", "idempotencyKey": "k"},
            "INVALID_INPUT",
            "reason",
        ),
        (
            "oversize reason",
            ADJUST,
            {"memberId": member, "amount": 5, "reason": long, "idempotencyKey": "k"},
            "INVALID_INPUT",
            "reason",
        ),
        (
            "oversize key",
            REDEEM,
            {"memberId": member, "amount": 5, "idempotencyKey": long},
            "INVALID_INPUT",
            "idempotencyKey",
        ),
        (
            "unknown member",
            REDEEM,
            {"memberId": "not-an-id", "amount": 5, "idempotencyKey": "k"},
            "NOT_FOUND",
            "memberId",
        ),
        (
            "unknown asset",
            REDEEM,
            {"memberId": member, "amount": 5, "idempotencyKey": "k", "assetCode": "miles"},
            "NOT_FOUND",
            "assetCode",
        ),
        (
            "unknown event type",
            INGEST,
            _purchase(member, type="teleported"),
            "UNKNOWN_EVENT_TYPE",
            "type",
        ),
        (
            "negative amount",
            INGEST,
            _purchase(member, payload={"amount": -1, "currency": "EUR"}),
            "SCHEMA_VIOLATION",
            "payload.amount",
        ),
        (
            "amount as string",
            INGEST,
            _purchase(member, payload={"amount": "19.99", "currency": "EUR"}),
            "SCHEMA_VIOLATION",
            "payload.amount",
        ),
        (
            "missing currency",
            INGEST,
            _purchase(member, payload={"amount": 100}),
            "SCHEMA_VIOLATION",
            "payload",
        ),
        (
            "unknown payload field",
            INGEST,
            _purchase(member, payload={"amount": 100, "currency": "EUR", "tip": 1}),
            "SCHEMA_VIOLATION",
            "payload",
        ),
        (
            "payload not an object",
            INGEST,
            _purchase(member, payload=[1, 2]),
            "INVALID_INPUT",
            "payload",
        ),
        (
            "oversize external id",
            INGEST,
            _purchase(member, externalId=long),
            "INVALID_INPUT",
            "externalId",
        ),
        ("bad source", INGEST, _purchase(member, source="pos 1"), "INVALID_INPUT", "source"),
        (
            "unknown identifier",
            INGEST,
            {
                **_purchase(member),
                "memberId": None,
                "identifier": {"kind": "EMAIL", "value": "nobody@example.com"},
            },
            "NOT_FOUND",
            "identifier",
        ),
        (
            "future event",
            INGEST,
            _purchase(member, occurredAt="2999-01-01T00:00:00+00:00"),
            "INVALID_INPUT",
            "occurredAt",
        ),
        (
            "refund of unknown purchase",
            INGEST,
            _purchase(
                member,
                type="refund",
                payload={"amount": 1, "currency": "EUR", "purchaseExternalId": "nope"},
            ),
            "NOT_FOUND",
            "payload.purchaseExternalId",
        ),
        ("no identifiers", CREATE, {"identifiers": []}, "INVALID_INPUT", "identifiers"),
        (
            "malformed email",
            CREATE,
            {"identifiers": [{"kind": "EMAIL", "value": "not-an-email"}]},
            "INVALID_INPUT",
            "identifiers",
        ),
        (
            "malformed phone",
            CREATE,
            {"identifiers": [{"kind": "PHONE", "value": "0301234"}]},
            "INVALID_INPUT",
            "identifiers",
        ),
        (
            "taken identifier",
            CREATE,
            {"identifiers": [{"kind": "EMAIL", "value": "ada@example.com"}]},
            "DUPLICATE_IDENTIFIER",
            "identifiers",
        ),
        (
            "oversize name",
            CREATE,
            {
                "identifiers": [{"kind": "EMAIL", "value": "new@example.com"}],
                "profile": {"firstName": long},
            },
            "INVALID_INPUT",
            "profile",
        ),
        (
            "attributes not an object",
            CREATE,
            {"identifiers": [{"kind": "EMAIL", "value": "new@example.com"}], "attributes": [1]},
            "INVALID_INPUT",
            "attributes",
        ),
        (
            "unknown channel",
            CREATE,
            {"identifiers": [{"kind": "EMAIL", "value": "new@example.com"}], "channel": "fax"},
            "INVALID_INPUT",
            "channel",
        ),
        (
            "invalid JSON Schema",
            TYPE_SAVE,
            {"name": "review", "jsonSchema": {"type": "objekt"}},
            "INVALID_INPUT",
            "jsonSchema",
        ),
        (
            "built-in type name",
            TYPE_SAVE,
            {"name": "purchase", "jsonSchema": {"type": "object"}},
            "ALREADY_EXISTS",
            "name",
        ),
    ]


async def _ready(make_app: MakeApp, tenant: Tenant) -> tuple[RunningGateway, str, str]:
    gateway = await make_app()
    member = await enrol(gateway.client, tenant.id, "ada@example.com")
    await credit(gateway.client, tenant.id, member, 100)
    return gateway, member, await pos_key(gateway.client, tenant.id)


async def test_bad_input_gets_a_code_and_a_field_and_writes_nothing(
    make_app: MakeApp, tenant: Tenant, db: Database
) -> None:
    gateway, member, _ = await _ready(make_app, tenant)
    admin = admin_token(tenant.id)
    for name, mutation, variables, code, field in _cases(member):
        before = await _counts(db, tenant)
        body = await graphql(gateway.client, mutation, {"i": variables}, token=admin)
        assert "errors" not in body, (name, body)
        (payload,) = body["data"].values()
        assert payload["errors"] == [{"code": code, "field": field}], (name, payload)
        assert await _counts(db, tenant) == before, name


@pytest.mark.parametrize(
    ("variables", "reason"),
    [
        ({"i": {"memberId": "x", "amount": "thirty", "idempotencyKey": "k"}}, "amount as string"),
        ({"i": {"memberId": "x", "amount": 2**40, "idempotencyKey": "k"}}, "amount beyond Int"),
        ({"i": {"memberId": "x", "idempotencyKey": "k"}}, "missing amount"),
    ],
)
async def test_wrongly_typed_variables_are_refused_before_anything_runs(
    make_app: MakeApp, tenant: Tenant, db: Database, variables: dict[str, Any], reason: str
) -> None:
    gateway, _, key = await _ready(make_app, tenant)
    before = await _counts(db, tenant)
    response = await gateway.client.post(
        "/graphql",
        json={"query": REDEEM, "variables": variables},
        headers={"X-Api-Key": key, "Accept": "application/graphql-response+json"},
    )
    assert response.status_code == 400, reason
    assert response.json()["errors"][0]["extensions"]["code"], reason
    assert await _counts(db, tenant) == before


async def test_malformed_json_is_a_bad_request_and_writes_nothing(
    make_app: MakeApp, tenant: Tenant, db: Database
) -> None:
    gateway, _, key = await _ready(make_app, tenant)
    before = await _counts(db, tenant)
    response = await gateway.client.post(
        "/graphql",
        content=b'{"query": "mutation { pointsRedeem(',
        headers={"X-Api-Key": key, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert await _counts(db, tenant) == before


async def test_a_failing_event_in_a_batch_writes_nothing_and_the_others_land(
    make_app: MakeApp, tenant: Tenant, db: Database
) -> None:
    gateway, member, key = await _ready(make_app, tenant)
    batch = """
    mutation($i: EventIngestBatchInput!) {
      eventIngestBatch(input: $i) { results { event { id } errors { code field } } errors { code } }
    }
    """
    events_in = [
        _purchase(member, externalId="b-1"),
        _purchase(member, externalId="b-2", payload={"amount": -3, "currency": "EUR"}),
        _purchase(member, externalId="b-3"),
    ]
    body = await graphql(gateway.client, batch, {"i": {"events": events_in}}, api_key=key)
    results = body["data"]["eventIngestBatch"]["results"]
    assert [r["errors"] for r in results] == [
        [],
        [{"code": "SCHEMA_VIOLATION", "field": "events[1].payload.amount"}],
        [],
    ]
    counts = await _counts(db, tenant)
    assert counts["events"] == 2
