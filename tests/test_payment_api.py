"""Payments through the HTTP API: authorise, capture, void and refund with points and gift
cards; the amounts each tender holds, pays and gets back; idempotency; clean refusals."""

from __future__ import annotations

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant

from tests.api import available, credit, enrol, pos_key
from tests.fixtures.gateway import MakeApp
from tests.payments import operate, payment_gateway


async def test_points_authorize_capture_refund(make_app: MakeApp, db: Database, tenant: Tenant) -> None:
    gateway = await payment_gateway(make_app, db, tenant)
    key = await pos_key(gateway.client, tenant.id)
    member = await enrol(gateway.client, tenant.id, "pay@example.com")
    await credit(gateway.client, tenant.id, member, 500)

    authorized = await operate(
        gateway, key, "paymentAuthorize",
        orderReference="order-1", amount=800, currency="EUR", memberId=member,
        tenders=[{"tender": "POINTS"}], idempotencyKey="auth-1",
    )
    assert authorized["errors"] == [], authorized
    payment = authorized["payment"]
    assert (payment["held"], payment["amountDue"], payment["status"]) == (500, 300, "AUTHORIZED")
    assert await available(gateway.client, tenant.id, member) == 0

    captured = await operate(gateway, key, "paymentCapture", paymentId=payment["id"], amount=400, idempotencyKey="cap-1")
    assert captured["errors"] == [], captured
    assert await available(gateway.client, tenant.id, member) == 100

    refunded = await operate(gateway, key, "paymentRefund", paymentId=payment["id"], amount=150, idempotencyKey="ref-1")
    assert refunded["errors"] == [], refunded
    assert await available(gateway.client, tenant.id, member) == 250
    assert refunded["payment"]["refunded"] == 150
