"""After an erasure the member is closed in every module: nothing acts for it any more, its
token stops working, value that comes back after it goes to breakage, what was open is
closed through each module's own path, and erasing again is a replay that writes nothing."""

from __future__ import annotations

import uuid
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.db.tables import audit_log, outbox
from loyalty_core.ledger.tables import ledger_accounts, ledger_entries
from loyalty_core.tenants.models import Tenant
from loyalty_testing import RunningGateway, admin_token, graphql, member_token
from sqlalchemy import func, select

from tests.api import enrol
from tests.payments import Shop, error_codes, read_payment, reconciles
from tests.test_giftcards_api import ISSUE

ERASE = """
mutation($i: MemberEraseInput!) {
  memberErase(input: $i) { erased rows replayed errors { code field } }
}
"""
ASSIGN = """
mutation($i: GiftCardAssignInput!) { giftCardAssign(input: $i) { errors { code field } } }
"""
BLOCK = """
mutation($i: MemberUpdateInput!) { memberUpdate(input: $i) { errors { code field } } }
"""
VIEWER = "{ viewer { role member { id } } }"


async def erase(gateway: RunningGateway, tenant: Tenant, member: str) -> dict[str, Any]:
    body = await graphql(
        gateway.client, ERASE, {"i": {"memberId": member}}, token=admin_token(tenant.id)
    )
    payload: dict[str, Any] = body["data"]["memberErase"]
    return payload


async def test_no_module_acts_for_an_erased_or_blocked_member(
    make_app: Any, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant, points=500)
    blocked = await enrol(shop.gateway.client, tenant.id, f"b{uuid.uuid4().hex[:8]}@example.com")
    updated = await graphql(
        shop.gateway.client,
        BLOCK,
        {"i": {"id": blocked, "status": "BLOCKED"}},
        token=admin_token(tenant.id),
    )
    assert updated["data"]["memberUpdate"]["errors"] == []
    assert (await erase(shop.gateway, tenant, shop.member))["erased"] is True
    card_id, _ = await shop.card(1_000)

    for member in (shop.member, blocked):
        issued = await graphql(
            shop.gateway.client,
            ISSUE,
            {"input": {"amount": 500, "currency": "EUR", "memberId": member}},
            token=admin_token(tenant.id),
        )
        assert error_codes(issued["data"]["giftCardIssue"]) == [("MEMBER_NOT_ACTIVE", "memberId")]
        assigned = await graphql(
            shop.gateway.client,
            ASSIGN,
            {"i": {"id": card_id, "memberId": member}},
            token=admin_token(tenant.id),
        )
        assert error_codes(assigned["data"]["giftCardAssign"]) == [
            ("MEMBER_NOT_ACTIVE", "memberId")
        ]
        paid = await shop.authorize(500, {"tender": "POINTS"}, memberId=member)
        assert error_codes(paid) == [("MEMBER_NOT_ACTIVE", "memberId")]


async def test_an_erased_members_token_stops_working_at_once(
    make_app: Any, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    token = member_token(tenant.id, uuid.UUID(shop.member))
    before = await graphql(shop.gateway.client, VIEWER, token=token)
    assert before["data"]["viewer"]["member"] == {"id": shop.member}  # now cached as active

    assert (await erase(shop.gateway, tenant, shop.member))["erased"] is True
    await shop.gateway.state.notifier.sync()

    after = await graphql(shop.gateway.client, VIEWER, token=token)
    assert after.get("data") is None
    assert after["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    other = await enrol(shop.gateway.client, tenant.id, f"o{uuid.uuid4().hex[:8]}@example.com")
    still = await graphql(
        shop.gateway.client, VIEWER, token=member_token(tenant.id, uuid.UUID(other))
    )
    assert still["data"]["viewer"]["member"] == {"id": other}


async def test_points_refunded_after_erasure_go_to_breakage(
    make_app: Any, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant, points=1_000)
    paid = await shop.authorize(400, {"tender": "POINTS"})
    payment_id = paid["payment"]["id"]
    captured = await shop.operate(
        "paymentCapture", paymentId=payment_id, idempotencyKey="capture-1"
    )
    assert captured["errors"] == []
    assert (await erase(shop.gateway, tenant, shop.member))["erased"] is True
    breakage_before = await _breakage(db, tenant)

    refunded = await shop.operate("paymentRefund", paymentId=payment_id, idempotencyKey="r-1")

    assert refunded["errors"] == []
    assert await shop.points() == (0, 0)
    assert await _breakage(db, tenant) == breakage_before + 400
    await reconciles(db, tenant)


async def test_erasure_voids_open_payments_through_their_tenders(
    make_app: Any, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant, points=1_000)
    _, code = await shop.card(2_000)
    paid = await shop.authorize(
        1_500, {"tender": "GIFT_CARD", "code": code, "amount": 1_000}, {"tender": "POINTS"}
    )
    assert paid["errors"] == []

    assert (await erase(shop.gateway, tenant, shop.member))["erased"] is True

    payment = await read_payment(shop.gateway, paid["payment"]["id"], api_key=shop.key)
    assert payment is not None
    assert payment["status"] == "VOIDED"
    void = payment["timeline"][-1]
    assert void["kind"] == "VOID"
    assert sorted(part["tender"] for part in void["parts"]) == ["GIFT_CARD", "POINTS"]
    assert await shop.funds(code) == (2_000, 0)
    events = await graphql(
        shop.gateway.client,
        "query($code: String!) { giftCard(code: $code) { events { kind } } }",
        {"code": code},
        api_key=shop.key,
    )
    assert [e["kind"] for e in events["data"]["giftCard"]["events"]][-1] == "RELEASED"
    await reconciles(db, tenant)


async def test_erasing_twice_is_a_replay_that_writes_nothing(
    make_app: Any, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant, points=100)
    first = await erase(shop.gateway, tenant, shop.member)
    assert (first["erased"], first["replayed"]) == (True, False)
    written = await _erasure_records(db, tenant)

    again = await erase(shop.gateway, tenant, shop.member)

    assert again == {"erased": True, "rows": None, "replayed": True, "errors": []}
    assert await _erasure_records(db, tenant) == written == (1, 1)


async def _breakage(db: Database, tenant: Tenant) -> int:
    async with db.tenant_transaction(tenant.id) as conn:
        total = await conn.scalar(
            select(func.coalesce(func.sum(ledger_entries.c.amount), 0))
            .select_from(
                ledger_entries.join(
                    ledger_accounts,
                    (ledger_accounts.c.tenant_id == ledger_entries.c.tenant_id)
                    & (ledger_accounts.c.id == ledger_entries.c.account_id),
                )
            )
            .where(ledger_entries.c.tenant_id == tenant.id, ledger_accounts.c.purpose == "breakage")
        )
    return int(total or 0)


async def _erasure_records(db: Database, tenant: Tenant) -> tuple[int, int]:
    """(member.erased events in the outbox, member.erase lines in the audit log)."""
    async with db.tenant_transaction(tenant.id) as conn:
        events = await conn.scalar(
            select(func.count()).where(
                outbox.c.tenant_id == tenant.id, outbox.c.topic == "member.erased"
            )
        )
        audits = await conn.scalar(
            select(func.count()).where(
                audit_log.c.tenant_id == tenant.id, audit_log.c.action == "member.erase"
            )
        )
    return int(events or 0), int(audits or 0)
