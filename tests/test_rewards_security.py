"""Guessing voucher codes does not pay: every wrong code answers alike and counts against the
caller's credential, which is locked out after ``max_failed_attempts`` on every gateway
instance (the count is in PostgreSQL), concurrent guesses cannot run past the count, and
aliases cannot multiply guesses in one request."""

from __future__ import annotations

import asyncio
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.sdk import codes
from loyalty_core.tenants.models import Tenant
from loyalty_rewards.lookup import NO_MATCH
from loyalty_rewards.tables import lockouts
from loyalty_testing import MakeApp, graphql
from sqlalchemy import select

from tests.api import pos_key
from tests.rewards import COFFEE_BASKET, VALIDATE, VOUCHER_REDEEM, VOUCHER_RESERVE, RewardShop

NOT_FOUND = {"valid": False, "discount": 0, "refusal": "NOT_FOUND", "reason": NO_MATCH}


def _guess() -> str:
    """A well-formed code (its check symbol is right) that no voucher has."""
    return codes.display(codes.new_code(16))


def _validate(code: str) -> dict[str, Any]:
    return {"c": code, "b": COFFEE_BASKET}


def _use(code: str, key: str) -> dict[str, Any]:
    return {"i": {"code": code, "basket": COFFEE_BASKET, "idempotencyKey": key}}


async def test_a_guessing_caller_is_locked_out_on_every_gateway(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant, settings={"max_failed_attempts": 3})
    second = await make_app()
    code = (await shop.redeem(await shop.reward()))["code"]

    # Three wrong codes, well formed or not, over both gateways: one answer, word for word.
    client, key = shop.gateway.client, shop.key
    well_formed = await graphql(client, VALIDATE, _validate(_guess()), api_key=key)
    garbage = await graphql(second.client, VALIDATE, _validate("SUMMER-SALE"), api_key=key)
    assert well_formed == garbage == {"data": {"voucherValidate": NOT_FOUND | {"voucher": None}}}
    used = await graphql(second.client, VOUCHER_REDEEM, _use(_guess(), "g-3"), api_key=shop.key)
    assert used["data"]["voucherRedeem"]["errors"] == [
        {"code": "NOT_FOUND", "field": "code", "message": NO_MATCH}
    ]

    # Locked now, whichever gateway it asks and even with the right code.
    locked = await graphql(shop.gateway.client, VALIDATE, _validate(code), api_key=shop.key)
    assert locked["data"]["voucherValidate"]["refusal"] == "LOCKED"
    refused = await graphql(second.client, VOUCHER_REDEEM, _use(code, "real"), api_key=shop.key)
    assert refused["data"]["voucherRedeem"]["errors"][0]["code"] == "VOUCHER_LOCKED"
    held = await graphql(
        shop.gateway.client,
        VOUCHER_RESERVE,
        {"i": {"code": code, "checkoutId": "web-1"}},
        api_key=shop.key,
    )
    assert held["data"]["voucherReserve"]["errors"][0]["code"] == "VOUCHER_LOCKED"

    # Another till is not the guesser: the voucher is untouched and works there.
    other_till = await pos_key(shop.gateway.client, tenant.id)
    fine = await graphql(second.client, VALIDATE, _validate(code), api_key=other_till)
    checked = fine["data"]["voucherValidate"]
    assert (checked["valid"], checked["discount"]) == (True, 350)
    async with db.tenant_transaction(tenant.id) as conn:
        counted = (
            await conn.execute(
                select(lockouts.c.failures, lockouts.c.locked_until).where(
                    lockouts.c.tenant_id == tenant.id
                )
            )
        ).all()
    # The guesser's credential holds its three failures; the other till's right code none.
    assert sorted((row.failures, row.locked_until is not None) for row in counted) == [
        (0, False),
        (3, True),
    ]


async def test_concurrent_guesses_over_two_gateways_never_run_past_the_count(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant, settings={"max_failed_attempts": 5})
    second = await make_app()
    clients = [shop.gateway.client, second.client]
    answers = await asyncio.gather(
        *(
            graphql(clients[n % 2], VALIDATE, _validate(_guess()), api_key=shop.key)
            if n % 3
            else graphql(clients[n % 2], VOUCHER_REDEEM, _use(_guess(), f"g-{n}"), api_key=shop.key)
            for n in range(24)
        )
    )
    outcomes = [
        body["data"]["voucherValidate"]["refusal"]
        if "voucherValidate" in body["data"]
        else body["data"]["voucherRedeem"]["errors"][0]["code"]
        for body in answers
    ]
    assert sum(outcome == "NOT_FOUND" for outcome in outcomes) == 5
    assert {o for o in outcomes if o != "NOT_FOUND"} == {"LOCKED", "VOUCHER_LOCKED"}


async def test_aliases_cannot_multiply_guesses_in_one_request(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await RewardShop.open(make_app, db, tenant, settings={"max_failed_attempts": 5})
    fields = " ".join(
        f'g{n}: voucherValidate(code: "{_guess()}", basket: {{amount: 100, currency: "EUR"}}) '
        "{ refusal }"
        for n in range(8)
    )
    body = await shop.till(f"{{ {fields} }}")
    refusals = sorted(answer["refusal"] for answer in body.values())
    assert refusals == ["LOCKED"] * 7 + ["NOT_FOUND"]
    async with db.tenant_transaction(tenant.id) as conn:
        failures = await conn.scalar(
            select(lockouts.c.failures).where(lockouts.c.tenant_id == tenant.id)
        )
    assert failures == 1
