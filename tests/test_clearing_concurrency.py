"""Clearing under real concurrent transactions on PostgreSQL, through two gateway
instances: a period closes while partner purchases are ingested (each lands in exactly one
statement), two closes at once make one set of statements, concurrent awards never
overdraw a prepaid partner's block, crossing its reorder threshold announces once, and
partners made at once in a new currency share its one clearing asset."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from loyalty_clearing.tables import movements, point_blocks
from loyalty_core.db.engine import Database
from loyalty_core.ledger.tables import assets
from loyalty_core.outbox.tables import outbox
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, graphql
from sqlalchemy import func, select

from tests.clearing import (
    BLOCK_PURCHASE,
    CLOSE,
    PARTNER_CREATE,
    Coalition,
    clearing_balances,
    unclaimed,
)

MARCH = datetime(2026, 3, 20, 9, tzinfo=UTC)


async def test_a_close_during_ingestion_puts_every_movement_in_exactly_one_statement(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Coalition.open(make_app, db, tenant)
    second = await make_app()
    await town.partner("Bakery")
    await town.partner("Petrol")
    members = [await town.member() for _ in range(10)]
    gateways = [town.gateway, second]

    def purchase(n: int) -> Any:
        partner = ("Bakery", "Petrol")[n % 2]
        return town.purchase(partner, members[n % 10], 1_000 + n, MARCH, gateway=gateways[n % 2])

    closes = [
        graphql(gw.client, CLOSE, {"input": {"period": "2026-03-01"}}, token=admin_token(tenant.id))
        for gw in gateways
    ]
    results = await asyncio.gather(*(purchase(n) for n in range(50)), *closes)
    assert all(r["errors"] == [] for r in results[:50])
    first, other = (r["data"]["settlementClose"] for r in results[50:])
    assert sorted([first["replayed"], other["replayed"]]) == [False, True]
    assert {s["id"] for s in first["statements"]} == {s["id"] for s in other["statements"]}

    # what committed after the March claim is carried into the next close
    april = await town.close("2026-04-01")
    assert april["errors"] == [], april
    assert await unclaimed(db, tenant.id) == 0
    async with db.tenant_transaction(tenant.id) as conn:
        claimed = (
            await conn.execute(
                select(movements.c.statement_id, func.count(), func.sum(movements.c.amount))
                .where(movements.c.tenant_id == tenant.id)
                .group_by(movements.c.statement_id)
            )
        ).all()
    assert sum(count for _, count, _ in claimed) == 50
    statements = await town.statements()
    by_id = {s["id"]: s for s in statements}
    for statement_id, count, amount in claimed:
        s = by_id[str(statement_id)]
        assert s["lineCount"] == count
        assert s["closing"] - s["opening"] == amount
    assert sum(s["pointsIssued"] for s in statements) == sum(10 + 0 for _ in range(50))
    balances = (await clearing_balances(db, tenant.id))["clearing_eur"]
    latest = [s for s in statements if s["periodStartsOn"] == "2026-04-01"]
    assert sum(s["closing"] for s in latest) == -sum(
        v for k, v in balances.items() if k == "clearing"
    )


async def test_concurrent_awards_never_overdraw_a_prepaid_block(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Coalition.open(make_app, db, tenant)
    second = await make_app()
    shop = await town.partner("Bikes", ("ISSUER",), billing="PREPAID")
    bought = await town.mutate(
        BLOCK_PURCHASE,
        {"partnerId": shop, "points": 105, "price": 95, "idempotencyKey": "block-1"},
    )
    assert bought["errors"] == [], bought
    member = await town.member()
    gateways = [town.gateway, second]
    results = await asyncio.gather(
        *(town.purchase("Bikes", member, 1_000, MARCH, gateway=gateways[n % 2]) for n in range(50))
    )
    accepted = [r for r in results if r["errors"] == []]
    refused = {e["code"] for r in results for e in r["errors"]}
    assert len(accepted) == 10  # 10 points each from 105
    assert refused == {"POINT_BLOCKS_EXHAUSTED"}
    async with db.tenant_transaction(tenant.id) as conn:
        remaining = await conn.scalar(
            select(point_blocks.c.remaining).where(point_blocks.c.tenant_id == tenant.id)
        )
    assert remaining == 5


async def test_a_block_purchase_replays_and_a_refund_gives_points_back_to_the_block(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Coalition.open(make_app, db, tenant)
    shop = await town.partner("Bikes", ("ISSUER",), billing="PREPAID", reorderThreshold=50)
    block = {"partnerId": shop, "points": 100, "price": 90, "idempotencyKey": "block-1"}
    first = await town.mutate(BLOCK_PURCHASE, block)
    again = await town.mutate(BLOCK_PURCHASE, block)
    assert (first["replayed"], again["replayed"]) == (False, True)
    assert again["pointBlock"]["id"] == first["pointBlock"]["id"]
    clash = await town.mutate(BLOCK_PURCHASE, {**block, "points": 200})
    assert [e["code"] for e in clash["errors"]] == ["IDEMPOTENCY_CONFLICT"]

    member = await town.member()
    await town.purchase("Bikes", member, 6_000, MARCH, external_id="bike-1")  # 60 points
    alert = await town.admin(
        "query($id: ID!) { partner(id: $id) { reorderAlert pointBlocks { remaining } } }",
        {"id": shop},
    )
    assert alert["data"]["partner"] == {"reorderAlert": True, "pointBlocks": [{"remaining": 40}]}
    refunded = await town.refund("Bikes", member, "bike-1", 3_000, MARCH)  # 30 points back
    assert refunded["errors"] == [], refunded
    back = await town.admin(
        "query($id: ID!) { partner(id: $id) { reorderAlert position } }", {"id": shop}
    )
    assert back["data"]["partner"] == {"reorderAlert": False, "position": -90}


async def test_crossing_the_reorder_threshold_announces_once_under_concurrent_awards(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Coalition.open(make_app, db, tenant)
    second = await make_app()
    shop = await town.partner("Bikes", ("ISSUER",), billing="PREPAID", reorderThreshold=50)
    block = {"partnerId": shop, "points": 105, "price": 95, "idempotencyKey": "block-1"}
    assert (await town.mutate(BLOCK_PURCHASE, block))["errors"] == []
    member = await town.member()
    gateways = [town.gateway, second]
    results = await asyncio.gather(
        *(town.purchase("Bikes", member, 1_000, MARCH, gateway=gateways[n % 2]) for n in range(20))
    )
    assert sum(1 for r in results if r["errors"] == []) == 10  # 105 -> 5, past 50 once
    [alert] = await _reorder_alerts(db, tenant)
    assert (alert["partnerId"], alert["reorderThreshold"]) == (shop, 50)
    assert alert["pointsLeft"] == 45  # the one draw that went below: 55 -> 45
    shown = await town.admin(
        "query($id: ID!) { partner(id: $id) { reorderAlert reorderAlertedAt } }", {"id": shop}
    )
    assert shown["data"]["partner"]["reorderAlert"] is True
    assert shown["data"]["partner"]["reorderAlertedAt"] is not None

    # a new block lifts it above the threshold; the next crossing announces again
    block = {**block, "points": 100, "idempotencyKey": "block-2"}
    assert (await town.mutate(BLOCK_PURCHASE, block))["errors"] == []
    for _ in range(7):  # 105 -> 35
        assert (await town.purchase("Bikes", member, 1_000, MARCH))["errors"] == []
    assert len(await _reorder_alerts(db, tenant)) == 2


async def _reorder_alerts(db: Database, tenant: Tenant) -> list[dict[str, Any]]:
    async with db.tenant_transaction(tenant.id) as conn:
        rows = await conn.scalars(
            select(outbox.c.payload).where(
                outbox.c.tenant_id == tenant.id, outbox.c.topic == "clearing.reorder_alert"
            )
        )
        return list(rows)


async def test_partners_made_at_once_in_a_new_currency_share_its_clearing_asset(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Coalition.open(make_app, db, tenant)
    second = await make_app()
    gateways = [town.gateway, second]

    async def create(n: int) -> dict[str, Any]:
        body = await graphql(
            gateways[n % 2].client,
            PARTNER_CREATE,
            {"input": {"name": f"Kiosk {n}", "roles": ["ISSUER"], "currency": "CHF"}},
            token=admin_token(tenant.id),
        )
        assert "errors" not in body, body
        created: dict[str, Any] = body["data"]["partnerCreate"]
        return created

    results = await asyncio.gather(*(create(n) for n in range(8)))
    assert [r["errors"] for r in results] == [[]] * 8
    async with db.tenant_transaction(tenant.id) as conn:
        count = await conn.scalar(
            select(func.count())
            .select_from(assets)
            .where(assets.c.tenant_id == tenant.id, assets.c.code == "clearing_chf")
        )
    assert count == 1
