"""A time without its UTC offset is refused as INVALID_INPUT with the field wherever a DateTime
is accepted (core and module inputs, variables and literals, NDJSON lines), never compared
with an aware time and answered ``internal error``."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, RunningGateway, admin_token, graphql

from tests.api import enrol, pos_key
from tests.onboarding import enable, onboarding_gateway

NAIVE = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1)).map(
    lambda moment: moment.isoformat(timespec=(moment.microsecond and "microseconds") or "seconds")
)
SIMULATE = """
mutation($i: CampaignSimulateInput!) {
  campaignSimulate(input: $i) { simulation { points } errors { code field message } }
}
"""
DEFINITION = {"trigger": "purchase", "effects": [{"kind": "points", "params": {"points": 3}}]}
SIMULATION = {
    "since": "2026-01-01T00:00:00Z",
    "until": "2026-01-15T00:00:00Z",
    "definition": DEFINITION,
}
INGEST = "mutation($i: EventIngestInput!) { eventIngest(input: $i) { errors { code field } } }"
FUNNEL = "query($since: DateTime) { enrolmentFunnel(since: $since) { channel } }"


class Shop:
    def __init__(self, gateway: RunningGateway, tenant: Tenant, key: str, member: str) -> None:
        self.gateway, self.tenant, self.key, self.member = gateway, tenant, key, member

    async def admin(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return await graphql(
            self.gateway.client, query, variables, token=admin_token(self.tenant.id)
        )


@pytest_asyncio.fixture(loop_scope="session")
async def shop(make_app: MakeApp, db: Database, tenant: Tenant) -> Shop:
    gateway = await onboarding_gateway(make_app)
    await enable(db, gateway, tenant)
    key = await pos_key(gateway.client, tenant.id)
    return Shop(gateway, tenant, key, await enrol(gateway.client, tenant.id, "ada@example.com"))


def assert_invalid(body: dict[str, Any], field: str) -> None:
    """INVALID_INPUT naming ``field``: a request error (what a variable or literal that does
    not coerce is)."""
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT", body
    assert error["extensions"]["field"] == field, body


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(naive=NAIVE, aware=st.sampled_from(["2026-01-01T00:00:00Z", "2026-01-01T01:00:00+01:00"]))
async def test_a_time_without_an_offset_is_refused_wherever_a_time_goes(
    shop: Shop, naive: str, aware: str
) -> None:
    body = await shop.admin(SIMULATE, {"i": {**SIMULATION, "since": naive}})
    assert_invalid(body, "i.since")
    literal = (
        f'mutation {{ campaignSimulate(input: {{since: "{aware}", until: "{naive}", '
        'definition: {trigger: "purchase", effects: [{kind: "points", params: {points: 3}}]}}) '
        "{ errors { code } } }"
    )
    assert_invalid(await shop.admin(literal), "input.until")
    window = {**DEFINITION, "window": {"endsAt": naive}}
    campaign = await shop.admin(
        "mutation($i: CampaignCreateInput!) { campaignCreate(input: $i) { errors { code } } }",
        {"i": {"name": "naive", "definition": window}},
    )
    assert_invalid(campaign, "i.definition.window.endsAt")
    assert_invalid(await shop.admin(FUNNEL, {"since": naive}), "since")  # a module's argument

    event = {
        "type": "purchase",
        "source": "till",
        "externalId": f"r-{uuid.uuid4()}",
        "memberId": shop.member,
        "payload": {"amount": 100, "currency": "EUR"},
        "occurredAt": naive,
    }
    body = await graphql(shop.gateway.client, INGEST, {"i": event}, api_key=shop.key)
    assert_invalid(body, "i.occurredAt")
    response = await shop.gateway.client.post(
        "/events",
        content=json.dumps(event).encode(),
        headers={"Content-Type": "application/x-ndjson", "X-Api-Key": shop.key},
    )
    [answer] = [json.loads(line) for line in response.content.splitlines()]
    assert answer["errors"] == [
        {
            "code": "INVALID_INPUT",
            "field": "occurredAt",
            "message": "a time needs its UTC offset (2026-11-23T21:48:48Z or +01:00)",
        }
    ]

    simulated = await shop.admin(SIMULATE, {"i": SIMULATION})
    assert simulated["data"]["campaignSimulate"]["errors"] == []  # with offsets, as before
