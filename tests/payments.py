"""Helpers for the payment tests: a gateway with the payment module (and gift cards) enabled,
and the four operations through the API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.ledger.tables import ledger_accounts, ledger_entries, ledger_holds, ledger_lots
from loyalty_core.tenants.models import Tenant
from loyalty_payment.tables import payments, tenders
from loyalty_testing import MakeApp, RunningGateway, admin_token, enable_for, graphql
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.api import credit, enrol, pos_key
from tests.test_giftcards_api import issue

SETTINGS: dict[str, object] = {
    "point_values": [{"asset": "points", "currency": "EUR", "value": "1"}],
    "hold_minutes": 30,
}
PAYMENT = """
id status amount currency held captured refunded amountDue expiresAt memberId orderReference
tenders { position tender label held heldUnits captured capturedUnits refunded refundedUnits }
timeline { kind amount actor parts { position tender amount units transactionId } }
"""
PAYLOAD = (
    f"payment {{ {PAYMENT} }} operation {{ kind amount parts {{ tender amount units }} }} "
    "replayed errors { code field message }"
)
OPERATIONS = {
    name: f"mutation($input: {name[0].upper()}{name[1:]}Input!) "
    f"{{ {name}(input: $input) {{ {PAYLOAD} }} }}"
    for name in ("paymentAuthorize", "paymentCapture", "paymentVoid", "paymentRefund")
}


async def payment_gateway(
    make_app: MakeApp,
    db: Database,
    tenant: Tenant,
    *,
    gift_cards: bool = False,
    **settings: object,
) -> RunningGateway:
    """A gateway with payments enabled for ``tenant`` (settings over the defaults above)."""
    gateway = await make_app()
    await enable_for(db, gateway.registry, tenant, "payment", {**SETTINGS, **settings})
    if gift_cards:
        await enable_for(
            db,
            gateway.registry,
            tenant,
            "giftcards",
            {"currencies": ["EUR"], "max_balance": 100_000},
        )
    return gateway


async def operate(gateway: RunningGateway, key: str, name: str, **fields: Any) -> dict[str, Any]:
    """Run one payment operation with a till's key; its payload."""
    body = await graphql(gateway.client, OPERATIONS[name], {"input": fields}, api_key=key)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"][name]
    return payload


async def authorize(gateway: RunningGateway, key: str, **fields: Any) -> dict[str, Any]:
    """``paymentAuthorize`` with an EUR order and a fresh idempotency key unless given."""
    defaults: dict[str, Any] = {
        "orderReference": "order-1",
        "currency": "EUR",
        "idempotencyKey": f"auth-{uuid.uuid4()}",
    }
    return await operate(gateway, key, "paymentAuthorize", **{**defaults, **fields})


def error_codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    """A payload's errors as (code, field) pairs, the part the tests compare."""
    return [(error["code"], error["field"]) for error in payload["errors"]]


async def balance(gateway: RunningGateway, tenant: Tenant, member: str) -> tuple[int, int]:
    """(available, held) of the member's points, as a tenant admin reads them."""
    body = await graphql(
        gateway.client,
        "query($id: ID!) { member(id: $id) { balances { asset { code } available held } } }",
        {"id": member},
        token=admin_token(tenant.id),
    )
    balances = body["data"]["member"]["balances"]
    [found] = [b for b in balances if b["asset"]["code"] == "points"]
    return int(found["available"]), int(found["held"])


async def card_funds(gateway: RunningGateway, key: str, code: str) -> tuple[int, int]:
    """(balance, held) of a gift card, as a till reads it by code."""
    body = await graphql(
        gateway.client,
        "query($code: String!) { giftCard(code: $code) { balance held } }",
        {"code": code},
        api_key=key,
    )
    card = body["data"]["giftCard"]
    return int(card["balance"]), int(card["held"])


async def read_payment(
    gateway: RunningGateway,
    payment_id: str,
    *,
    token: str | None = None,
    api_key: str | None = None,
) -> dict[str, Any] | None:
    """``payment(id)`` with its tenders and timeline (None when the caller may not see it)."""
    body = await graphql(
        gateway.client,
        f"query($id: ID!) {{ payment(id: $id) {{ {PAYMENT} }} }}",
        {"id": payment_id},
        token=token,
        api_key=api_key,
    )
    assert "errors" not in body, body
    found: dict[str, Any] | None = body["data"]["payment"]
    return found


async def row_counts(db: Database, tenant: Tenant) -> tuple[int, int, int]:
    """How many payments, tenders and ledger holds the tenant has: what a refused request
    must leave unchanged."""
    async with db.tenant_transaction(tenant.id) as conn:
        counts = [
            int(await conn.scalar(select(func.count()).where(table.c.tenant_id == tenant.id)) or 0)
            for table in (payments, tenders, ledger_holds)
        ]
    return counts[0], counts[1], counts[2]


async def expire_now(db: Database, tenant: Tenant, payment_id: str) -> None:
    """Move an authorisation's expiry into the past, as if its hold minutes had passed."""
    async with db.tenant_transaction(tenant.id) as conn:
        await conn.execute(
            update(payments)
            .where(payments.c.tenant_id == tenant.id, payments.c.id == uuid.UUID(payment_id))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )


async def ledger_reconciles(conn: AsyncConnection, tenant_id: uuid.UUID) -> None:
    """The ledger's invariants with holds: per asset and per transaction the entries sum to
    zero; an account that keeps its balance holds what its entries say, a member account
    also what its lots keep; ``held`` is the sum of the account's open holds and lies
    between zero and the balance; an account that keeps no balance holds nothing."""
    entries = ledger_entries.c
    per_asset = await conn.execute(
        select(entries.asset_id, func.sum(entries.amount))
        .where(entries.tenant_id == tenant_id)
        .group_by(entries.asset_id)
    )
    assert [total for _, total in per_asset if total != 0] == []
    unbalanced = await conn.execute(
        select(entries.transaction_id)
        .where(entries.tenant_id == tenant_id)
        .group_by(entries.transaction_id, entries.asset_id)
        .having(func.sum(entries.amount) != 0)
    )
    assert unbalanced.all() == []
    holds = ledger_holds.c
    open_holds = {
        row.account_id: int(row.total)
        for row in await conn.execute(
            select(holds.account_id, func.sum(holds.amount).label("total"))
            .where(holds.tenant_id == tenant_id, holds.status == "held")
            .group_by(holds.account_id)
        )
    }
    accounts = await conn.execute(
        select(ledger_accounts).where(ledger_accounts.c.tenant_id == tenant_id)
    )
    for account in accounts:
        held = int(open_holds.get(account.id, 0))
        assert account.held == held, (account.purpose, account.owner_ref, account.held, held)
        if not account.tracks_balance:
            assert (account.balance, account.held) == (0, 0)
            continue
        entered = await conn.scalar(
            select(func.coalesce(func.sum(entries.amount), 0)).where(
                entries.tenant_id == tenant_id, entries.account_id == account.id
            )
        )
        assert account.balance == entered, (account.purpose, account.owner_ref)
        assert 0 <= account.held <= account.balance, (account.owner_ref, account.held)
        if account.member_id is not None:
            lots = await conn.scalar(
                select(func.coalesce(func.sum(ledger_lots.c.remaining), 0)).where(
                    ledger_lots.c.tenant_id == tenant_id, ledger_lots.c.account_id == account.id
                )
            )
            assert account.balance == lots


async def reconciles(db: Database, tenant: Tenant) -> None:
    """:func:`ledger_reconciles` in a transaction of the tenant."""
    async with db.tenant_transaction(tenant.id) as conn:
        await ledger_reconciles(conn, tenant.id)


@dataclass(frozen=True)
class Shop:
    """A tenant with payments (and gift cards) enabled, a till's key and one member with
    points: what most payment tests start from."""

    gateway: RunningGateway
    db: Database
    tenant: Tenant
    key: str
    member: str

    @classmethod
    async def open(
        cls,
        make_app: MakeApp,
        db: Database,
        tenant: Tenant,
        *,
        points: int = 0,
        gift_cards: bool = True,
        **settings: object,
    ) -> Shop:
        gateway = await payment_gateway(make_app, db, tenant, gift_cards=gift_cards, **settings)
        key = await pos_key(gateway.client, tenant.id)
        member = await enrol(gateway.client, tenant.id, f"{uuid.uuid4().hex[:12]}@example.com")
        if points:
            await credit(gateway.client, tenant.id, member, points)
        return cls(gateway, db, tenant, key, member)

    async def card(self, amount: int) -> tuple[str, str]:
        """A new gift card loaded with ``amount`` minor units: (its id, its code)."""
        issued = await issue(self.gateway, self.tenant, amount)
        return str(issued["giftCard"]["id"]), str(issued["code"])

    async def authorize(
        self, amount: int, *tenders: dict[str, Any], **fields: Any
    ) -> dict[str, Any]:
        """Authorise ``amount`` for the shop's member with ``tenders`` in order."""
        fields = {"memberId": self.member, **fields}
        return await authorize(
            self.gateway, self.key, amount=amount, tenders=list(tenders), **fields
        )

    async def operate(self, name: str, **fields: Any) -> dict[str, Any]:
        return await operate(self.gateway, self.key, name, **fields)

    async def points(self) -> tuple[int, int]:
        """(available, held) of the member's points."""
        return await balance(self.gateway, self.tenant, self.member)

    async def funds(self, code: str) -> tuple[int, int]:
        """(balance, held) of a card."""
        return await card_funds(self.gateway, self.key, code)
