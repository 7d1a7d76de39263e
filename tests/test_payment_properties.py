"""Payments keep the ledger whole under random workloads.

Hypothesis generates a list of operations (authorise with points and/or a gift card, each
exact or as much as it can; partial or full capture; void; partial or full refund; time
passing, with the expiry job run) over two members and two cards; each example replays its
list against a fresh tenant and checks after every step what must hold whatever happened:

* the ledger reconciles (``tests.payments.ledger_reconciles``): entries sum to zero per
  asset and transaction, balances equal their entries, ``held`` is the sum of the open
  holds and lies between zero and the balance;
* every payment is consistent: captured <= held, refunded <= captured, its tenders sum to
  its amounts, and its holds are open exactly while it is authorised;
* each member's points (available + held) are what was credited less the points captured
  plus the points refunded; each card's balance likewise;
* a refusal is one of the codes the rules allow, and an authorisation refused holds nothing.

Driven through the service layer (``loyalty_payment.service`` with a ``Till`` from
``loyalty_payment.offers.till``), not HTTP: the same code runs, at a fraction of the cost
per step, so more sequences fit in the suite's time. The HTTP layer is covered by
``test_payment_api`` and ``test_payment_concurrency``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from loyalty_core.db.engine import Database
from loyalty_core.errors import ErrorCode, LoyaltyError
from loyalty_core.ledger import repository as ledger_repo
from loyalty_core.ledger import service as ledger
from loyalty_core.ledger.models import Cause
from loyalty_core.ledger.tables import ledger_holds
from loyalty_core.modules.manager import ModuleRegistry, build_registry
from loyalty_core.tenants.models import Tenant
from loyalty_core.tenants.service import DEFAULT_ASSET_CODE
from loyalty_giftcards.settings import GiftCardSettings
from loyalty_payment import offers, service
from loyalty_payment.jobs import expire_payments
from loyalty_payment.settings import PaymentSettings
from loyalty_payment.tables import payments, tenders
from loyalty_testing import create_test_tenant, enable_for, insert_member
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.jobs import job_context
from tests.payments import SETTINGS, ledger_reconciles
from tests.test_giftcards_tender import SETTINGS as GIFT_CARD_SETTINGS
from tests.test_giftcards_tender import funds, new_card

MEMBERS = 2
CARDS = 2
CREDIT = 600
CARD_LOAD = 500
HOLD_MINUTES = 10
REFUSALS = {
    ErrorCode.INSUFFICIENT_BALANCE,
    ErrorCode.INVALID_INPUT,
    ErrorCode.PAYMENT_EXPIRED,
    ErrorCode.INVALID_PAYMENT_STATE,
    ErrorCode.REFUND_EXCEEDS_CAPTURE,
}


@dataclass(frozen=True)
class Authorize:
    member: int
    amount: int
    points: int | None  # exact; None: as much as the points can (-1: no points tender)
    card: int | None  # which card, None: no card tender
    card_amount: int | None
    card_first: bool


@dataclass(frozen=True)
class Capture:
    payment: int
    amount: int | None


@dataclass(frozen=True)
class Void:
    payment: int


@dataclass(frozen=True)
class Refund:
    payment: int
    amount: int | None


@dataclass(frozen=True)
class Lapse:
    minutes: int


Operation = Authorize | Capture | Void | Refund | Lapse

amounts = st.integers(1, 900)
operations = st.one_of(
    st.builds(
        Authorize,
        member=st.integers(0, MEMBERS - 1),
        amount=amounts,
        points=st.none() | st.just(-1) | st.integers(1, 700),
        card=st.none() | st.integers(0, CARDS - 1),
        card_amount=st.none() | st.integers(1, 600),
        card_first=st.booleans(),
    ),
    st.builds(Capture, payment=st.integers(0, 20), amount=st.none() | amounts),
    st.builds(Void, payment=st.integers(0, 20)),
    st.builds(Refund, payment=st.integers(0, 20), amount=st.none() | st.integers(1, 500)),
    st.builds(Lapse, minutes=st.integers(1, 12)),
)


@dataclass
class World:
    """One example's tenant, members, cards, clock and payments."""

    db: Database
    tenant: Tenant
    registry: ModuleRegistry
    payment_settings: PaymentSettings
    card_settings: GiftCardSettings
    members: list[uuid.UUID]
    cards: list[tuple[str, str]]
    now: datetime
    payments: list[uuid.UUID] = field(default_factory=list)
    keys: int = 0

    def till(self) -> service.Till:
        return offers.till(
            database=self.db,
            registry=self.registry,
            enabled_modules={"payment": self.payment_settings, "giftcards": self.card_settings},
            tenant_id=self.tenant.id,
            settings=self.payment_settings,
            actor="till:hypothesis",
            now=self.now,
        )

    def key(self) -> str:
        self.keys += 1
        return f"op-{self.keys}"


_registry: list[ModuleRegistry] = []


def registry() -> ModuleRegistry:
    """The installed modules, built once per session (entry points are slow to scan)."""
    if not _registry:
        _registry.append(build_registry())
    return _registry[0]


@settings(max_examples=25, deadline=None)
@given(ops=st.lists(operations, max_size=25))
async def test_payments_keep_the_ledger_whole_under_random_operations(
    db: Database, ops: list[Operation]
) -> None:
    world = await _start(db)
    for op in ops:
        await _apply(world, op)
        await _check(world)


async def _start(db: Database) -> World:
    tenant = await create_test_tenant(db)
    modules = registry()
    values = {**SETTINGS, "hold_minutes": HOLD_MINUTES}
    await enable_for(db, modules, tenant, "payment", values)
    await enable_for(db, modules, tenant, "giftcards", GIFT_CARD_SETTINGS)
    card_settings = GiftCardSettings.model_validate(GIFT_CARD_SETTINGS)
    now = datetime.now(UTC)
    async with db.tenant_transaction(tenant.id) as conn:
        asset = await ledger_repo.get_asset(conn, tenant.id, DEFAULT_ASSET_CODE)
        assert asset is not None
        members = [await insert_member(conn, tenant.id) for _ in range(MEMBERS)]
        for n, member in enumerate(members):
            posting = ledger.Posting(
                tenant_id=tenant.id,
                idempotency_key=f"credit-{n}",
                reason="property test",
                cause=Cause(kind="operator", id="hypothesis"),
                actor="test",
                now=now,
            )
            await ledger.earn(conn, posting, member_id=member, asset=asset, amount=CREDIT)
    cards = [await new_card(db, tenant, card_settings, CARD_LOAD) for _ in range(CARDS)]
    return World(
        db=db,
        tenant=tenant,
        registry=modules,
        payment_settings=PaymentSettings.model_validate(values),
        card_settings=card_settings,
        members=members,
        cards=cards,
        now=now,
    )


async def _apply(world: World, op: Operation) -> None:
    try:
        match op:
            case Authorize():
                await _authorize(world, op)
            case Capture(payment=n, amount=amount) if world.payments:
                async with world.db.tenant_transaction(world.tenant.id) as conn:
                    await service.capture(
                        conn,
                        world.till(),
                        _pick(world, n),
                        amount=amount,
                        idempotency_key=world.key(),
                    )
            case Void(payment=n) if world.payments:
                async with world.db.tenant_transaction(world.tenant.id) as conn:
                    await service.void(conn, world.till(), _pick(world, n))
            case Refund(payment=n, amount=amount) if world.payments:
                async with world.db.tenant_transaction(world.tenant.id) as conn:
                    await service.refund(
                        conn,
                        world.till(),
                        _pick(world, n),
                        amount=amount,
                        idempotency_key=world.key(),
                    )
            case Lapse(minutes=minutes):
                world.now += timedelta(minutes=minutes)
                context = job_context(
                    world.db,
                    world.tenant,
                    world.payment_settings,
                    now=world.now,
                    registry=world.registry,
                    enabled_modules={
                        "payment": world.payment_settings,
                        "giftcards": world.card_settings,
                    },
                )
                await expire_payments(context)
                assert await expire_payments(context) == 0  # a second run finds nothing
    except LoyaltyError as error:
        if error.code not in REFUSALS:
            raise  # a refusal the rules do not allow fails the example


async def _authorize(world: World, op: Authorize) -> None:
    requests: list[service.TenderRequest] = []
    if op.points != -1:
        requests.append(service.TenderRequest("POINTS", op.points))
    if op.card is not None:
        card = service.TenderRequest("GIFT_CARD", op.card_amount, {"code": world.cards[op.card][1]})
        requests.insert(0 if op.card_first else len(requests), card)
    if not requests:
        return
    before = await _count(world)
    try:
        outcome = await service.authorize(
            world.till(),
            service.Authorization(
                order_reference=f"order-{world.keys}",
                amount=op.amount,
                currency="EUR",
                member_id=world.members[op.member],
                tenders=requests,
                idempotency_key=world.key(),
            ),
        )
    except LoyaltyError:
        assert await _count(world) == before  # nothing held, no payment
        raise
    world.payments.append(outcome.payment.id)


def _pick(world: World, n: int) -> uuid.UUID:
    return world.payments[n % len(world.payments)]


async def _count(world: World) -> tuple[int, int]:
    async with world.db.tenant_transaction(world.tenant.id) as conn:
        found = await conn.scalar(
            select(func.count()).where(payments.c.tenant_id == world.tenant.id)
        )
        holds = await conn.scalar(
            select(func.count()).where(ledger_holds.c.tenant_id == world.tenant.id)
        )
    return int(found or 0), int(holds or 0)


async def _check(world: World) -> None:
    async with world.db.tenant_transaction(world.tenant.id) as conn:
        await ledger_reconciles(conn, world.tenant.id)
        await _payments_consistent(conn, world.tenant.id)
        moved = await _units_moved(conn, world.tenant.id)
        for member in world.members:
            [points] = [
                b
                for b in await ledger.balances(conn, world.tenant.id, member)
                if b.asset.code == DEFAULT_ASSET_CODE
            ]
            assert points.available + points.held == CREDIT - moved.get(str(member), 0)
    for card_id, _ in world.cards:
        available, held = await funds(world.db, world.tenant, card_id)
        assert available + held == CARD_LOAD - moved.get(card_id, 0)


async def _payments_consistent(conn: AsyncConnection, tenant_id: uuid.UUID) -> None:
    rows = {
        row.id: row
        for row in await conn.execute(select(payments).where(payments.c.tenant_id == tenant_id))
    }
    parts: dict[uuid.UUID, list[tuple[int, int, int, str]]] = {p: [] for p in rows}
    for part in await conn.execute(
        select(tenders, ledger_holds.c.status.label("hold_status"))
        .join(
            ledger_holds,
            (ledger_holds.c.tenant_id == tenders.c.tenant_id)
            & (ledger_holds.c.id == tenders.c.hold_id),
        )
        .where(tenders.c.tenant_id == tenant_id)
    ):
        assert 0 <= part.refunded <= part.captured <= part.held
        assert part.refunded_units <= part.captured_units <= part.held_units
        parts[part.payment_id].append((part.held, part.captured, part.refunded, part.hold_status))
    for payment_id, payment in rows.items():
        held, captured, refunded, statuses = zip(*parts[payment_id], strict=True)
        assert 0 <= payment.refunded <= payment.captured <= payment.held <= payment.amount
        assert (sum(held), sum(captured), sum(refunded)) == (
            payment.held,
            payment.captured,
            payment.refunded,
        )
        open_holds = {s == "held" for s in statuses}
        assert open_holds == {payment.status == "authorized"}, (payment.status, statuses)
        if payment.status == "refunded":
            assert payment.refunded == payment.captured


async def _units_moved(conn: AsyncConnection, tenant_id: uuid.UUID) -> dict[str, int]:
    """Units each instrument paid for good: captured less refunded, per member (points)
    or card (gift cards)."""
    moved: dict[str, int] = {}
    for row in await conn.execute(
        select(
            tenders.c.tender,
            tenders.c.instrument,
            payments.c.member_id,
            tenders.c.captured_units,
            tenders.c.refunded_units,
        )
        .join(
            payments,
            (payments.c.tenant_id == tenders.c.tenant_id) & (payments.c.id == tenders.c.payment_id),
        )
        .where(tenders.c.tenant_id == tenant_id)
    ):
        owner = str(row.member_id) if row.tender == "POINTS" else row.instrument
        moved[owner] = moved.get(owner, 0) + row.captured_units - row.refunded_units
    return moved
