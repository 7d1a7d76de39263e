"""Modules read typed domain events, and what they post shows in the answer.

A handler of ``event.ingested`` gets the purchase's amount, currency, store and items and a
refund's share of its purchase without reading a core table; what it posts through the SDK's
ledger is listed by ``eventIngest`` and ``POST /events`` beside the core's own transactions,
and a replay lists the same.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import orjson
from loyalty_core.db.engine import Database
from loyalty_core.events.models import StoredEvent
from loyalty_core.events.service import ingested
from loyalty_core.modules.contributions import DomainEvent
from loyalty_core.modules.manager import build_registry
from loyalty_core.modules.topics import EventIngested
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, RunningGateway, enable_for, graphql

from tests.api import enrol, pos_key
from tests.modules import cashback

INGEST = """
mutation($input: EventIngestInput!) {
  eventIngest(input: $input) {
    replayed transactions { id kind reason } errors { code field message }
  }
}
"""


async def _gateway(make_app: MakeApp, db: Database, tenant: Tenant) -> RunningGateway:
    gateway = await make_app(build_registry(plugins=[cashback], load_entry_points=False))
    await enable_for(db, gateway.registry, tenant, cashback.NAME, {"minimum_amount": 1000})
    return gateway


def _purchase(member_id: str, external_id: str, amount: int) -> dict[str, object]:
    return {
        "type": "purchase",
        "source": "till-1",
        "externalId": external_id,
        "memberId": member_id,
        "payload": {
            "amount": amount,
            "currency": "EUR",
            "store": "north",
            "items": [{"sku": "A-1", "quantity": 2, "unitPrice": amount // 2, "category": "food"}],
        },
    }


async def test_a_handler_reads_the_purchase_from_its_typed_payload(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await _gateway(make_app, db, tenant)
    member = await enrol(gateway.client, tenant.id, "typed@example.test")
    key = await pos_key(gateway.client, tenant.id)
    await graphql(gateway.client, INGEST, {"input": _purchase(member, "p-1", 2400)}, api_key=key)
    refund = {
        "type": "refund",
        "source": "till-1",
        "externalId": "r-1",
        "memberId": member,
        "payload": {"amount": 600, "currency": "EUR", "purchaseExternalId": "p-1"},
    }
    await graphql(gateway.client, INGEST, {"input": refund}, api_key=key)

    purchase, refunded = cashback.SEEN[-2:]
    assert (purchase.type, purchase.amount, purchase.currency, purchase.store) == (
        "purchase",
        2400,
        "EUR",
        "north",
    )
    assert purchase.member_id == uuid.UUID(member)
    assert [(i.sku, i.quantity, i.unit_price, i.category) for i in purchase.items] == [
        ("A-1", 2, 1200, "food")
    ]
    assert refunded.is_refund
    assert refunded.purchase_event_id == purchase.event_id
    assert refunded.refund_share == Decimal("0.25")


def test_a_payload_read_back_from_the_outbox_is_the_same_typed_payload() -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    stored = StoredEvent(
        id=uuid.uuid4(),
        type="purchase",
        source="s",
        external_id="e",
        member_id=uuid.uuid4(),
        occurred_at=now,
        payload={
            "amount": 500,
            "currency": "EUR",
            "items": [{"sku": "x", "quantity": 1, "unitPrice": 500}],
        },
        amount=500,
        currency="EUR",
        refunded_amount=0,
        purchase_id=None,
        created_at=now,
    )
    event = ingested(uuid.uuid4(), stored, [], actor="touchpoint:till")
    again = DomainEvent(event.topic, event.tenant_id, orjson.loads(orjson.dumps(event.payload)))
    assert EventIngested.of(again) == EventIngested.of(event)


async def test_what_a_module_posts_is_in_the_answer_and_in_its_replay(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await _gateway(make_app, db, tenant)
    member = await enrol(gateway.client, tenant.id, "answer@example.test")
    key = await pos_key(gateway.client, tenant.id)

    first = await graphql(
        gateway.client, INGEST, {"input": _purchase(member, "p-2", 1500)}, api_key=key
    )
    replay = await graphql(
        gateway.client, INGEST, {"input": _purchase(member, "p-2", 1500)}, api_key=key
    )
    small = await graphql(
        gateway.client, INGEST, {"input": _purchase(member, "p-3", 500)}, api_key=key
    )

    answered = first["data"]["eventIngest"]["transactions"]
    assert len(answered) == 2, answered  # the base earn and the module's cashback
    assert "cashback" in {t["reason"] for t in answered}
    assert replay["data"]["eventIngest"]["replayed"] is True
    assert {t["id"] for t in replay["data"]["eventIngest"]["transactions"]} == {
        t["id"] for t in answered
    }
    below_minimum = small["data"]["eventIngest"]["transactions"]
    assert len(below_minimum) == 1, below_minimum
    assert below_minimum[0]["reason"] != "cashback"


async def test_bulk_answers_list_what_a_module_posted(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await _gateway(make_app, db, tenant)
    members = [await enrol(gateway.client, tenant.id, f"bulk{i}@example.test") for i in range(3)]
    key = await pos_key(gateway.client, tenant.id)
    lines = [_purchase(m, f"b-{i}", 2000) for i, m in enumerate(members)]
    body = b"\n".join(orjson.dumps(line) for line in lines)
    response = await gateway.client.post(
        "/events",
        content=body,
        headers={"X-Api-Key": key, "Content-Type": "application/x-ndjson"},
    )
    answers = [orjson.loads(line) for line in response.content.splitlines() if line]
    assert len(answers) == 3, response.text
    for answer in answers:
        assert len(answer["transactions"]) == 2, answer
