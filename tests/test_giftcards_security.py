"""Guessing gift card codes does not pay: failed look-ups lock the credential and the card,
a wrong code and a wrong PIN look the same, and aliases cannot multiply guesses."""

from __future__ import annotations

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_giftcards import codes
from loyalty_giftcards.tables import cards, lockouts
from loyalty_testing import MakeApp, graphql
from sqlalchemy import select

from tests.api import pos_key
from tests.test_giftcards_api import BALANCE, gift_card_gateway, issue, move


def _guess() -> str:
    """A well-formed code (its check symbol is right) that no card has."""
    return codes.display(codes.new_code(16))


async def test_a_credential_is_locked_after_the_configured_failures(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await gift_card_gateway(make_app, db, tenant, max_failed_attempts=3)
    key = await pos_key(gateway.client, tenant.id)
    code = (await issue(gateway, tenant, 1_000))["code"]

    answers = [await move(gateway, key, "giftCardRedeem", _guess(), 1, f"g{n}") for n in range(3)]
    assert {a["errors"][0]["code"] for a in answers} == {"NOT_FOUND"}
    locked = await move(gateway, key, "giftCardRedeem", code, 1, "real")
    assert locked["errors"][0]["code"] == "GIFT_CARD_LOCKED"
    inquiry = await graphql(gateway.client, BALANCE, {"code": code}, api_key=key)
    assert inquiry["errors"][0]["extensions"]["code"] == "GIFT_CARD_LOCKED"

    other_till = await pos_key(gateway.client, tenant.id)
    fine = await move(gateway, other_till, "giftCardRedeem", code, 1, "other")
    assert fine["errors"] == []


async def test_a_card_is_locked_after_wrong_pins_from_any_credential(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await gift_card_gateway(
        make_app, db, tenant, max_failed_attempts=3, pin_required=True
    )
    issued = await issue(gateway, tenant, 1_000)
    code, pin = issued["code"], issued["pin"]
    wrong = "0000" if pin != "0000" else "1111"
    for n in range(3):
        till = await pos_key(gateway.client, tenant.id)
        answer = await move(gateway, till, "giftCardRedeem", code, 1, f"w{n}", pin=wrong)
        assert answer["errors"][0]["code"] == "NOT_FOUND"

    till = await pos_key(gateway.client, tenant.id)
    right = await move(gateway, till, "giftCardRedeem", code, 1, "right", pin=pin)
    assert right["errors"][0]["code"] == "GIFT_CARD_LOCKED"
    async with db.tenant_transaction(tenant.id) as conn:
        card_id = await conn.scalar(select(cards.c.id).where(cards.c.tenant_id == tenant.id))
        until = await conn.scalar(
            select(lockouts.c.locked_until).where(
                lockouts.c.tenant_id == tenant.id, lockouts.c.subject == f"card:{card_id}"
            )
        )
    assert until is not None


async def test_a_wrong_code_and_a_wrong_pin_answer_identically(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await gift_card_gateway(make_app, db, tenant, pin_required=True)
    key = await pos_key(gateway.client, tenant.id)
    issued = await issue(gateway, tenant, 1_000)
    wrong_pin = "0000" if issued["pin"] != "0000" else "1111"

    by_code = await move(gateway, key, "giftCardRedeem", _guess(), 5, "a", pin=issued["pin"])
    by_pin = await move(gateway, key, "giftCardRedeem", issued["code"], 5, "b", pin=wrong_pin)
    no_pin = await move(gateway, key, "giftCardRedeem", issued["code"], 5, "c")
    assert by_code == by_pin == no_pin
    assert by_code["errors"][0]["code"] == "NOT_FOUND"
    inquiries = [
        await graphql(gateway.client, BALANCE, {"code": c, "pin": p}, api_key=key)
        for c, p in ((_guess(), issued["pin"]), (issued["code"], wrong_pin))
    ]
    assert inquiries[0] == inquiries[1] == {"data": {"giftCard": None}}


async def test_aliases_cannot_multiply_guesses_in_one_request(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await gift_card_gateway(make_app, db, tenant, max_failed_attempts=5)
    key = await pos_key(gateway.client, tenant.id)
    fields = " ".join(f'g{n}: giftCard(code: "{_guess()}") {{ balance }}' for n in range(10))
    body = await graphql(gateway.client, f"{{ {fields} }}", api_key=key)

    refused = [e for e in body["errors"] if e["extensions"]["code"] == "GIFT_CARD_LOCKED"]
    assert len(refused) == 9
    async with db.tenant_transaction(tenant.id) as conn:
        failures = await conn.scalar(
            select(lockouts.c.failures).where(
                lockouts.c.tenant_id == tenant.id, lockouts.c.subject.like("credential:%")
            )
        )
    assert failures == 1
