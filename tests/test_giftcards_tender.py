"""The ``GIFT_CARD`` tender, called as the payment module calls it, on real PostgreSQL: holds
that set a card's value aside, captures, releases and refunds through the core ledger, and
the card rules (cancel, expiry, maximum balance, erasure) while a payment holds value.

The payment's arguments are local frozen dataclasses with the attributes of
``loyalty_payment.tenders.TenderCall`` and ``TenderPart``: the contract is structural, and
these tests run without the payment module installed.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import loyalty_giftcards
import pytest
from loyalty_core.db.engine import Database
from loyalty_core.errors import ErrorCode, LoyaltyError
from loyalty_core.ids import new_id
from loyalty_core.modules.contributions import MemberDataContext
from loyalty_core.modules.manager import build_registry
from loyalty_core.tenants.models import Tenant
from loyalty_giftcards import codes, privacy, service
from loyalty_giftcards import repository as repo
from loyalty_giftcards.jobs import expire_cards
from loyalty_giftcards.lockout import credential_subject
from loyalty_giftcards.models import CardStatus, EventKind
from loyalty_giftcards.settings import GiftCardSettings
from loyalty_giftcards.tables import cards, lockouts
from loyalty_giftcards.tender import GiftCardTender, Held, Moved
from loyalty_testing import MakeApp, enable_for, graphql, insert_member
from pydantic import BaseModel
from sqlalchemy import select, update

from tests.api import pos_key
from tests.jobs import job_context
from tests.test_giftcards_api import card_reconciles, ledger_totals

SETTINGS: dict[str, object] = {"currencies": ["EUR", "CHF"], "max_balance": 100_000}
TILL = "apikey:till-1"
LATER = timedelta(days=7)
tender = GiftCardTender()


@dataclass(frozen=True)
class Call:
    """The attributes of the payment module's ``TenderCall``."""

    database: Database
    tenant_id: uuid.UUID
    payment_id: uuid.UUID
    member_id: uuid.UUID | None
    currency: str
    actor: str
    now: datetime
    key: str
    settings: BaseModel


@dataclass(frozen=True)
class Part:
    """What the tender reads of the payment module's ``TenderPart``."""

    instrument: str
    hold_id: uuid.UUID


@dataclass(frozen=True)
class Payment:
    """One payment's calls, keyed as the payment module keys them; its holds lapse at one
    time (a replayed hold must ask for the same one)."""

    db: Database
    tenant: Tenant
    settings: GiftCardSettings
    id: uuid.UUID
    currency: str
    expires_at: datetime

    def call(self, operation: str) -> Call:
        return Call(
            database=self.db,
            tenant_id=self.tenant.id,
            payment_id=self.id,
            member_id=None,
            currency=self.currency,
            actor=TILL,
            now=datetime.now(UTC),
            key=f"payment:{self.id}:1:{operation}",
            settings=self.settings,
        )

    async def hold(self, card: str, amount: int, operation: str = "hold") -> Held:
        async with self.db.tenant_transaction(self.tenant.id) as conn:
            call = self.call(operation)
            assert await tender.available(conn, call, card) >= 0
            return await tender.hold(conn, call, card, amount, self.expires_at)

    async def capture(self, part: Part, amount: int, operation: str = "capture:1") -> Moved:
        async with self.db.tenant_transaction(self.tenant.id) as conn:
            return await tender.capture(conn, self.call(operation), part, amount)

    async def release(self, part: Part, operation: str = "void:1") -> None:
        async with self.db.tenant_transaction(self.tenant.id) as conn:
            await tender.release(conn, self.call(operation), part)

    async def refund(self, part: Part, amount: int, operation: str = "refund:1") -> Moved:
        async with self.db.tenant_transaction(self.tenant.id) as conn:
            return await tender.refund(conn, self.call(operation), part, amount)


async def enabled(db: Database, tenant: Tenant, **settings: object) -> GiftCardSettings:
    values = {**SETTINGS, **settings}
    await enable_for(db, build_registry(), tenant, "giftcards", values)
    return GiftCardSettings.model_validate(values)


async def new_card(
    db: Database,
    tenant: Tenant,
    settings: GiftCardSettings,
    amount: int,
    *,
    currency: str = "EUR",
    member_id: uuid.UUID | None = None,
) -> tuple[str, str]:
    """A new card: (its id as the tender's instrument, its code)."""
    async with db.tenant_transaction(tenant.id) as conn:
        issued = await service.issue(
            conn,
            tenant.id,
            settings,
            currency=currency,
            amount=amount,
            actor=service.Actor("admin"),
            now=datetime.now(UTC),
            member_id=member_id,
        )
    assert issued.code is not None
    return str(issued.card.id), issued.code


async def funds(db: Database, tenant: Tenant, card: str) -> tuple[int, int]:
    """(what the card shows as its balance, what payments hold of it)."""
    async with db.tenant_transaction(tenant.id) as conn:
        found = await repo.get_card(conn, tenant.id, uuid.UUID(card))
        assert found is not None
        card_funds = (await service.funds_of(conn, tenant.id, [found]))[found.id]
    return card_funds.available, card_funds.held


async def event_kinds(db: Database, tenant: Tenant, card: str) -> list[EventKind]:
    async with db.tenant_transaction(tenant.id) as conn:
        logs = await repo.events_of(conn, tenant.id, [uuid.UUID(card)])
    return [event.kind for event in logs[uuid.UUID(card)]]


async def status(db: Database, tenant: Tenant, card: str) -> CardStatus:
    async with db.tenant_transaction(tenant.id) as conn:
        found = await repo.get_card(conn, tenant.id, uuid.UUID(card))
    assert found is not None
    return found.status


async def cancel(db: Database, tenant: Tenant, card: str) -> None:
    async with db.tenant_transaction(tenant.id) as conn:
        await service.cancel(
            conn, tenant.id, uuid.UUID(card), actor=service.Actor("admin"), now=datetime.now(UTC)
        )


def payment(
    db: Database, tenant: Tenant, settings: GiftCardSettings, currency: str = "EUR"
) -> Payment:
    return Payment(db, tenant, settings, new_id(), currency, datetime.now(UTC) + LATER)


def balanced(totals: dict[str, int]) -> bool:
    return sum(totals.values()) == 0


async def test_gift_cards_offer_the_tender_and_load_without_the_payment_module() -> None:
    (provided,) = loyalty_giftcards.loyalty_payment_tenders()
    assert isinstance(provided, GiftCardTender)
    assert provided.tender == "GIFT_CARD"

    registry = build_registry(load_entry_points=False, plugins=[loyalty_giftcards])

    assert "giftcards" in registry.modules, registry.failures


async def test_a_partial_capture_spends_part_of_the_hold_and_gives_back_the_rest(
    db: Database, tenant: Tenant
) -> None:
    settings = await enabled(db, tenant)
    card, code = await new_card(db, tenant, settings, 5_000)
    pay = payment(db, tenant, settings)
    assert await tender.identify(pay.call("identify"), {"code": code.lower()}) == card

    held = await pay.hold(card, 3_000)

    assert (held.units, held.label) == (3_000, codes.masked(code.replace("-", "")[-4:]))
    assert await funds(db, tenant, card) == (2_000, 3_000)
    async with db.tenant_transaction(tenant.id) as conn:
        assert await tender.available(conn, pay.call("again"), card) == 2_000
    with pytest.raises(LoyaltyError) as short:  # the till next door cannot take held value
        async with db.tenant_transaction(tenant.id) as conn:
            await service.redeem(
                conn,
                tenant.id,
                settings,
                uuid.UUID(card),
                amount=2_500,
                idempotency_key="next-door",
                actor=service.Actor("till-2"),
                now=datetime.now(UTC),
            )
    assert short.value.code is ErrorCode.INSUFFICIENT_BALANCE

    moved = await pay.capture(Part(card, held.hold_id), 1_200)

    assert moved.transaction_id is not None
    assert moved.units == 1_200
    assert await funds(db, tenant, card) == (3_800, 0)
    assert await card_reconciles(db, tenant, card) == 3_800
    totals = await ledger_totals(db, tenant)
    assert totals == {"stored_value": 3_800, "liability": -3_800}
    assert balanced(totals)
    kinds = await event_kinds(db, tenant, card)
    assert kinds == [EventKind.ISSUED, EventKind.HELD, EventKind.REDEEMED]


async def test_a_released_hold_gives_the_value_back_and_cannot_be_captured(
    db: Database, tenant: Tenant
) -> None:
    settings = await enabled(db, tenant)
    card, _ = await new_card(db, tenant, settings, 1_000)
    pay = payment(db, tenant, settings)
    part = Part(card, (await pay.hold(card, 600)).hold_id)

    await pay.release(part)
    await pay.release(part, "void:2")  # already closed: nothing happens

    assert await funds(db, tenant, card) == (1_000, 0)
    assert await event_kinds(db, tenant, card) == [
        EventKind.ISSUED,
        EventKind.HELD,
        EventKind.RELEASED,
    ]
    with pytest.raises(LoyaltyError) as refused:
        await pay.capture(part, 600)
    assert refused.value.code is ErrorCode.INVALID_PAYMENT_STATE
    assert await ledger_totals(db, tenant) == {"stored_value": 1_000, "liability": -1_000}


async def test_capturing_nothing_releases_the_hold(db: Database, tenant: Tenant) -> None:
    settings = await enabled(db, tenant)
    card, _ = await new_card(db, tenant, settings, 1_000)
    pay = payment(db, tenant, settings)
    part = Part(card, (await pay.hold(card, 400)).hold_id)

    moved = await pay.capture(part, 0)
    again = await pay.capture(part, 0)

    assert moved == again == Moved(transaction_id=None, units=0)
    assert await funds(db, tenant, card) == (1_000, 0)
    assert (await event_kinds(db, tenant, card))[-1] is EventKind.RELEASED
    with pytest.raises(LoyaltyError) as refused:
        await pay.capture(part, 0, "capture:2")
    assert refused.value.code is ErrorCode.INVALID_PAYMENT_STATE


async def test_two_concurrent_holds_for_more_than_the_card_holds_one_succeeds(
    db: Database, tenant: Tenant
) -> None:
    settings = await enabled(db, tenant)
    card, _ = await new_card(db, tenant, settings, 1_000)

    async def authorise() -> Held:
        pay = payment(db, tenant, settings)
        async with db.tenant_transaction(tenant.id) as conn:
            call = pay.call("hold")
            await tender.available(conn, call, card)  # locks the card, as the payment does
            held = await tender.hold(conn, call, card, 700, pay.expires_at)
            await asyncio.sleep(0.2)  # keep the lock: the other till waits for this commit
            return held

    outcomes = await asyncio.gather(authorise(), authorise(), return_exceptions=True)

    assert sum(isinstance(outcome, Held) for outcome in outcomes) == 1
    (failure,) = [outcome for outcome in outcomes if not isinstance(outcome, Held)]
    assert isinstance(failure, LoyaltyError)
    assert failure.code is ErrorCode.INSUFFICIENT_BALANCE
    assert await funds(db, tenant, card) == (300, 700)


async def test_a_card_with_an_open_hold_cannot_be_cancelled(db: Database, tenant: Tenant) -> None:
    settings = await enabled(db, tenant)
    card, _ = await new_card(db, tenant, settings, 1_000)
    pay = payment(db, tenant, settings)
    part = Part(card, (await pay.hold(card, 250)).hold_id)

    with pytest.raises(LoyaltyError) as refused:
        await cancel(db, tenant, card)
    assert refused.value.code is ErrorCode.VALUE_HELD
    assert await status(db, tenant, card) is CardStatus.ACTIVE

    await pay.release(part)
    await cancel(db, tenant, card)
    assert await status(db, tenant, card) is CardStatus.CANCELLED
    assert await ledger_totals(db, tenant) == {"stored_value": 0, "liability": 0}


async def test_expiry_skips_a_card_a_payment_holds_and_expires_it_after_the_release(
    db: Database, tenant: Tenant
) -> None:
    settings = await enabled(db, tenant, expiry_policy="after_issue", expiry_days=365)
    card, _ = await new_card(db, tenant, settings, 800)
    pay = payment(db, tenant, settings)
    part = Part(card, (await pay.hold(card, 300)).hold_id)
    async with db.tenant_transaction(tenant.id) as conn:
        await conn.execute(
            update(cards)
            .where(cards.c.tenant_id == tenant.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )

    assert await expire_cards(job_context(db, tenant, settings)) == 0
    assert await status(db, tenant, card) is CardStatus.ACTIVE
    assert await funds(db, tenant, card) == (500, 300)

    await pay.release(part)  # the payment is voided, although the card ran out meanwhile

    assert await expire_cards(job_context(db, tenant, settings)) == 1
    assert await status(db, tenant, card) is CardStatus.EXPIRED
    totals = await ledger_totals(db, tenant)
    assert totals == {"stored_value": 0, "liability": -800, "breakage": 800}


async def test_a_refund_gives_back_what_a_capture_took_beyond_the_maximum_balance(
    db: Database, tenant: Tenant
) -> None:
    settings = await enabled(db, tenant, max_balance=1_000)
    card, _ = await new_card(db, tenant, settings, 1_000)
    pay = payment(db, tenant, settings)
    part = Part(card, (await pay.hold(card, 600)).hold_id)
    await pay.capture(part, 600)
    async with db.tenant_transaction(tenant.id) as conn:  # the card is full again
        await service.reload(
            conn,
            tenant.id,
            settings,
            uuid.UUID(card),
            amount=600,
            idempotency_key="top-up",
            actor=service.Actor("till"),
            now=datetime.now(UTC),
        )

    moved = await pay.refund(part, 400)

    assert moved.transaction_id is not None
    assert moved.units == 400
    assert await funds(db, tenant, card) == (1_400, 0)
    assert (await event_kinds(db, tenant, card))[-1] is EventKind.REFUNDED
    assert await card_reconciles(db, tenant, card) == 1_400
    assert balanced(await ledger_totals(db, tenant))


async def test_a_refund_to_a_cancelled_card_is_refused(db: Database, tenant: Tenant) -> None:
    settings = await enabled(db, tenant)
    card, _ = await new_card(db, tenant, settings, 1_000)
    pay = payment(db, tenant, settings)
    part = Part(card, (await pay.hold(card, 500)).hold_id)
    await pay.capture(part, 500)
    await cancel(db, tenant, card)

    with pytest.raises(LoyaltyError) as refused:
        await pay.refund(part, 500)

    assert refused.value.code is ErrorCode.GIFT_CARD_NOT_ACTIVE
    assert await ledger_totals(db, tenant) == {"stored_value": 0, "liability": 0}


async def test_replayed_hold_capture_and_refund_write_once(db: Database, tenant: Tenant) -> None:
    settings = await enabled(db, tenant)
    card, _ = await new_card(db, tenant, settings, 2_000)
    pay = payment(db, tenant, settings)

    first, again = await pay.hold(card, 900), await pay.hold(card, 900)
    part = Part(card, first.hold_id)
    captured = [await pay.capture(part, 700) for _ in range(2)]
    refunded = [await pay.refund(part, 300) for _ in range(2)]

    assert again == first
    assert captured[0] == captured[1]
    assert refunded[0] == refunded[1]
    assert await funds(db, tenant, card) == (1_600, 0)
    assert await event_kinds(db, tenant, card) == [
        EventKind.ISSUED,
        EventKind.HELD,
        EventKind.REDEEMED,
        EventKind.REFUNDED,
    ]
    assert await card_reconciles(db, tenant, card) == 1_600
    assert await ledger_totals(db, tenant) == {"stored_value": 1_600, "liability": -1_600}
    with pytest.raises(LoyaltyError) as other:  # the same key for another request
        await pay.refund(part, 200)
    assert other.value.code is ErrorCode.IDEMPOTENCY_CONFLICT


async def test_a_card_in_another_currency_has_nothing_available(
    db: Database, tenant: Tenant
) -> None:
    settings = await enabled(db, tenant)
    card, _ = await new_card(db, tenant, settings, 1_000, currency="CHF")
    pay = payment(db, tenant, settings, currency="EUR")

    async with db.tenant_transaction(tenant.id) as conn:
        assert await tender.available(conn, pay.call("hold"), card) == 0
    with pytest.raises(LoyaltyError) as refused:
        await pay.hold(card, 100)

    assert refused.value.code is ErrorCode.INVALID_INPUT
    assert await funds(db, tenant, card) == (1_000, 0)


async def test_a_wrong_code_is_not_found_and_counted(db: Database, tenant: Tenant) -> None:
    settings = await enabled(db, tenant)
    pay = payment(db, tenant, settings)

    with pytest.raises(LoyaltyError) as wrong:
        await tender.identify(pay.call("identify"), {"code": codes.new_code(16)})
    with pytest.raises(LoyaltyError) as missing:
        await tender.identify(pay.call("identify"), {"pin": "123456"})

    assert (wrong.value.code, wrong.value.field) == (ErrorCode.NOT_FOUND, "code")
    assert (missing.value.code, missing.value.field) == (ErrorCode.INVALID_INPUT, "code")
    async with db.tenant_transaction(tenant.id) as conn:
        failures = await conn.scalar(
            select(lockouts.c.failures).where(
                lockouts.c.tenant_id == tenant.id, lockouts.c.subject == credential_subject(TILL)
            )
        )
    assert failures == 1


async def test_erasing_the_member_of_a_held_card_keeps_the_hold_capturable(
    db: Database, tenant: Tenant
) -> None:
    settings = await enabled(db, tenant)
    async with db.tenant_transaction(tenant.id) as conn:
        member_id = await insert_member(conn, tenant.id)
    card, _ = await new_card(db, tenant, settings, 1_000, member_id=member_id)
    pay = payment(db, tenant, settings)
    part = Part(card, (await pay.hold(card, 400)).hold_id)

    async with db.tenant_transaction(tenant.id) as conn:
        erased = await privacy.erase_member(
            MemberDataContext(conn, tenant.id, member_id, datetime.now(UTC), "admin:dpo")
        )
    await pay.capture(part, 400)

    assert erased == 1
    assert await funds(db, tenant, card) == (600, 0)
    assert (await event_kinds(db, tenant, card))[-2:] == [EventKind.UNASSIGNED, EventKind.REDEEMED]


async def test_the_api_shows_the_spendable_balance_and_the_held_value(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await make_app()
    settings = await enabled(db, tenant)
    card, code = await new_card(db, tenant, settings, 1_000)
    await payment(db, tenant, settings).hold(card, 350)
    key = await pos_key(gateway.client, tenant.id)

    body = await graphql(
        gateway.client,
        "query($code: String!) { giftCard(code: $code) { balance held events { kind } } }",
        {"code": code},
        api_key=key,
    )

    found = body["data"]["giftCard"]
    assert (found["balance"], found["held"]) == (650, 350)
    assert [event["kind"] for event in found["events"]] == ["ISSUED", "HELD"]
