"""Offer rewards and their clearing movements reconcile with the ledger whatever happens.

Hypothesis generates a list of operations on one tenant with clearing and partner offers:
purchases at the retailer's till (with or without the article some offers want), partial
refunds of them, members activating offers, and partners' catalogue syncs (newer, replayed
or older versions, changing the reward). Each example replays its list against a fresh
tenant through the real gateway and checks what must hold:

* every reward's ledger transaction credited the member exactly its points, and the core's
  reversals of it took back exactly what the module recorded as reversed;
* per partner, its ``FUNDED`` lines are the points of its offers' rewards, its
  ``REVERSAL`` lines what refunds took back of them, and its position in the ledger is
  their price (1 cent a point);
* an offer's ``used`` counts its rewards, never beyond its budget, and no day passes its cap.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyalty_clearing.tables import movements
from loyalty_core.db.engine import Database
from loyalty_core.events.tables import events as stored
from loyalty_core.ledger.tables import ledger_accounts, ledger_entries, ledger_transactions
from loyalty_partner_offers.tables import daily, offers, redemptions, reversals
from loyalty_testing import MakeApp, RunningGateway, create_test_tenant, enable_for, graphql
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.api import pos_key
from tests.clearing import INGEST, clearing_balances
from tests.partner_offers import ACTIVATE, SYNC, Programme, offer_input, offers_seen

SKU = "SH-1"


@dataclass(frozen=True)
class Purchase:
    member: int
    amount: int
    with_sku: bool


@dataclass(frozen=True)
class Refund:
    purchase: int
    percent: int


@dataclass(frozen=True)
class Activate:
    member: int


@dataclass(frozen=True)
class Sync:
    offer: int
    step: int
    value: int


operations = st.one_of(
    st.builds(Purchase, st.integers(0, 1), st.integers(100, 6_000), st.booleans()),
    st.builds(Refund, st.integers(0, 20), st.integers(1, 100)),
    st.builds(Activate, st.integers(0, 1)),
    st.builds(Sync, st.integers(0, 2), st.integers(-1, 2), st.integers(1, 90)),
)


def _auto(value: int) -> dict[str, Any]:
    return offer_input("Auto", value=str(value), perMemberLimit=50)


def _clip(value: int) -> dict[str, Any]:
    return offer_input(
        "Clip",
        reward="PER_UNIT",
        value=str(value),
        activation="CLIP",
        perMemberLimit=50,
        requirements={"skus": [SKU]},
    )


def _double(value: int) -> dict[str, Any]:
    return offer_input(
        "Double", reward="MULTIPLIER", value=str(2 + value % 2), budget=3, perMemberLimit=50
    )


CATALOGUE: tuple[tuple[str, str, Callable[[int], dict[str, Any]]], ...] = (
    ("Cinema", "auto", _auto),
    ("Cinema", "clip", _clip),
    ("Drugstore", "double", _double),
)
"""(partner, external id, the offer for a reward value) of each partner offer."""


@dataclass
class World:
    town: Programme
    till: str
    members: list[str]
    versions: dict[int, int] = field(default_factory=lambda: {0: 1, 1: 1, 2: 1})
    purchases: list[tuple[str, str, int]] = field(default_factory=list)


_gateways: list[RunningGateway] = []


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ops=st.lists(operations, min_size=1, max_size=14))
async def test_offer_rewards_and_clearing_reconcile_with_the_ledger(
    make_app: MakeApp, db: Database, ops: list[object]
) -> None:
    if not _gateways:
        _gateways.append(await make_app())
    world = await _start(_gateways[0], db)
    for op in ops:
        await _apply(world, op)
    await _check(world, db)


async def _start(gateway: RunningGateway, db: Database) -> World:
    tenant = await create_test_tenant(db)
    await enable_for(db, gateway.registry, tenant, "clearing", {"period": "monthly"})
    await enable_for(db, gateway.registry, tenant, "partner_offers", {})
    town = Programme(gateway, tenant, db)
    await town.partner("Cinema")
    await town.partner("Drugstore")
    for partner, external, make in CATALOGUE:
        item = {"externalId": external, "version": 1, "offer": make(10)}
        body = await town.as_partner(partner, SYNC, {"input": {"offers": [item]}})
        assert body["data"]["offerCatalogSync"]["errors"] == [], body
    await town.create(offer_input("Own", value="7", dailyCap=2, perMemberLimit=50))
    till = await pos_key(gateway.client, tenant.id)
    return World(town, till, [await town.member(), await town.member()])


async def _apply(world: World, op: object) -> None:
    town = world.town
    match op:
        case Purchase(member, amount, with_sku):
            items = [{"sku": SKU if with_sku else "X-1", "quantity": 1, "unitPrice": amount}]
            done = await town.till(world.till, world.members[member], amount, items)
            world.purchases.append((world.members[member], done["event"]["id"], amount))
        case Refund(index, percent) if world.purchases:
            buyer, _, paid = world.purchases[index % len(world.purchases)]
            purchase_external = await _external(world, index % len(world.purchases))
            await _refund(world, buyer, purchase_external, max(1, paid * percent // 100))
        case Activate(member):
            listed = await town.as_member(
                world.members[member],
                "query($id: ID!) { member(id: $id) { offers(first: 100) "
                "{ edges { node { offer { id activation } } } } } }",
                {"id": world.members[member]},
            )
            for entry in offers_seen(listed):
                if entry["offer"]["activation"] == "CLIP":
                    body = await town.as_member(
                        world.members[member],
                        ACTIVATE,
                        {"input": {"offerId": entry["offer"]["id"]}},
                    )
                    assert body["data"]["offerActivate"]["errors"] == [], body
        case Sync(offer, step, value):
            partner, external, make = CATALOGUE[offer]
            version = max(1, world.versions[offer] + step)
            item = {"externalId": external, "version": version, "offer": make(value)}
            body = await town.as_partner(partner, SYNC, {"input": {"offers": [item]}})
            [result] = body["data"]["offerCatalogSync"]["results"]
            assert result["written"] is (version > world.versions[offer])
            world.versions[offer] = max(version, world.versions[offer])


async def _external(world: World, index: int) -> str:
    """The till's external id of purchase ``index`` (the till sends random ones)."""
    event_id = uuid.UUID(world.purchases[index][1])
    async with world.town.db.tenant_transaction(world.town.tenant.id) as conn:
        found = await conn.scalar(select(stored.c.external_id).where(stored.c.id == event_id))
    assert found is not None
    return str(found)


async def _refund(world: World, member: str, purchase_external: str, amount: int) -> None:
    body = await graphql(
        world.town.gateway.client,
        INGEST,
        {
            "input": {
                "type": "refund",
                "source": "till-1",
                "externalId": uuid.uuid4().hex,
                "memberId": member,
                "occurredAt": datetime.now(UTC).isoformat(),
                "payload": {
                    "amount": amount,
                    "currency": "EUR",
                    "purchaseExternalId": purchase_external,
                },
            }
        },
        api_key=world.till,
    )
    codes = [e["code"] for e in body["data"]["eventIngest"]["errors"]]
    assert codes in ([], ["REFUND_EXCEEDS_PURCHASE"]), body


async def _check(world: World, db: Database) -> None:
    tenant_id = world.town.tenant.id
    async with db.tenant_transaction(tenant_id) as conn:
        rows = list(await conn.execute(select(redemptions)))
        for row in rows:
            assert await _member_movement(conn, [row.transaction_id]) == row.points
        taken = list(await conn.execute(select(reversals)))
        recorded = sum(r.points for r in taken)
        undone = [r.transaction_id for r in taken if r.transaction_id is not None]
        assert -(await _member_movement(conn, undone)) == recorded
        assert sum(r.reversed for r in rows) == recorded
        # clearing: per partner, funded and credited back points, and the money
        funded: dict[object, int] = defaultdict(int)
        back: dict[object, int] = defaultdict(int)
        for row in rows:
            if row.partner_id is not None:
                funded[row.partner_id] += row.points
                back[row.partner_id] += row.reversed
        lines = await conn.execute(
            select(movements.c.partner_id, movements.c.kind, func.sum(movements.c.points)).group_by(
                movements.c.partner_id, movements.c.kind
            )
        )
        by_kind = {(r[0], r[1]): int(r[2]) for r in lines}
        for partner in set(funded) | {p for p, _ in by_kind}:
            assert by_kind.get((partner, "funded"), 0) == funded[partner]
            assert by_kind.get((partner, "reversal"), 0) == -back[partner]
            assert by_kind.get((partner, "issued"), 0) == 0  # the retailer's till
        # budgets and caps: a reward reversed in full gave its claims back
        for offer in await conn.execute(select(offers)):
            count = sum(1 for r in rows if r.offer_id == offer.id and r.reversed < r.points)
            if offer.budget is not None:
                assert offer.used == count <= offer.budget
        for day in await conn.execute(select(daily)):
            assert day.used <= 2
    balances = await clearing_balances(db, tenant_id)
    for partner in funded:
        position = balances.get("clearing_eur", {}).get(f"clearing:partner:{partner}", 0)
        assert position == -(funded[partner] - back[partner])


async def _member_movement(conn: AsyncConnection, transaction_ids: list[object]) -> int:
    if not transaction_ids:
        return 0
    total = await conn.scalar(
        select(func.coalesce(func.sum(ledger_entries.c.amount), 0))
        .join(
            ledger_accounts,
            (ledger_accounts.c.tenant_id == ledger_entries.c.tenant_id)
            & (ledger_accounts.c.id == ledger_entries.c.account_id),
        )
        .join(
            ledger_transactions,
            (ledger_transactions.c.tenant_id == ledger_entries.c.tenant_id)
            & (ledger_transactions.c.id == ledger_entries.c.transaction_id),
        )
        .where(
            ledger_entries.c.transaction_id.in_(transaction_ids),
            ledger_accounts.c.member_id.is_not(None),
        )
    )
    return int(total or 0)
