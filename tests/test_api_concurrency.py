"""Concurrency through the HTTP API, on real PostgreSQL: no overdraft, one write per key,
also with two gateway instances on one database."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.ledger.tables import ledger_transactions
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, graphql
from sqlalchemy import func, select, text

from tests.api import POINTS_ADJUST, available, credit, enrol, pos_key

REDEEM = """
mutation($input: PointsRedeemInput!) {
  pointsRedeem(input: $input) {
    transaction { id kind reason createdAt }
    member { balances { asset { code } available pending } }
    errors { code field message }
  }
}
"""


def _redeem(member_id: str, key: str, amount: int = 30) -> dict[str, Any]:
    return {"input": {"memberId": member_id, "amount": amount, "idempotencyKey": key}}


async def _transactions(db: Database, tenant: Tenant) -> int:
    async with db.tenant_transaction(tenant.id) as conn:
        count = await conn.scalar(
            select(func.count()).where(ledger_transactions.c.tenant_id == tenant.id)
        )
    return int(count or 0)


async def _available(body: dict[str, Any]) -> int:
    return int(body["data"]["pointsRedeem"]["member"]["balances"][0]["available"])


async def test_fifty_concurrent_redemptions_of_thirty_from_a_hundred_leave_ten(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    member_id = await enrol(gateway.client, tenant.id, "ada@example.com")
    await credit(gateway.client, tenant.id, member_id, 100)
    key = await pos_key(gateway.client, tenant.id)

    bodies = await asyncio.gather(
        *(
            graphql(gateway.client, REDEEM, _redeem(member_id, f"spend-{n}"), api_key=key)
            for n in range(50)
        )
    )

    succeeded = [b for b in bodies if b["data"]["pointsRedeem"]["errors"] == []]
    refused = [b for b in bodies if b["data"]["pointsRedeem"]["errors"] != []]
    assert len(succeeded) == 3
    assert {b["data"]["pointsRedeem"]["errors"][0]["code"] for b in refused} == {
        "INSUFFICIENT_BALANCE"
    }
    assert await available(gateway.client, tenant.id, member_id) == 10


async def test_twenty_concurrent_requests_with_one_key_write_one_transaction(
    make_app: MakeApp, tenant: Tenant, db: Database
) -> None:
    gateway = await make_app()
    member_id = await enrol(gateway.client, tenant.id, "ada@example.com")
    await credit(gateway.client, tenant.id, member_id, 100)
    key = await pos_key(gateway.client, tenant.id)
    before = await _transactions(db, tenant)

    bodies = await asyncio.gather(
        *(
            graphql(gateway.client, REDEEM, _redeem(member_id, "till-7-receipt-42"), api_key=key)
            for _ in range(20)
        )
    )

    assert all(body == bodies[0] for body in bodies)
    assert bodies[0]["data"]["pointsRedeem"]["errors"] == []
    assert await _available(bodies[0]) == 70
    assert await _transactions(db, tenant) == before + 1


async def test_two_gateway_instances_share_the_guarantees(
    make_app: MakeApp, tenant: Tenant, db: Database
) -> None:
    first = await make_app()
    second = await make_app()
    member_id = await enrol(first.client, tenant.id, "ada@example.com")
    await credit(first.client, tenant.id, member_id, 100)
    key = await pos_key(first.client, tenant.id)
    clients = [first.client, second.client]

    spends = await asyncio.gather(
        *(
            graphql(clients[n % 2], REDEEM, _redeem(member_id, f"spend-{n}"), api_key=key)
            for n in range(50)
        )
    )
    assert sum(b["data"]["pointsRedeem"]["errors"] == [] for b in spends) == 3

    before = await _transactions(db, tenant)
    adjust = {
        "input": {
            "memberId": member_id,
            "amount": 5,
            "reason": "goodwill",
            "idempotencyKey": "once",
        }
    }
    replays = await asyncio.gather(
        *(
            graphql(clients[n % 2], POINTS_ADJUST, adjust, token=admin_token(tenant.id))
            for n in range(20)
        )
    )
    transaction_ids = {r["data"]["pointsAdjust"]["transaction"]["id"] for r in replays}
    assert len(transaction_ids) == 1
    assert sum(not r["data"]["pointsAdjust"]["replayed"] for r in replays) == 1
    assert await _transactions(db, tenant) == before + 1
    final = replays[0]["data"]["pointsAdjust"]["member"]["balances"][0]["available"]
    assert final == 15


BATCH = """
mutation($input: EventIngestBatchInput!) {
  eventIngestBatch(input: $input) {
    results { event { id } transactions { id } replayed errors { code field } }
    errors { code }
  }
}
"""


async def test_concurrent_batches_over_the_same_members_all_land_and_replay_once(
    make_app: MakeApp, tenant: Tenant
) -> None:
    """Batches commit a few events at a time; two over the same members in opposite orders
    lock the same accounts in opposite orders, and a chunk PostgreSQL aborts for a deadlock
    runs again, so every event lands once. Sending a batch again replays it."""
    gateway = await make_app()
    key = await pos_key(gateway.client, tenant.id)
    members = [await enrol(gateway.client, tenant.id, f"batch{n}@example.com") for n in range(6)]

    def batch(name: str, order: list[str]) -> dict[str, Any]:
        events = [_purchase(f"{name}-{n}", order[n % len(order)]) for n in range(120)]
        return {"input": {"events": events}}

    batches = [batch("a", members), batch("b", members[::-1]), batch("c", members[1::2] * 2)]
    answers = await asyncio.gather(
        *(graphql(gateway.client, BATCH, variables, api_key=key) for variables in batches)
    )

    results = [r for body in answers for r in body["data"]["eventIngestBatch"]["results"]]
    assert len(results) == 360
    assert all(r["errors"] == [] and not r["replayed"] for r in results)
    points = [await available(gateway.client, tenant.id, member) for member in members]
    assert sum(points) == 360 * (await _points_per_purchase(gateway, tenant, key))

    again = await graphql(gateway.client, BATCH, batches[0], api_key=key)
    replayed = again["data"]["eventIngestBatch"]["results"]
    assert all(r["replayed"] and r["errors"] == [] for r in replayed)
    assert [await available(gateway.client, tenant.id, member) for member in members] == points


async def _points_per_purchase(gateway: Any, tenant: Tenant, key: str) -> int:
    """What one purchase of 10.00 EUR earns under the tenant's rate, by ingesting one."""
    member = await enrol(gateway.client, tenant.id, "rate@example.com")
    variables = {"input": {"events": [_purchase("rate", member)]}}
    body = await graphql(gateway.client, BATCH, variables, api_key=key)
    assert body["data"]["eventIngestBatch"]["results"][0]["errors"] == []
    return await available(gateway.client, tenant.id, member)


def _purchase(external_id: str, member_id: str) -> dict[str, Any]:
    """A purchase of 10.00 EUR as a till sends it in a batch."""
    return {
        "type": "purchase",
        "source": "pos-batch",
        "externalId": external_id,
        "memberId": member_id,
        "payload": {"amount": 1000, "currency": "EUR"},
    }


async def test_a_batch_keeps_each_members_order_however_the_member_is_named(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    """Lanes run several members at once: a member named by id and by e-mail (in any case)
    stays in one lane, in the order given, and a refund sees the purchase sent before it in
    the batch."""
    gateway = await make_app()
    key = await pos_key(gateway.client, tenant.id)
    ada = await enrol(gateway.client, tenant.id, "ada@example.com")
    others = [await enrol(gateway.client, tenant.id, f"o{n}@example.com") for n in range(7)]
    by_email = {"kind": "EMAIL", "value": "Ada@Example.COM"}  # as stored once normalised

    def named(event: dict[str, Any], n: int) -> dict[str, Any]:
        if n % 2:
            return {**{k: v for k, v in event.items() if k != "memberId"}, "identifier": by_email}
        return event

    events = []
    for n in range(24):
        events.append(named(_purchase(f"ada-{n}", ada), n))
        events.append(_purchase(f"other-{n}", others[n % len(others)]))
    refund = {
        "type": "refund",
        "source": "pos-batch",
        "externalId": "ada-refund",
        "memberId": ada,
        "payload": {"amount": 1000, "currency": "EUR", "purchaseExternalId": "ada-23"},
    }
    body = await graphql(
        gateway.client, BATCH, {"input": {"events": [*events, refund]}}, api_key=key
    )

    results = body["data"]["eventIngestBatch"]["results"]
    assert [r["errors"] for r in results] == [[]] * 49
    async with db.tenant_transaction(tenant.id) as conn:
        stored = await conn.execute(
            text("SELECT external_id FROM events WHERE member_id = :m ORDER BY id"),
            {"m": uuid.UUID(ada)},
        )
        order = [row.external_id for row in stored]
    assert order == [f"ada-{n}" for n in range(24)] + ["ada-refund"]
    per_purchase = await _points_per_purchase(gateway, tenant, key)
    assert await available(gateway.client, tenant.id, ada) == 23 * per_purchase
