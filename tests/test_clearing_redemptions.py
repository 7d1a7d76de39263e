"""Redemptions at an acceptor through any path, and reversals that undo exactly what they
reverse: points paid as a payment's tender at a partner's till are reimbursed like
``pointsRedeem`` (the SDK's spend announces ``points.redeemed`` whoever spends), a refund of
that tender reverses the reimbursement and its fee pro rata, and a refund of an issuance
drawn from two prepaid blocks gives each block what was drawn from it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from loyalty_clearing.tables import movements, point_blocks
from loyalty_core.db.engine import Database
from loyalty_core.outbox.tables import outbox
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, enable_for
from sqlalchemy import func, select

from tests.api import pos_key
from tests.clearing import BLOCK_PURCHASE, Coalition
from tests.payments import SETTINGS, operate

MARCH = datetime(2026, 3, 20, 9, tzinfo=UTC)
ACCOUNT = """query($id: ID!) { partner(id: $id) { position
  movements(first: 50) { edges { node { kind points amount reason } } } } }"""


async def _account(town: Coalition, partner_id: str) -> dict[str, Any]:
    body = await town.admin(ACCOUNT, {"id": partner_id})
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["partner"]
    return found


def _lines(account: dict[str, Any]) -> list[tuple[str, int, int]]:
    return [
        (n["kind"], n["points"], n["amount"])
        for n in (e["node"] for e in account["movements"]["edges"])
    ]


async def test_points_paid_as_a_tender_at_an_acceptor_are_reimbursed_and_a_refund_reverses_it(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Coalition.open(make_app, db, tenant)
    await enable_for(db, town.gateway.registry, tenant, "payment", SETTINGS)
    petrol = await town.partner("Petrol", ("ACCEPTOR",), redeem="0.009")
    await town.rate(petrol, "0", "0.009", feePercent="10")
    member = await town.member(points=500)
    till = town.keys["Petrol"]

    authorized = await operate(
        town.gateway,
        till,
        "paymentAuthorize",
        orderReference="fuel-1",
        amount=400,
        currency="EUR",
        memberId=member,
        tenders=[{"tender": "POINTS"}],
        idempotencyKey="auth-1",
    )
    assert authorized["errors"] == [], authorized
    payment_id = authorized["payment"]["id"]
    assert _lines(await _account(town, petrol)) == []  # a hold is no redemption yet

    capture = {"paymentId": payment_id, "idempotencyKey": "cap-1"}
    captured = await operate(town.gateway, till, "paymentCapture", **capture)
    assert captured["errors"] == [], captured
    again = await operate(town.gateway, till, "paymentCapture", **capture)
    assert again["replayed"] is True
    # 400 points x 0.009 EUR = 3.60 EUR reimbursed, less the 10% fee
    assert _lines(await _account(town, petrol)) == [("REDEEMED", 400, 360), ("FEE", 0, -36)]

    refund = {"paymentId": payment_id, "amount": 150, "idempotencyKey": "ref-1"}
    refunded = await operate(town.gateway, till, "paymentRefund", **refund)
    assert refunded["errors"] == [], refunded
    rest = {"paymentId": payment_id, "idempotencyKey": "ref-2"}
    refunded = await operate(town.gateway, till, "paymentRefund", **rest)
    assert refunded["errors"] == [], refunded
    account = await _account(town, petrol)
    assert _lines(account)[2:] == [
        ("REVERSAL", -150, -135),
        ("FEE", 0, 14),  # 150/400 of 36 = 13.5, half to even
        ("REVERSAL", -250, -225),
        ("FEE", 0, 22),  # the rest of the fee: refunded in parts, undone to the unit
    ]
    assert account["position"] == 0

    async with db.tenant_transaction(tenant.id) as conn:
        topics = await conn.execute(
            select(outbox.c.topic, func.count())
            .where(outbox.c.tenant_id == tenant.id, outbox.c.topic.like("points.re%"))
            .group_by(outbox.c.topic)
        )
        assert dict(topics.all()) == {"points.redeemed": 1, "points.refunded": 2}


async def test_a_payment_at_the_operators_own_till_touches_no_partner(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Coalition.open(make_app, db, tenant)
    await enable_for(db, town.gateway.registry, tenant, "payment", SETTINGS)
    await town.partner("Petrol", ("ACCEPTOR",))
    member = await town.member(points=100)
    till = await pos_key(town.gateway.client, tenant.id)
    paid = await operate(
        town.gateway,
        till,
        "paymentAuthorize",
        orderReference="own-1",
        amount=100,
        currency="EUR",
        memberId=member,
        tenders=[{"tender": "POINTS"}],
        idempotencyKey="auth-own",
    )
    captured = await operate(
        town.gateway,
        till,
        "paymentCapture",
        paymentId=paid["payment"]["id"],
        idempotencyKey="cap-own",
    )
    assert captured["errors"] == [], captured
    async with db.tenant_transaction(tenant.id) as conn:
        count = await conn.scalar(
            select(func.count()).select_from(movements).where(movements.c.tenant_id == tenant.id)
        )
    assert count == 0


async def test_a_refund_gives_each_block_back_what_was_drawn_from_it(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Coalition.open(make_app, db, tenant)
    shop = await town.partner("Bikes", ("ISSUER",), billing="PREPAID")
    soon = {"expiresAt": datetime(2027, 1, 1, tzinfo=UTC).isoformat()}
    first = await town.mutate(
        BLOCK_PURCHASE,
        {"partnerId": shop, "points": 50, "price": 45, "idempotencyKey": "b-1", **soon},
    )
    second = await town.mutate(
        BLOCK_PURCHASE, {"partnerId": shop, "points": 100, "price": 90, "idempotencyKey": "b-2"}
    )
    ids = (first["pointBlock"]["id"], second["pointBlock"]["id"])
    member = await town.member()
    bought = await town.purchase("Bikes", member, 8_000, MARCH, external_id="bike-1")
    assert bought["errors"] == [], bought
    assert await _remaining(db, tenant, ids) == (0, 70)  # the first-expiring block first

    # in two parts: the last block drawn gets its points back first, then the first one
    for amount, expected in ((3_000, (0, 100)), (5_000, (50, 100))):
        refunded = await town.refund("Bikes", member, "bike-1", amount, MARCH)
        assert refunded["errors"] == [], refunded
        assert await _remaining(db, tenant, ids) == expected


async def _remaining(db: Database, tenant: Tenant, ids: tuple[str, str]) -> tuple[int, int]:
    async with db.tenant_transaction(tenant.id) as conn:
        rows = dict(
            (
                await conn.execute(
                    select(point_blocks.c.id, point_blocks.c.remaining).where(
                        point_blocks.c.tenant_id == tenant.id
                    )
                )
            ).all()
        )
    found = {str(k): int(v) for k, v in rows.items()}
    return found[ids[0]], found[ids[1]]
