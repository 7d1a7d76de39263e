"""Event ingestion at the service level: idempotency, refunds pro rata, custom types."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from loyalty_core.db.engine import Database
from loyalty_core.errors import ErrorCode, LoyaltyError
from loyalty_core.events import service as events
from loyalty_core.events.builtin import BUILTIN_SCHEMAS
from loyalty_core.events.models import EventInput, IngestResult
from loyalty_core.ledger import service as ledger
from loyalty_core.members import service as members
from loyalty_core.modules.dispatch import DomainEvents
from loyalty_core.modules.manager import build_registry
from loyalty_core.tenants.models import Tenant

REGISTRY = build_registry(load_entry_points=False)


async def _member(db: Database, tenant: Tenant, email: str = "ada@example.com") -> str:
    async with db.tenant_transaction(tenant.id) as conn:
        member = await members.create_member(
            conn, tenant.id, identifiers=[("email", email)], actor="test"
        )
    return str(member.id)


async def _ingest(db: Database, tenant: Tenant, event: EventInput) -> IngestResult:
    async with db.tenant_transaction(tenant.id) as conn:
        ingestion = events.Ingestion(
            tenant=tenant,
            actor="test",
            now=datetime.now(UTC),
            domain_events=DomainEvents(REGISTRY, {}, db),
        )
        return await events.ingest(conn, ingestion, event)


def _purchase(external_id: str, amount: int, email: str = "ada@example.com") -> EventInput:
    return EventInput(
        type="purchase",
        source="pos-1",
        external_id=external_id,
        identifier=("email", email),
        payload={"amount": amount, "currency": "EUR", "orderReference": external_id},
    )


def _refund(external_id: str, purchase: str, amount: int) -> EventInput:
    return EventInput(
        type="refund",
        source="pos-1",
        external_id=external_id,
        identifier=("email", "ada@example.com"),
        payload={"amount": amount, "currency": "EUR", "purchaseExternalId": purchase},
    )


async def _available(db: Database, tenant: Tenant, member_id: str) -> int:
    import uuid

    async with db.tenant_transaction(tenant.id) as conn:
        balances = await ledger.balances(conn, tenant.id, uuid.UUID(member_id))
    return sum(b.available + b.pending for b in balances)


async def test_purchase_earns_base_points_per_currency_unit(db: Database, tenant: Tenant) -> None:
    member_id = await _member(db, tenant)
    result = await _ingest(db, tenant, _purchase("r-1", 12_345))
    assert not result.replayed
    assert len(result.transactions) == 1
    assert await _available(db, tenant, member_id) == 123


async def test_replayed_event_returns_first_result_and_writes_nothing(
    db: Database, tenant: Tenant
) -> None:
    member_id = await _member(db, tenant)
    first = await _ingest(db, tenant, _purchase("r-1", 5_000))
    again = await _ingest(db, tenant, _purchase("r-1", 5_000))
    assert again.replayed
    assert again.event.id == first.event.id
    assert [t.id for t in again.transactions] == [t.id for t in first.transactions]
    assert await _available(db, tenant, member_id) == 50


async def test_same_external_id_with_other_payload_is_a_conflict(
    db: Database, tenant: Tenant
) -> None:
    await _member(db, tenant)
    await _ingest(db, tenant, _purchase("r-1", 5_000))
    with pytest.raises(LoyaltyError) as caught:
        await _ingest(db, tenant, _purchase("r-1", 6_000))
    assert caught.value.code is ErrorCode.IDEMPOTENCY_CONFLICT


async def test_concurrent_replays_store_one_event(db: Database, tenant: Tenant) -> None:
    member_id = await _member(db, tenant)
    results = await asyncio.gather(
        *(_ingest(db, tenant, _purchase("r-1", 9_900)) for _ in range(10))
    )
    assert len({r.event.id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert await _available(db, tenant, member_id) == 99


async def test_refund_reverses_points_pro_rata_and_exactly_in_total(
    db: Database, tenant: Tenant
) -> None:
    member_id = await _member(db, tenant)
    await _ingest(db, tenant, _purchase("r-1", 10_000))  # 100 points
    await _ingest(db, tenant, _refund("f-1", "r-1", 3_333))
    assert await _available(db, tenant, member_id) == 100 - 33
    await _ingest(db, tenant, _refund("f-2", "r-1", 3_333))
    assert await _available(db, tenant, member_id) == 100 - 66
    await _ingest(db, tenant, _refund("f-3", "r-1", 3_334))
    assert await _available(db, tenant, member_id) == 0


async def test_refunding_more_than_was_bought_is_an_error_and_writes_nothing(
    db: Database, tenant: Tenant
) -> None:
    member_id = await _member(db, tenant)
    await _ingest(db, tenant, _purchase("r-1", 10_000))
    await _ingest(db, tenant, _refund("f-1", "r-1", 6_000))
    with pytest.raises(LoyaltyError) as caught:
        await _ingest(db, tenant, _refund("f-2", "r-1", 4_001))
    assert caught.value.code is ErrorCode.REFUND_EXCEEDS_PURCHASE
    assert await _available(db, tenant, member_id) == 40


async def test_concurrent_refunds_never_refund_more_than_the_purchase(
    db: Database, tenant: Tenant
) -> None:
    member_id = await _member(db, tenant)
    await _ingest(db, tenant, _purchase("r-1", 10_000))

    async def refund(n: int) -> bool:
        try:
            await _ingest(db, tenant, _refund(f"f-{n}", "r-1", 3_000))
        except LoyaltyError:
            return False
        return True

    outcomes = await asyncio.gather(*(refund(n) for n in range(8)))
    assert sum(outcomes) == 3
    assert await _available(db, tenant, member_id) == 10


async def test_custom_event_type_payload_is_checked_against_its_schema(
    db: Database, tenant: Tenant
) -> None:
    await _member(db, tenant)
    async with db.tenant_transaction(tenant.id) as conn:
        await events.save_event_type(
            conn,
            tenant.id,
            name="review_written",
            json_schema={
                "type": "object",
                "required": ["stars"],
                "properties": {"stars": {"type": "integer", "minimum": 1, "maximum": 5}},
            },
            description="A product review",
            module_types={},
            actor="test",
        )
    review = EventInput(
        type="review_written",
        source="web",
        external_id="rev-1",
        identifier=("email", "ada@example.com"),
        payload={"stars": 9},
    )
    with pytest.raises(LoyaltyError) as caught:
        await _ingest(db, tenant, review)
    assert caught.value.code is ErrorCode.SCHEMA_VIOLATION
    assert caught.value.field == "payload.stars"
    ok = await _ingest(db, tenant, EventInput(**{**review.__dict__, "payload": {"stars": 5}}))
    assert ok.transactions == []


async def test_unknown_event_type_is_refused(db: Database, tenant: Tenant) -> None:
    await _member(db, tenant)
    unknown = EventInput(
        type="teleported",
        source="web",
        external_id="x-1",
        identifier=("email", "ada@example.com"),
        payload={},
    )
    with pytest.raises(LoyaltyError) as caught:
        await _ingest(db, tenant, unknown)
    assert caught.value.code is ErrorCode.UNKNOWN_EVENT_TYPE


PAYLOADS = [
    {"amount": 1000, "currency": "EUR"},
    {"amount": 1000, "currency": "EUR", "store": "berlin-12", "orderReference": "r-1"},
    {"amount": 0, "currency": "EUR"},
    {"amount": 10**13, "currency": "EUR"},
    {"amount": 10.5, "currency": "EUR"},
    {"amount": "1000", "currency": "EUR"},
    {"amount": True, "currency": "EUR"},
    {"amount": 1000, "currency": "eur"},
    {"amount": 1000, "currency": "EURO"},
    {"amount": 1000, "currency": "EUR\n"},
    {"amount": 1000},
    {"amount": 1000, "currency": "EUR", "tip": 1},
    {"amount": 1000, "currency": "EUR", "store": ""},
    {"amount": 1000, "currency": "EUR", "items": [{"sku": "a", "quantity": 1, "unitPrice": 5}]},
    {"amount": 1000, "currency": "EUR", "items": [{"sku": "a", "quantity": 0, "unitPrice": 5}]},
    {"amount": 1000, "currency": "EUR", "items": [{"sku": "a"}]},
    {"amount": 1000, "currency": "EUR", "items": "none"},
    {"amount": 500, "currency": "EUR", "purchaseExternalId": "p-1"},
    {"amount": 500, "currency": "EUR", "purchaseExternalId": ""},
    {"amount": 500, "currency": "EUR", "purchaseExternalId": "p-1", "purchaseSource": "web"},
    {},
]


@pytest.mark.parametrize("type_", sorted(BUILTIN_SCHEMAS))
def test_the_quick_validator_of_a_builtin_type_agrees_with_the_reference(type_: str) -> None:
    """Built-in payloads are confirmed by jsonschema-rs and described by jsonschema: the two
    must accept exactly the same payloads (``EUR\\n`` once slipped past Python's ``$``)."""
    quick = events._QUICK_VALIDATORS[type_]
    reference = events._BUILTIN_VALIDATORS[type_]
    verdicts = [(quick.is_valid(p), reference.is_valid(p)) for p in PAYLOADS]
    assert [q for q, _ in verdicts] == [r for _, r in verdicts]
    assert any(q for q, _ in verdicts)
    assert not all(q for q, _ in verdicts)
