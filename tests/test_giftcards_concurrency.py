"""Gift cards under concurrency, on real PostgreSQL through the HTTP API: no double spend
from one or two gateways, and expiry that runs once however many jobs race."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_giftcards.jobs import expire_cards
from loyalty_giftcards.settings import GiftCardSettings
from loyalty_giftcards.tables import cards
from loyalty_testing import MakeApp, RunningGateway, graphql
from sqlalchemy import update

from tests.api import pos_key
from tests.jobs import job_context
from tests.test_giftcards_api import (
    BALANCE,
    SETTINGS,
    card_reconciles,
    gift_card_gateway,
    issue,
    ledger_totals,
    move,
)


async def _fifty_redemptions(gateways: list[RunningGateway], tenant: Tenant, db: Database) -> None:
    key = await pos_key(gateways[0].client, tenant.id)
    issued = await issue(gateways[0], tenant, 100)
    code, card_id = issued["code"], issued["giftCard"]["id"]

    answers = await asyncio.gather(
        *(
            move(gateways[n % len(gateways)], key, "giftCardRedeem", code, 30, f"spend-{n}")
            for n in range(50)
        )
    )

    assert sum(a["errors"] == [] for a in answers) == 3
    assert {a["errors"][0]["code"] for a in answers if a["errors"]} == {"INSUFFICIENT_BALANCE"}
    balance = await graphql(gateways[0].client, BALANCE, {"code": code}, api_key=key)
    assert balance["data"]["giftCard"]["balance"] == 10
    assert await card_reconciles(db, tenant, card_id) == 10
    totals = await ledger_totals(db, tenant)
    assert totals == {"stored_value": 10, "liability": -10}


async def test_fifty_concurrent_redemptions_of_thirty_from_a_hundred_leave_ten(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await gift_card_gateway(make_app, db, tenant, max_failed_attempts=100)
    await _fifty_redemptions([gateway], tenant, db)


async def test_two_gateway_instances_cannot_double_spend_a_card(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    first = await gift_card_gateway(make_app, db, tenant)
    second = await make_app()
    await _fifty_redemptions([first, second], tenant, db)


async def test_expiry_moves_the_remainder_to_breakage_once_under_concurrent_runs(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    settings = {**SETTINGS, "expiry_policy": "after_issue", "expiry_days": 365}
    gateway = await gift_card_gateway(make_app, db, tenant, **settings)
    key = await pos_key(gateway.client, tenant.id)
    issued = await issue(gateway, tenant, 700)
    await move(gateway, key, "giftCardRedeem", issued["code"], 200, "r")
    async with db.tenant_transaction(tenant.id) as conn:
        await conn.execute(
            update(cards)
            .where(cards.c.tenant_id == tenant.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )

    model = GiftCardSettings.model_validate(settings)
    runs = await asyncio.gather(*(expire_cards(job_context(db, tenant, model)) for _ in range(4)))

    assert sorted(runs) == [0, 0, 0, 1]
    totals = await ledger_totals(db, tenant)
    assert totals == {"stored_value": 0, "liability": -500, "breakage": 500}
    assert await card_reconciles(db, tenant, issued["giftCard"]["id"]) == 0
    spent = await move(gateway, key, "giftCardRedeem", issued["code"], 1, "late")
    assert spent["errors"][0]["code"] == "GIFT_CARD_NOT_ACTIVE"


async def test_twenty_concurrent_replays_of_one_redemption_write_it_once(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    first = await gift_card_gateway(make_app, db, tenant)
    second = await make_app()
    key = await pos_key(first.client, tenant.id)
    issued = await issue(first, tenant, 100)

    answers = await asyncio.gather(
        *(
            move((first, second)[n % 2], key, "giftCardRedeem", issued["code"], 30, "receipt-9")
            for n in range(20)
        )
    )

    assert all(a["event"] == answers[0]["event"] for a in answers)
    assert sum(not a["replayed"] for a in answers) == 1
    assert await card_reconciles(db, tenant, issued["giftCard"]["id"]) == 70
