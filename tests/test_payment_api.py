"""Payments through the HTTP API: authorise, capture, void and refund with points and gift
cards; the amounts each tender holds, pays and gets back; idempotency; clean refusals that
leave nothing behind; who may read which payment."""

from __future__ import annotations

import uuid
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, graphql, member_token

from tests.api import available, credit, enrol, pos_key
from tests.payments import (
    Shop,
    error_codes,
    operate,
    payment_gateway,
    read_payment,
    reconciles,
    row_counts,
)
from tests.test_giftcards_api import card_reconciles

POINTS = {"tender": "POINTS"}


def card(code: str, amount: int | None = None) -> dict[str, object]:
    """A GIFT_CARD tender: as much as the card can pay unless ``amount`` is given."""
    return {"tender": "GIFT_CARD", "code": code, **({} if amount is None else {"amount": amount})}


def tender_rows(payment: dict[str, object]) -> list[tuple[object, ...]]:
    """Each tender as (tender, held, captured, capturedUnits, refunded, refundedUnits)."""
    rows = payment["tenders"]
    assert isinstance(rows, list)
    return [
        (
            t["tender"],
            t["held"],
            t["captured"],
            t["capturedUnits"],
            t["refunded"],
            t["refundedUnits"],
        )
        for t in rows
    ]


async def test_points_authorize_capture_refund(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await payment_gateway(make_app, db, tenant)
    key = await pos_key(gateway.client, tenant.id)
    member = await enrol(gateway.client, tenant.id, "pay@example.com")
    await credit(gateway.client, tenant.id, member, 500)

    authorized = await operate(
        gateway,
        key,
        "paymentAuthorize",
        orderReference="order-1",
        amount=800,
        currency="EUR",
        memberId=member,
        tenders=[{"tender": "POINTS"}],
        idempotencyKey="auth-1",
    )
    assert authorized["errors"] == [], authorized
    payment = authorized["payment"]
    assert (payment["held"], payment["amountDue"], payment["status"]) == (500, 300, "AUTHORIZED")
    assert await available(gateway.client, tenant.id, member) == 0

    captured = await operate(
        gateway, key, "paymentCapture", paymentId=payment["id"], amount=400, idempotencyKey="cap-1"
    )
    assert captured["errors"] == [], captured
    assert await available(gateway.client, tenant.id, member) == 100

    refunded = await operate(
        gateway, key, "paymentRefund", paymentId=payment["id"], amount=150, idempotencyKey="ref-1"
    )
    assert refunded["errors"] == [], refunded
    assert await available(gateway.client, tenant.id, member) == 250
    assert refunded["payment"]["refunded"] == 150


async def test_partial_capture_then_partial_refunds_return_each_tender_its_share(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    """Capture takes from the tenders in order (points first), refunds go back pro rata to
    what each captured, and refunding the rest returns every point and cent exactly."""
    shop = await Shop.open(make_app, db, tenant, points=500)
    card_id, code = await shop.card(2000)

    authorized = await shop.authorize(1000, {"tender": "POINTS", "amount": 300}, card(code))
    assert authorized["errors"] == [], authorized
    payment = authorized["payment"]
    assert (payment["held"], payment["amountDue"]) == (1000, 0)
    assert [(t["tender"], t["held"], t["heldUnits"]) for t in payment["tenders"]] == [
        ("POINTS", 300, 300),
        ("GIFT_CARD", 700, 700),
    ]
    assert await shop.points() == (200, 300)
    assert await shop.funds(code) == (1300, 700)

    captured = await shop.operate(
        "paymentCapture", paymentId=payment["id"], amount=800, idempotencyKey="c"
    )
    assert captured["errors"] == [], captured
    assert captured["payment"]["status"] == "CAPTURED"
    assert tender_rows(captured["payment"]) == [
        ("POINTS", 300, 300, 300, 0, 0),
        ("GIFT_CARD", 700, 500, 500, 0, 0),
    ]
    assert await shop.points() == (200, 0)
    assert await shop.funds(code) == (1500, 0)  # the 200 not captured is released

    refunded = await shop.operate(
        "paymentRefund", paymentId=payment["id"], amount=400, idempotencyKey="r1"
    )
    assert refunded["errors"] == [], refunded
    assert tender_rows(refunded["payment"]) == [
        ("POINTS", 300, 300, 300, 150, 150),
        ("GIFT_CARD", 700, 500, 500, 250, 250),
    ]
    assert [(p["tender"], p["amount"], p["units"]) for p in refunded["operation"]["parts"]] == [
        ("POINTS", 150, 150),
        ("GIFT_CARD", 250, 250),
    ]
    assert await shop.points() == (350, 0)
    assert await shop.funds(code) == (1750, 0)

    too_much = await shop.operate(
        "paymentRefund", paymentId=payment["id"], amount=401, idempotencyKey="r2"
    )
    assert error_codes(too_much) == [("REFUND_EXCEEDS_CAPTURE", "amount")]

    rest = await shop.operate("paymentRefund", paymentId=payment["id"], idempotencyKey="r3")
    assert rest["errors"] == [], rest
    assert rest["payment"]["status"] == "REFUNDED"
    assert (rest["payment"]["captured"], rest["payment"]["refunded"]) == (800, 800)
    assert tender_rows(rest["payment"]) == [
        ("POINTS", 300, 300, 300, 300, 300),
        ("GIFT_CARD", 700, 500, 500, 500, 500),
    ]
    assert await shop.points() == (500, 0)
    assert await shop.funds(code) == (2000, 0)
    assert await card_reconciles(db, tenant, card_id) == 2000

    beyond = await shop.operate(
        "paymentRefund", paymentId=payment["id"], amount=1, idempotencyKey="r4"
    )
    assert error_codes(beyond) == [("REFUND_EXCEEDS_CAPTURE", "amount")]
    await reconciles(db, tenant)


async def test_one_insufficient_tender_holds_nothing_on_any_tender(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    """All or nothing: an exact amount one tender cannot hold fails the authorisation, and
    the other tender (locked, but not yet held) keeps its whole balance."""
    shop = await Shop.open(make_app, db, tenant, points=200)
    _, code = await shop.card(500)
    before = await row_counts(db, tenant)

    short_points = await shop.authorize(1000, {"tender": "POINTS", "amount": 300}, card(code))
    short_card = await shop.authorize(1000, POINTS, card(code, 600))
    card_first = await shop.authorize(1000, card(code, 501), {"tender": "POINTS", "amount": 100})

    assert error_codes(short_points) == [("INSUFFICIENT_BALANCE", "tenders.0.amount")]
    assert error_codes(short_card) == [("INSUFFICIENT_BALANCE", "tenders.1.amount")]
    assert error_codes(card_first) == [("INSUFFICIENT_BALANCE", "tenders.0.amount")]
    assert all(p["payment"] is None for p in (short_points, short_card, card_first))
    assert await shop.points() == (200, 0)
    assert await shop.funds(code) == (500, 0)
    assert await row_counts(db, tenant) == before
    await reconciles(db, tenant)


async def test_void_releases_the_holds_answers_a_second_void_alike_and_not_after_capture(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant, points=500)
    _, code = await shop.card(1000)
    first = (await shop.authorize(900, {"tender": "POINTS", "amount": 400}, card(code)))["payment"]
    assert await shop.points() == (100, 400)
    assert await shop.funds(code) == (500, 500)

    voided = await shop.operate("paymentVoid", paymentId=first["id"])
    again = await shop.operate("paymentVoid", paymentId=first["id"])

    assert voided["errors"] == again["errors"] == []
    assert (voided["replayed"], again["replayed"]) == (False, True)
    assert voided["payment"] == again["payment"]
    assert voided["operation"] == again["operation"]
    assert (voided["operation"]["kind"], voided["operation"]["amount"]) == ("VOID", 900)
    assert voided["payment"]["status"] == "VOIDED"
    assert await shop.points() == (500, 0)
    assert await shop.funds(code) == (1000, 0)
    late = await shop.operate("paymentCapture", paymentId=first["id"], idempotencyKey="late")
    assert error_codes(late) == [("INVALID_PAYMENT_STATE", "paymentId")]

    second = (await shop.authorize(300, POINTS))["payment"]
    captured = await shop.operate("paymentCapture", paymentId=second["id"], idempotencyKey="c")
    assert captured["errors"] == []
    refused = await shop.operate("paymentVoid", paymentId=second["id"])
    assert error_codes(refused) == [("INVALID_PAYMENT_STATE", "paymentId")]
    assert await shop.points() == (200, 0)
    assert (await read_payment(shop.gateway, second["id"], api_key=shop.key) or {})[
        "status"
    ] == "CAPTURED"
    await reconciles(db, tenant)


async def test_gift_card_tender_needs_the_gift_card_module_and_unknown_tenders_are_refused(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant, points=500, gift_cards=False)
    before = await row_counts(db, tenant)

    not_enabled = await shop.authorize(100, POINTS, card("ABCD-EFGH-IJKL-MNOP"))
    unknown = await shop.authorize(100, {"tender": "BITCOIN"})

    assert error_codes(not_enabled) == [("MODULE_NOT_ENABLED", "tenders.1.tender")]
    assert error_codes(unknown) == [("UNKNOWN_TENDER", "tenders.0.tender")]
    assert await shop.points() == (500, 0)
    assert await row_counts(db, tenant) == before


async def test_authorize_capture_and_refund_replay_by_key_and_refuse_another_request(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    """A replay answers the first request's payment and operation and writes nothing; the
    same key with another request is IDEMPOTENCY_CONFLICT."""
    shop = await Shop.open(make_app, db, tenant, points=500)
    _, code = await shop.card(1000)
    tenders = ({"tender": "POINTS", "amount": 200}, card(code))

    first = await shop.authorize(600, *tenders, idempotencyKey="a")
    counts = await row_counts(db, tenant)
    replay = await shop.authorize(600, *tenders, idempotencyKey="a")
    other = await shop.authorize(601, *tenders, idempotencyKey="a")

    assert (first["replayed"], replay["replayed"]) == (False, True)
    assert replay["payment"] == first["payment"]
    assert replay["operation"] == first["operation"]
    assert error_codes(other) == [("IDEMPOTENCY_CONFLICT", "idempotencyKey")]
    assert await row_counts(db, tenant) == counts == (1, 2, 2)
    assert await shop.points() == (300, 200)
    assert await shop.funds(code) == (600, 400)

    payment_id = first["payment"]["id"]
    captured = await shop.operate(
        "paymentCapture", paymentId=payment_id, amount=500, idempotencyKey="c"
    )
    recaptured = await shop.operate(
        "paymentCapture", paymentId=payment_id, amount=500, idempotencyKey="c"
    )
    conflict = await shop.operate(
        "paymentCapture", paymentId=payment_id, amount=400, idempotencyKey="c"
    )
    assert (captured["replayed"], recaptured["replayed"]) == (False, True)
    assert recaptured["operation"] == captured["operation"]
    assert recaptured["payment"]["captured"] == 500
    assert error_codes(conflict) == [("IDEMPOTENCY_CONFLICT", "idempotencyKey")]

    refunded = await shop.operate(
        "paymentRefund", paymentId=payment_id, amount=100, idempotencyKey="r"
    )
    rerefunded = await shop.operate(
        "paymentRefund", paymentId=payment_id, amount=100, idempotencyKey="r"
    )
    conflict = await shop.operate(
        "paymentRefund", paymentId=payment_id, amount=50, idempotencyKey="r"
    )
    assert (refunded["replayed"], rerefunded["replayed"]) == (False, True)
    assert rerefunded["payment"]["refunded"] == 100
    assert error_codes(conflict) == [("IDEMPOTENCY_CONFLICT", "idempotencyKey")]
    # 500 captured: 200 points, 300 card; 100 refunded pro rata: 40 points, 60 card.
    assert await shop.points() == (340, 0)
    assert await shop.funds(code) == (760, 0)
    found = await read_payment(shop.gateway, payment_id, api_key=shop.key)
    assert found is not None
    assert [op["kind"] for op in found["timeline"]] == ["AUTHORIZE", "CAPTURE", "REFUND"]
    await reconciles(db, tenant)


async def test_refused_requests_write_nothing(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant, points=500)
    authorized = (await shop.authorize(400, POINTS))["payment"]
    before = await row_counts(db, tenant)

    refusals = [
        (await shop.authorize(0, POINTS), ("INVALID_INPUT", "amount")),
        (await shop.authorize(-5, POINTS), ("INVALID_INPUT", "amount")),
        (await shop.authorize(100, POINTS, currency="EURO"), ("INVALID_INPUT", "currency")),
        (await shop.authorize(100, POINTS, currency="E1R"), ("INVALID_INPUT", "currency")),
        (await shop.authorize(100), ("INVALID_INPUT", "tenders")),
        (await shop.authorize(100, POINTS, memberId=None), ("INVALID_INPUT", "memberId")),
        (
            await shop.authorize(100, {"tender": "POINTS", "amount": 101}),
            ("INVALID_INPUT", "tenders.0.amount"),
        ),
        (
            await shop.authorize(100, {"tender": "POINTS", "amount": 0}),
            ("INVALID_INPUT", "tenders.0.amount"),
        ),
        (
            await shop.operate(
                "paymentCapture", paymentId=authorized["id"], amount=401, idempotencyKey="c"
            ),
            ("INVALID_INPUT", "amount"),
        ),
        (
            await shop.operate(
                "paymentCapture", paymentId=authorized["id"], amount=0, idempotencyKey="c"
            ),
            ("INVALID_INPUT", "amount"),
        ),
        (
            await shop.operate(
                "paymentRefund", paymentId=authorized["id"], amount=10, idempotencyKey="r"
            ),
            ("INVALID_PAYMENT_STATE", "paymentId"),
        ),
        (
            await shop.operate("paymentCapture", paymentId=str(uuid.uuid4()), idempotencyKey="c"),
            ("NOT_FOUND", "paymentId"),
        ),
    ]

    for payload, expected in refusals:
        assert error_codes(payload) == [expected], payload
        assert payload["payment"] is None
    assert await row_counts(db, tenant) == before
    assert await shop.points() == (100, 400)
    found = await read_payment(shop.gateway, authorized["id"], api_key=shop.key)
    assert found is not None
    assert (found["status"], found["captured"], len(found["timeline"])) == ("AUTHORIZED", 0, 1)


PAYMENTS = """
query($first: Int, $after: String, $status: PaymentStatus, $memberId: ID, $order: String) {
  payments(first: $first, after: $after, status: $status, memberId: $memberId,
           orderReference: $order) {
    edges { cursor node { id status orderReference } } pageInfo { hasNextPage endCursor }
  }
}
"""
MEMBER_PAYMENTS = "query($id: ID!) { member(id: $id) { payments { id status } } }"


async def test_payment_queries_filter_page_and_show_members_their_own_only(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant, points=1000)
    other = await enrol(shop.gateway.client, tenant.id, "other@example.com")
    await credit(shop.gateway.client, tenant.id, other, 100)
    ids = [
        (await shop.authorize(100, POINTS, orderReference=f"order-{n}"))["payment"]["id"]
        for n in range(3)
    ]
    theirs = (await shop.authorize(50, POINTS, memberId=other, orderReference="order-x"))["payment"]
    captured = await shop.operate("paymentCapture", paymentId=ids[0], amount=60, idempotencyKey="c")
    await shop.operate("paymentRefund", paymentId=ids[0], amount=10, idempotencyKey="r")
    assert captured["errors"] == []
    admin = admin_token(tenant.id)

    found = await read_payment(shop.gateway, ids[0], token=admin)
    assert found is not None
    assert [(op["kind"], op["amount"]) for op in found["timeline"]] == [
        ("AUTHORIZE", 100),
        ("CAPTURE", 60),
        ("REFUND", 10),
    ]
    [actor] = {op["actor"] for op in found["timeline"]}  # one till did all three
    assert actor.startswith("touchpoint:")
    assert [p["units"] for p in found["timeline"][1]["parts"]] == [60]

    async def page(**variables: object) -> dict[str, Any]:
        body = await graphql(shop.gateway.client, PAYMENTS, variables, token=admin)
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]["payments"]
        return result

    def node_ids(result: dict[str, Any]) -> list[str]:
        return [edge["node"]["id"] for edge in result["edges"]]

    first = await page(first=2, memberId=shop.member)
    assert node_ids(first) == [ids[2], ids[1]]  # newest first
    assert first["pageInfo"]["hasNextPage"] is True
    after = first["pageInfo"]["endCursor"]
    rest = await page(first=2, after=after, memberId=shop.member)
    assert node_ids(rest) == [ids[0]]
    assert rest["pageInfo"]["hasNextPage"] is False
    assert node_ids(await page(status="CAPTURED")) == [ids[0]]
    assert node_ids(await page(status="AUTHORIZED")) == [theirs["id"], ids[2], ids[1]]
    assert node_ids(await page(order="order-x")) == [theirs["id"]]
    assert node_ids(await page(memberId=other)) == [theirs["id"]]

    own = member_token(tenant.id, uuid.UUID(shop.member))
    body = await graphql(shop.gateway.client, MEMBER_PAYMENTS, {"id": shop.member}, token=own)
    assert [p["id"] for p in body["data"]["member"]["payments"]] == [ids[2], ids[1], ids[0]]
    assert (await read_payment(shop.gateway, ids[0], token=own) or {}).get("id") == ids[0]
    assert await read_payment(shop.gateway, theirs["id"], token=own) is None
    listed = await graphql(shop.gateway.client, PAYMENTS, {}, token=own)
    assert listed.get("data") is None or listed["data"]["payments"] is None, listed


async def test_a_capture_smaller_than_the_first_tender_leaves_the_card_untouched(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    """Capture in order of preference: 200 of a payment whose points hold 300 is all points,
    and the card's whole hold is released without moving anything."""
    shop = await Shop.open(make_app, db, tenant, points=500)
    card_id, code = await shop.card(1000)
    payment = (await shop.authorize(800, {"tender": "POINTS", "amount": 300}, card(code)))[
        "payment"
    ]

    captured = await shop.operate(
        "paymentCapture", paymentId=payment["id"], amount=200, idempotencyKey="c"
    )

    assert captured["errors"] == [], captured
    assert tender_rows(captured["payment"]) == [
        ("POINTS", 300, 200, 200, 0, 0),
        ("GIFT_CARD", 500, 0, 0, 0, 0),
    ]
    assert await shop.points() == (300, 0)
    assert await shop.funds(code) == (1000, 0)
    refunded = await shop.operate("paymentRefund", paymentId=payment["id"], idempotencyKey="r")
    assert refunded["errors"] == [], refunded
    assert await shop.points() == (500, 0)
    assert await card_reconciles(db, tenant, card_id) == 1000
    await reconciles(db, tenant)
