"""Payments under concurrency, on real PostgreSQL through the HTTP API: tills that
authorise against one balance at once (on one or two gateways) never over-commit it, replays
of one authorisation write it once, and the expiry job releases a lapsed authorisation once
however many runs race, while a late capture fails cleanly before and after it ran."""

from __future__ import annotations

import asyncio

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_giftcards.settings import GiftCardSettings
from loyalty_payment.jobs import expire_payments
from loyalty_payment.settings import PaymentSettings
from loyalty_testing import MakeApp, RunningGateway

from tests.jobs import job_context
from tests.payments import (
    SETTINGS,
    Shop,
    authorize,
    error_codes,
    expire_now,
    read_payment,
    reconciles,
    row_counts,
)
from tests.test_giftcards_api import SETTINGS as GIFT_CARD_SETTINGS
from tests.test_giftcards_api import card_reconciles


async def _twenty_tills(shop: Shop, gateways: list[RunningGateway]) -> None:
    """20 authorisations of exactly 30 points against 100: three fit, whatever the order."""
    answers = await asyncio.gather(
        *(
            authorize(
                gateways[n % len(gateways)],
                shop.key,
                amount=30,
                memberId=shop.member,
                tenders=[{"tender": "POINTS", "amount": 30}],
                orderReference=f"till-{n}",
            )
            for n in range(20)
        )
    )

    assert sum(a["errors"] == [] for a in answers) == 3
    refused = {code for a in answers for code in error_codes(a) if a["errors"]}
    assert refused == {("INSUFFICIENT_BALANCE", "tenders.0.amount")}
    assert await shop.points() == (10, 90)
    assert await row_counts(shop.db, shop.tenant) == (3, 3, 3)
    await reconciles(shop.db, shop.tenant)


async def test_twenty_concurrent_authorisations_never_over_commit_a_balance(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant, points=100, gift_cards=False)
    await _twenty_tills(shop, [shop.gateway])


async def test_two_gateway_instances_never_over_commit_a_balance(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant, points=100, gift_cards=False)
    await _twenty_tills(shop, [shop.gateway, await make_app()])


async def test_ten_concurrent_replays_of_one_authorisation_hold_once(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant, points=500)
    _, code = await shop.card(1000)
    gateways = [shop.gateway, await make_app()]

    answers = await asyncio.gather(
        *(
            authorize(
                gateways[n % 2],
                shop.key,
                amount=700,
                memberId=shop.member,
                tenders=[
                    {"tender": "POINTS", "amount": 200},
                    {"tender": "GIFT_CARD", "code": code},
                ],
                idempotencyKey="receipt-7",
            )
            for n in range(10)
        )
    )

    assert all(a["errors"] == [] for a in answers), answers
    assert sum(not a["replayed"] for a in answers) == 1
    assert {a["payment"]["id"] for a in answers} == {answers[0]["payment"]["id"]}
    assert await row_counts(db, tenant) == (1, 2, 2)
    assert await shop.points() == (300, 200)
    assert await shop.funds(code) == (500, 500)
    await reconciles(db, tenant)


async def test_a_lapsed_authorisation_cannot_be_captured_and_expires_once(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    """Before the job ran the holds are still in place, yet a capture already fails with
    PAYMENT_EXPIRED and moves nothing; two racing job runs release the holds once."""
    shop = await Shop.open(make_app, db, tenant, points=500, hold_minutes=1)
    card_id, code = await shop.card(1000)
    authorized = await shop.authorize(
        800, {"tender": "POINTS", "amount": 300}, {"tender": "GIFT_CARD", "code": code}
    )
    payment_id = authorized["payment"]["id"]
    await expire_now(db, tenant, payment_id)

    early = await shop.operate("paymentCapture", paymentId=payment_id, idempotencyKey="c1")
    assert error_codes(early) == [("PAYMENT_EXPIRED", "paymentId")]
    assert await shop.points() == (200, 300)
    assert await shop.funds(code) == (500, 500)

    context = job_context(
        db,
        tenant,
        PaymentSettings.model_validate({**SETTINGS, "hold_minutes": 1}),
        registry=shop.gateway.registry,
        enabled_modules={
            "payment": PaymentSettings.model_validate({**SETTINGS, "hold_minutes": 1}),
            "giftcards": GiftCardSettings.model_validate(GIFT_CARD_SETTINGS),
        },
    )
    runs = await asyncio.gather(expire_payments(context), expire_payments(context))

    assert sorted(runs) == [0, 1]
    assert await shop.points() == (500, 0)
    assert await shop.funds(code) == (1000, 0)
    found = await read_payment(shop.gateway, payment_id, api_key=shop.key)
    assert found is not None
    assert found["status"] == "EXPIRED"
    assert [(op["kind"], op["amount"]) for op in found["timeline"]] == [
        ("AUTHORIZE", 800),
        ("EXPIRE", 800),
    ]
    late = await shop.operate("paymentCapture", paymentId=payment_id, idempotencyKey="c2")
    void = await shop.operate("paymentVoid", paymentId=payment_id)
    assert error_codes(late) == error_codes(void) == [("PAYMENT_EXPIRED", "paymentId")]
    assert await shop.points() == (500, 0)
    assert await expire_payments(context) == 0
    await reconciles(db, tenant)
    assert await card_reconciles(db, tenant, card_id) == 1000
