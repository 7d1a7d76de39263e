"""Batches ingested a chunk at a time (``events.chunks``), over HTTP on real PostgreSQL: the
same rows and results as one event at a time, replays and refusals alone, campaigns that can
refuse and module handlers that do, and concurrent batches and redemptions that reconcile."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.events.batches import LANES
from loyalty_core.modules.manager import build_registry
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, enable_for, graphql
from sqlalchemy import text

from tests.api import available, credit
from tests.modules import vetoes
from tests.onboarding import (
    enable,
    enrol_member,
    enrolment_key,
    onboarding_gateway,
    referral_code,
)
from tests.test_rules_campaigns import INGEST, Shop

BATCH = """
mutation($input: EventIngestBatchInput!) {
  eventIngestBatch(input: $input) {
    results {
      event { id externalId memberId }
      transactions { kind reason cause { kind ruleId ruleVersion } }
      replayed
      errors { code field }
    }
    errors { code }
  }
}
"""
REDEEM = """
mutation($i: PointsRedeemInput!) { pointsRedeem(input: $i) { errors { code } } }
"""


def _event(external_id: str, member: str | None, amount: int = 1000, **rest: Any) -> dict[str, Any]:
    """A purchase from the till ``till``, of the member by id unless ``rest`` names them."""
    return {
        "type": "purchase",
        "source": "till",
        "externalId": external_id,
        **({"memberId": member} if member else {}),
        "payload": {"amount": amount, "currency": "EUR", "orderReference": external_id},
        **rest,
    }


async def _batch(shop: Shop, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    body = await graphql(shop.client, BATCH, {"input": {"events": events}}, api_key=shop.key)
    assert body["data"]["eventIngestBatch"]["errors"] == [], body
    results: list[dict[str, Any]] = body["data"]["eventIngestBatch"]["results"]
    return results


def _shape(transactions: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(t["kind"], t["reason"], t["cause"]["kind"]) for t in transactions]


async def _rows(db: Database, tenant: Tenant) -> dict[str, int]:
    """Rows of the tables an ingest writes, per table."""
    tables = ["events", "ledger_transactions", "ledger_lots", "ledger_entries", "rule_awards"]
    found: dict[str, int] = {}
    async with db.tenant_transaction(tenant.id) as conn:
        for table in [*tables, "outbox"]:
            query = f"SELECT count(*) FROM {table} WHERE tenant_id = :t"
            found[table] = int(await conn.scalar(text(query), {"t": tenant.id}) or 0)
    return found


async def _reconciles(db: Database, tenant: Tenant) -> None:
    """Every transaction balances, and every member account's balance equals its entries
    and its lots' remaining points."""
    async with db.tenant_transaction(tenant.id) as conn:
        unbalanced = await conn.scalar(
            text(
                "SELECT count(*) FROM (SELECT transaction_id FROM ledger_entries"
                " WHERE tenant_id = :t GROUP BY transaction_id HAVING sum(amount) <> 0) AS u"
            ),
            {"t": tenant.id},
        )
        drifted = await conn.scalar(
            text(
                "SELECT count(*) FROM ledger_accounts AS a WHERE a.tenant_id = :t"
                " AND a.member_id IS NOT NULL AND (a.balance <> (SELECT coalesce(sum(amount), 0)"
                " FROM ledger_entries AS e WHERE e.tenant_id = :t AND e.account_id = a.id)"
                " OR a.balance <> (SELECT coalesce(sum(remaining), 0) FROM ledger_lots AS l"
                " WHERE l.tenant_id = :t AND l.account_id = a.id))"
            ),
            {"t": tenant.id},
        )
    assert (unbalanced, drifted) == (0, 0)


async def test_a_batch_writes_what_one_event_at_a_time_writes(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    """Twin members: one pair's purchases in a batch, the other's one by one; with a
    multiplier and a conditional campaign running, both get the same transactions, the same
    rows and the same balances."""
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    await shop.campaign("Double", effects=[{"kind": "multiplier", "params": {"factor": "2"}}])
    await shop.campaign("Big basket", points=30, condition="event.amount >= 5000", pendingDays=14)
    batched = [await shop.member(f"b{n}@x.org") for n in range(4)]
    single = [await shop.member() for _ in range(4)]
    amounts = [1000, 6000, 250, 9999, 5000, 1]

    def events(members: list[str], prefix: str) -> list[dict[str, Any]]:
        return [
            _event(f"{prefix}-{n}", members[n % len(members)], amount)
            for n, amount in enumerate(amounts * 2)
        ]

    by_email = _event("b-3", None, amounts[3], identifier={"kind": "EMAIL", "value": "B3@x.org"})
    before = await _rows(db, tenant)
    results = await _batch(shop, [*events(batched, "b")[:3], by_email, *events(batched, "b")[4:]])
    middle = await _rows(db, tenant)
    one_by_one = []
    for event in events(single, "s"):
        body = await graphql(shop.client, INGEST, {"input": event}, api_key=shop.key)
        one_by_one.append(body["data"]["eventIngest"])

    assert [r["errors"] for r in results] == [[]] * len(results)
    assert [_shape(r["transactions"]) for r in results] == [
        [(k, reason.replace("s-", "b-"), c) for k, reason, c in _shape(r["transactions"])]
        for r in one_by_one
    ]
    assert results[3]["event"]["memberId"] == batched[3]
    assert [await shop.balance(m) for m in batched] == [await shop.balance(m) for m in single]
    after = await _rows(db, tenant)
    assert {t: middle[t] - before[t] for t in before} == {t: after[t] - middle[t] for t in after}
    await _reconciles(db, tenant)
    async with db.tenant_transaction(tenant.id) as conn:  # chunks: a commit per lane, not event
        commits = await conn.scalar(
            text("SELECT count(DISTINCT created_at) FROM events WHERE external_id LIKE 'b-%'")
        )
    assert (commits or 0) <= LANES


async def test_a_batch_of_a_custom_event_type_is_checked_against_its_schema(
    make_app: MakeApp, tenant: Tenant
) -> None:
    """A tenant's own event type in a batch: every event checked against its schema, and a
    campaign on its payload awarding as it does one event at a time."""
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant, rate="0")
    schema = {"type": "object", "properties": {"stars": {"type": "integer", "maximum": 5}}}
    saved = await shop.admin_call(
        'mutation($s: JSON!) { eventTypeSave(input: {name: "review", jsonSchema: $s})'
        " { errors { code } } }",
        {"s": schema},
    )
    assert saved["eventTypeSave"]["errors"] == []
    await shop.campaign(trigger="review", points=20, condition="event.payload.stars >= 4")
    ada, bob = await shop.member(), await shop.member()
    reviews = [
        {**_event(f"r-{n}", (ada, bob)[n % 2]), "type": "review", "payload": {"stars": n}}
        for n in range(7)
    ]

    results = await _batch(shop, reviews)

    codes = [[e["code"] for e in r["errors"]] for r in results]
    assert codes == [[]] * 6 + [["SCHEMA_VIOLATION"]]
    rewarded = [sum(t["cause"]["kind"] == "rule" for t in r["transactions"]) for r in results]
    assert rewarded == [0, 0, 0, 0, 1, 1, 0]
    assert (await shop.balance(ada), await shop.balance(bob)) == (20, 20)


async def test_replays_conflicts_and_refusals_in_a_batch_stand_alone(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    """Each event gets what ``eventIngest`` would answer it; sending the batch again replays
    what was written and writes nothing."""
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    ada, bob, eve = [await shop.member() for _ in range(3)]
    blocked = await shop.admin_call(
        "mutation($i: MemberUpdateInput!) { memberUpdate(input: $i) { errors { code } } }",
        {"i": {"id": eve, "status": "BLOCKED"}},
    )
    assert blocked["memberUpdate"]["errors"] == []
    events = [
        _event("p-1", ada),
        _event("p-1", ada),  # the same again: replays the first
        _event("p-1", ada, 2000),  # the same id, another payload
        _event("p-2", str(uuid.uuid4())),
        _event("p-3", eve),
        {**_event("p-4", bob), "payload": {"amount": "ten", "currency": "EUR"}},
        _event("p-5", None, identifier={"kind": "EMAIL", "value": "nobody@example.com"}),
        _event("p-6", bob),
        _event("p-7", ada),
    ]
    before = await _rows(db, tenant)

    first = await _batch(shop, events)
    second = await _batch(shop, events)

    codes = [[e["code"] for e in r["errors"]] for r in first]
    assert codes == [
        [],
        [],
        ["IDEMPOTENCY_CONFLICT"],
        ["NOT_FOUND"],
        ["MEMBER_NOT_ACTIVE"],
        ["SCHEMA_VIOLATION"],
        ["NOT_FOUND"],
        [],
        [],
    ]
    assert [r["replayed"] for r in first] == [False, True] + [False] * 7
    assert [[e["code"] for e in r["errors"]] for r in second] == codes
    assert [r["replayed"] for r in second if not r["errors"]] == [True] * 4
    assert first[1]["event"] == first[0]["event"] == second[0]["event"]
    assert first[1]["transactions"] == first[0]["transactions"]
    after = await _rows(db, tenant)
    assert after["events"] - before["events"] == 3
    assert after["ledger_transactions"] - before["ledger_transactions"] == 3
    assert await shop.balance(ada) == 20
    assert await _rows(db, tenant) == after
    await _reconciles(db, tenant)


async def test_a_campaign_that_can_refuse_counts_every_event_of_the_batch(
    make_app: MakeApp, tenant: Tenant
) -> None:
    """A campaign with a limit decides event by event: two awards a day, then none."""
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    await shop.campaign(points=10, limits=[{"period": "DAY", "maxAwards": 2}])
    ada, bob = await shop.member(), await shop.member()

    results = await _batch(shop, [_event(f"e-{n}", (ada, bob)[n % 2]) for n in range(10)])

    assert [r["errors"] for r in results] == [[]] * 10
    rewarded = [sum(t["cause"]["kind"] == "rule" for t in r["transactions"]) for r in results]
    assert rewarded == [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    assert [await shop.balance(m) for m in (ada, bob)] == [5 * 10 + 20, 5 * 10 + 20]


async def test_an_event_refused_while_ingested_sends_its_chunk_one_at_a_time(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    """A module's handler refuses an event in the middle of a chunk: the chunk rolls back,
    and its events are ingested one by one, so only the refused one fails."""
    registry = build_registry(plugins=[vetoes], load_entry_points=False)
    gateway = await make_app(registry)
    await enable_for(db, registry, tenant, vetoes.NAME)
    shop = await Shop.open(gateway.client, tenant)
    ada, bob = await shop.member(), await shop.member()
    claim = {**_event("c-1", bob), "type": vetoes.VETOED, "payload": {}}
    before = await _rows(db, tenant)

    results = await _batch(
        shop, [_event("a-1", ada), claim, _event("a-2", ada), _event("b-1", bob)]
    )

    assert [[(e["code"], e["field"]) for e in r["errors"]] for r in results] == [
        [],
        [("INVALID_INPUT", "events[1].type")],
        [],
        [],
    ]
    assert (await shop.balance(ada), await shop.balance(bob)) == (20, 10)
    assert (await _rows(db, tenant))["events"] - before["events"] == 3


async def test_concurrent_batches_and_redemptions_reconcile(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    """Three batches over the same twelve members in different orders, on two gateways,
    while their members redeem: every event lands once, no redemption overdraws, and the
    ledger reconciles."""
    first, second = await make_app(), await make_app()
    shop = await Shop.open(first.client, tenant)
    members = [await shop.member() for _ in range(12)]
    for member in members:
        await credit(first.client, tenant.id, member, 50)

    def batch(name: str, order: list[str]) -> list[dict[str, Any]]:
        return [_event(f"{name}-{n}", order[n % len(order)]) for n in range(120)]

    async def redeem(client: Any, member: str, key: str) -> bool:
        variables = {"i": {"memberId": member, "amount": 30, "idempotencyKey": key}}
        body = await graphql(client, REDEEM, variables, api_key=shop.key)
        return not body["data"]["pointsRedeem"]["errors"]

    clients = [first.client, second.client]
    orders = [members, members[::-1], members[5:] + members[:5]]
    answers = await asyncio.gather(
        *(
            graphql(
                clients[n % 2], BATCH, {"input": {"events": batch(f"{n}", order)}}, api_key=shop.key
            )
            for n, order in enumerate(orders)
        ),
        *(redeem(clients[n % 2], m, f"r-{n}") for n, m in enumerate(members * 2)),
    )

    results = [r for body in answers[:3] for r in body["data"]["eventIngestBatch"]["results"]]
    assert [r["errors"] for r in results] == [[]] * 360
    redeemed = answers[3:]
    for n, member in enumerate(members):
        spent = 30 * sum(redeemed[i] for i in (n, n + len(members)))
        assert await available(first.client, tenant.id, member) == 50 + 30 * 10 - spent
    await _reconciles(db, tenant)


async def test_a_referral_is_paid_once_from_a_batch(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    """The onboarding module's in-transaction handler, run for each event of a chunk, pays a
    referral on the referee's first purchase of the batch and never again."""
    gateway = await onboarding_gateway(make_app)
    await enable(db, gateway, tenant, referrer_reward=500, referee_reward=200, referral_cap=1)
    client = gateway.client
    key = await enrolment_key(client, tenant.id)
    referrer = await enrol_member(client, tenant.id, key, email="ref@example.com")
    code = await referral_code(client, tenant, referrer)
    referee = await enrol_member(client, tenant.id, key, email="new@example.com", referralCode=code)
    shop = await Shop.open(client, tenant)
    others = [await shop.member() for _ in range(3)]
    events = [_event(f"p-{n}", [referee, *others][n % 4]) for n in range(12)]

    results = await _batch(shop, events)
    again = await _batch(shop, events)

    assert [r["errors"] for r in results + again] == [[]] * 24
    assert await available(client, tenant.id, referrer) == 500
    assert await available(client, tenant.id, referee) == 200 + 3 * 10
    await _reconciles(db, tenant)
