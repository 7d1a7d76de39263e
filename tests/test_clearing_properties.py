"""Clearing keeps its books whole under random workloads.

Hypothesis generates a list of operations over three partners of one tenant: purchases
sent with a partner's key in any month from January to April (also into months already
closed: late movements), refunds of them, redemptions at a partner, new rate cards, operator
adjustments, and period closes in order. Each example replays its list against a fresh
tenant through the real gateway and checks what must hold whatever happened:

* per currency all clearing accounts sum to zero;
* each partner's statements chain: a closing is the next statement's opening;
* the sum over a partner's statements (its last closing) plus what no statement holds yet
  equals its position in the ledger, and every line a statement holds is counted by it;
* once every month with purchases is closed, no statement lacks any of them: what no
  statement holds happened after the last closed period (late purchases were carried);
* every movement is in one statement or none (its statement id is set once).
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyalty_clearing.tables import movements
from loyalty_core.db.engine import Database
from loyalty_testing import MakeApp, RunningGateway, create_test_tenant, enable_for
from sqlalchemy import select

from tests.clearing import ADJUST, Coalition, clearing_balances

PARTNERS = ("Bakery", "Petrol", "Cinema")
PRICES = ("0.01", "0.0125", "0.007", "0.0333")


@dataclass(frozen=True)
class Purchase:
    partner: int
    month: int
    day: int
    amount: int


@dataclass(frozen=True)
class Refund:
    purchase: int
    percent: int


@dataclass(frozen=True)
class Redeem:
    partner: int
    points: int


@dataclass(frozen=True)
class Rate:
    partner: int
    price: int
    months_ahead: int


@dataclass(frozen=True)
class Adjust:
    partner: int
    amount: int


@dataclass(frozen=True)
class Close:
    pass


operations = st.one_of(
    st.builds(
        Purchase,
        st.integers(0, 2),
        st.integers(1, 4),
        st.integers(1, 28),
        st.integers(1, 30_000),
    ),
    st.builds(Refund, st.integers(0, 20), st.integers(1, 100)),
    st.builds(Redeem, st.integers(0, 2), st.integers(1, 60)),
    st.builds(Rate, st.integers(0, 2), st.integers(0, 3), st.integers(0, 2)),
    st.builds(Adjust, st.integers(0, 2), st.integers(-500, 500).filter(bool)),
    st.just(Close()),
)


@dataclass
class World:
    town: Coalition
    ids: list[str]
    member: str
    closed: int = 0  # months closed so far (January is 1)
    purchases: list[tuple[str, str, datetime, int]] = field(default_factory=list)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ops=st.lists(operations, min_size=1, max_size=12))
async def test_clearing_keeps_its_books_whole_under_random_operations(
    make_app: MakeApp, db: Database, ops: list[object]
) -> None:
    world = await _start(await _gateway(make_app), db)
    for op in ops:
        await _apply(world, op)
    await _check(world, db)
    while world.closed < 6:  # close through June: every purchase must land in a statement
        await _apply(world, Close())
    await _check(world, db)


_gateways: list[RunningGateway] = []


async def _gateway(make_app: MakeApp) -> RunningGateway:
    """One gateway for every example of the test (examples differ by tenant)."""
    if not _gateways:
        _gateways.append(await make_app())
    return _gateways[0]


async def _start(gateway: RunningGateway, db: Database) -> World:
    tenant = await create_test_tenant(db)
    await enable_for(db, gateway.registry, tenant, "clearing", {"period": "monthly"})
    town = Coalition(gateway, tenant, db)
    ids = [await town.partner(name) for name in PARTNERS]
    return World(town, ids, await town.member(points=5_000))


async def _apply(world: World, op: object) -> None:
    town = world.town
    match op:
        case Purchase(partner, month, day, amount):
            at = datetime(2026, month, day, 10, tzinfo=UTC)
            external = uuid.uuid4().hex
            done = await town.purchase(
                PARTNERS[partner], world.member, amount, at, external_id=external
            )
            assert done["errors"] == [], done
            world.purchases.append((PARTNERS[partner], external, at, amount))
        case Refund(index, percent) if world.purchases:
            name, external, at, amount = world.purchases[index % len(world.purchases)]
            part = max(1, amount * percent // 100)
            done = await town.refund(name, world.member, external, part, at + timedelta(days=1))
            assert all(e["code"] == "REFUND_EXCEEDS_PURCHASE" for e in done["errors"]), done
        case Redeem(partner, points):
            done = await town.redeem(PARTNERS[partner], world.member, points)
            assert all(e["code"] == "INSUFFICIENT_BALANCE" for e in done["errors"]), done
        case Rate(partner, price, ahead):
            month = world.closed + 1 + ahead
            start = datetime(2026 + (month - 1) // 12, (month - 1) % 12 + 1, 1, tzinfo=UTC)
            await town.rate(
                world.ids[partner], PRICES[price], PRICES[-1 - price], effective_from=start
            )
        case Adjust(partner, amount):
            done = await town.mutate(
                ADJUST,
                {
                    "partnerId": world.ids[partner],
                    "amount": amount,
                    "reason": "property",
                    "idempotencyKey": uuid.uuid4().hex,
                },
            )
            assert done["errors"] == [], done
        case Close() if world.closed < 6:
            world.closed += 1
            done = await town.close(f"2026-{world.closed:02d}-01")
            assert done["errors"] == [], done
            assert not done["replayed"]


async def _check(world: World, db: Database) -> None:
    tenant_id = world.town.tenant.id
    balances = await clearing_balances(db, tenant_id)
    for accounts in balances.values():
        assert sum(accounts.values()) == 0
    statements = sorted(await world.town.statements(), key=lambda s: s["periodStartsOn"])
    async with db.tenant_transaction(tenant_id) as conn:
        rows = (
            await conn.execute(
                select(
                    movements.c.partner_id,
                    movements.c.statement_id,
                    movements.c.amount,
                    movements.c.occurred_at,
                ).where(movements.c.tenant_id == tenant_id)
            )
        ).all()
    closed_until = datetime(2026, world.closed + 1, 1, tzinfo=UTC) if world.closed else None
    for partner_id in world.ids:
        own = [s for s in statements if s["partnerId"] == partner_id]
        for before, after in itertools.pairwise(own):
            assert before["closing"] == after["opening"]
        lines = [r for r in rows if str(r.partner_id) == partner_id]
        open_lines = [r for r in lines if r.statement_id is None]
        last_closing = own[-1]["closing"] if own else 0
        position = balances.get("clearing_eur", {}).get(f"clearing:partner:{partner_id}", 0)
        assert last_closing + sum(r.amount for r in open_lines) == position
        for statement in own:
            held = [r for r in lines if str(r.statement_id) == statement["id"]]
            assert len(held) == statement["lineCount"]
            assert sum(r.amount for r in held) == statement["closing"] - statement["opening"]
        if world.closed == 6:
            assert all(r.occurred_at >= closed_until for r in open_lines)
    held_ids = {s["id"] for s in statements}
    assert all(r.statement_id is None or str(r.statement_id) in held_ids for r in rows)
