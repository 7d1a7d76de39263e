"""Live progress equals a recomputation from the stored events, whatever the history.

Hypothesis generates a history of purchases (two members, amounts on either side of a
condition's threshold, days spread over two months and a daylight-saving change) and
refunds (partial or in full, of any earlier purchase); each example ingests it through the
real gateway into a fresh tenant with three badges of different kinds: a count to a target
that revokes on refund, a monthly sum with a condition that is repeatable and keeps what was
earned, and a weekly count capped at one a day. Then it reads the stored events back and
recomputes every progress from them with the rules the module documents (a refund keeps a
purchase's share of what it brought, rounded up, unless the money kept no longer meets the
condition that counted it), and compares: value, completions held and
ever paid, awards held, and reward and reversal transactions in the ledger. A challenge's
step counts and two daily streaks' units are recomputed too: a purchase counts until it is
refunded in full, or, for a step, streak or badge with a condition on the amount, until the
money kept no longer meets it.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyalty_core.db.engine import Database
from loyalty_core.events.tables import events
from loyalty_core.ledger.tables import ledger_transactions
from loyalty_gamification.tables import awards, challenge_progress, progress, streak_units
from loyalty_testing import MakeApp, RunningGateway, create_test_tenant, enable_for
from sqlalchemy import func, select

from tests.api import pos_key
from tests.gamification import Shop

BASE = datetime(2026, 3, 31, 9, tzinfo=UTC)
"""A week after Europe's spring change: the history straddles it and a month's end."""

BIG = 1000
"""The amount the conditions ask for: purchases of 1500 and 2500 meet it, until refunds
leave less."""

BADGES: dict[str, dict[str, Any]] = {
    "count": {"target": 3, "revokeOnRefund": True, "rewardPoints": 10},
    "monthly-sum": {
        "measure": "SUM",
        "sumField": "amount",
        "period": "MONTH",
        "target": 4000,
        "repeatable": True,
        "condition": f"event.amount >= {BIG}",
        "rewardPoints": 5,
    },
    "weekly-capped": {
        "period": "WEEK",
        "target": 2,
        "dailyCap": 1,
        "repeatable": True,
        "revokeOnRefund": True,
        "rewardPoints": 7,
    },
}

purchases = st.tuples(
    st.just("buy"),
    st.integers(0, 1),
    st.sampled_from([500, 1500, 2500]),
    st.integers(0, 40),
    st.integers(0, 23),
)
refunds = st.tuples(st.just("refund"), st.integers(0, 30), st.booleans())
history = st.lists(st.one_of(purchases, purchases, refunds), min_size=1, max_size=18)


@dataclass
class Model:
    """The badges' progress recomputed from the stored events."""

    badges: dict[str, dict[str, Any]]
    zone: ZoneInfo
    value: dict[tuple[str, str, str], int] = field(default_factory=lambda: defaultdict(int))
    earned: dict[tuple[str, str, str], int] = field(default_factory=lambda: defaultdict(int))
    awarded: dict[tuple[str, str, str], int] = field(default_factory=lambda: defaultdict(int))
    days: dict[tuple[str, str, object], int] = field(default_factory=lambda: defaultdict(int))
    granted: dict[tuple[str, uuid.UUID], tuple[str, int]] = field(default_factory=dict)
    net: dict[tuple[str, uuid.UUID], int] = field(default_factory=dict)
    revoked: int = 0

    def completions(self, name: str, value: int) -> int:
        reached = max(value, 0) // int(self.badges[name]["target"])
        return reached if self.badges[name].get("repeatable") else min(reached, 1)

    def period(self, name: str, at: datetime) -> str:
        local = at.astimezone(self.zone)
        match self.badges[name].get("period", "ALL_TIME"):
            case "MONTH":
                return f"month:{local.year}-{local.month:02d}"
            case "WEEK":
                iso = local.isocalendar()
                return f"week:{iso.year}-W{iso.week:02d}"
        return "all"

    def purchase(self, event_id: uuid.UUID, member: str, amount: int, at: datetime) -> None:
        for name, badge in self.badges.items():
            if badge.get("condition") and amount < BIG:
                continue
            offered = amount if badge.get("measure") == "SUM" else 1
            granted = offered
            if "dailyCap" in badge:
                day = (name, member, at.astimezone(self.zone).date())
                cap = int(badge["dailyCap"])
                granted = min(cap, self.days[day] + offered) - self.days[day]
                self.days[day] += granted
            key = (name, member, self.period(name, at))
            self.granted[(name, event_id)] = (key[2], granted)
            self.net[(name, event_id)] = granted
            if granted <= 0:
                continue
            self.value[key] += granted
            reached = self.completions(name, self.value[key])
            self.awarded[key] += max(reached - self.earned[key], 0)
            self.earned[key] = max(self.earned[key], reached)

    def refund(self, purchase: uuid.UUID, member: str, amount: int, refunded: int) -> None:
        for name, badge in self.badges.items():
            if (name, purchase) not in self.granted:
                continue
            period, granted = self.granted[(name, purchase)]
            kept = 0 if refunded >= amount else math.ceil(granted * (amount - refunded) / amount)
            if badge.get("condition") and amount - refunded < BIG:
                kept = 0
            taken = self.net[(name, purchase)] - kept
            if taken <= 0:
                continue
            self.net[(name, purchase)] = kept
            key = (name, member, period)
            self.value[key] -= taken
            if badge.get("revokeOnRefund"):
                held = min(self.earned[key], self.completions(name, self.value[key]))
                self.revoked += self.earned[key] - held
                self.earned[key] = held


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=history)
async def test_progress_equals_a_recomputation_from_the_stored_events(
    make_app: MakeApp, db: Database, ops: list[tuple[Any, ...]]
) -> None:
    gateway = await _gateway(make_app)
    tenant = await create_test_tenant(db)
    await enable_for(db, gateway.registry, tenant, "gamification", {})
    shop = Shop(gateway, tenant, "")
    shop.key = await _key(shop)
    ids = {name: (await shop.badge(name=name, **fields))["id"] for name, fields in BADGES.items()}
    daily = (await shop.streak(name="Daily"))["streak"]["id"]
    big_days = (await shop.streak(name="Big days", condition=f"event.amount >= {BIG}"))["streak"]
    streak_ids = {daily: 0, big_days["id"]: BIG}
    steps = [
        {
            "name": "Big",
            "eventType": "purchase",
            "target": 99,
            "condition": f"event.amount >= {BIG}",
        },
        {"name": "Any", "eventType": "purchase", "target": 99},
    ]
    window = {"startsAt": (BASE - timedelta(days=60)).isoformat(), "endsAt": _LATER}
    assert (await shop.challenge(name="Collector", steps=steps, **window))["errors"] == []
    members = [await shop.member() for _ in range(2)]
    bought: list[tuple[str, str, int]] = []
    remaining: dict[str, int] = {}
    for n, op in enumerate(ops):
        if op[0] == "buy":
            _, who, amount, days, hour = op
            at = BASE - timedelta(days=int(days)) + timedelta(hours=int(hour))
            member = members[int(who)]
            await shop.ingest(member, f"p-{n}", amount=int(amount), at=at)
            bought.append((member, f"p-{n}", int(amount)))
            remaining[f"p-{n}"] = int(amount)
        elif bought:
            _, index, full = op
            member, external_id, _amount = bought[int(index) % len(bought)]
            left = remaining[external_id]
            if left == 0:
                continue
            refund = left if full else max(left // 2, 1)
            remaining[external_id] -= refund
            await shop.refund(member, external_id, f"r-{n}", refund)

    model = Model({ids[name]: fields for name, fields in BADGES.items()}, ZoneInfo(tenant.timezone))
    async with db.tenant_transaction(tenant.id) as conn:
        stored = (
            await conn.execute(
                select(events).where(events.c.tenant_id == tenant.id).order_by(events.c.id)
            )
        ).all()
        refunded: dict[uuid.UUID, int] = defaultdict(int)
        amounts = {row.id: row.amount for row in stored}
        counted_steps: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        units: dict[tuple[str, str, int], set[uuid.UUID]] = defaultdict(set)
        zone = ZoneInfo(tenant.timezone)
        for row in stored:
            if row.type == "purchase":
                model.purchase(row.id, str(row.member_id), row.amount, row.occurred_at)
            else:
                refunded[row.purchase_id] += row.amount
                model.refund(
                    row.purchase_id,
                    str(row.member_id),
                    amounts[row.purchase_id],
                    refunded[row.purchase_id],
                )
        for row in stored:
            if row.type != "purchase":
                continue
            member_steps = counted_steps[str(row.member_id)]
            kept = row.amount - refunded[row.id]
            if kept > 0:
                member_steps[0] += int(kept >= BIG)
                member_steps[1] += 1
            day = row.occurred_at.astimezone(zone).toordinal()
            for streak_id, least in streak_ids.items():
                if kept > 0 and kept >= least:
                    units[(streak_id, str(row.member_id), day)].add(row.id)
        live_steps = {
            str(r.member_id): list(r.counts)
            for r in await conn.execute(
                select(challenge_progress).where(challenge_progress.c.tenant_id == tenant.id)
            )
        }
        live_units = {
            (str(r.streak_id), str(r.member_id), r.unit): set(r.purchases)
            for r in await conn.execute(
                select(streak_units).where(streak_units.c.tenant_id == tenant.id)
            )
        }
        live = {
            (str(r.badge_id), str(r.member_id), r.period_key): (r.value, r.earned, r.awarded)
            for r in await conn.execute(select(progress).where(progress.c.tenant_id == tenant.id))
        }
        held = {
            (str(badge), str(member), period): count
            for badge, member, period, count in await conn.execute(
                select(awards.c.badge_id, awards.c.member_id, awards.c.period_key, func.count())
                .where(awards.c.tenant_id == tenant.id, awards.c.revoked_at.is_(None))
                .group_by(awards.c.badge_id, awards.c.member_id, awards.c.period_key)
            )
        }
        kinds: dict[str, int] = dict(
            (
                await conn.execute(
                    select(ledger_transactions.c.kind, func.count())
                    .where(
                        ledger_transactions.c.tenant_id == tenant.id,
                        ledger_transactions.c.cause_kind == "gamification",
                    )
                    .group_by(ledger_transactions.c.kind)
                )
            ).all()
        )

    expected = {
        key: (model.value[key], model.earned[key], model.awarded[key])
        for key in model.value
        if model.value[key] or model.awarded[key]
    }
    assert {k: v for k, v in live.items() if v != (0, 0, 0)} == expected
    assert held == {key: earned for key, earned in model.earned.items() if earned}
    assert kinds.get("earn", 0) == sum(model.awarded.values())
    assert kinds.get("reversal", 0) == model.revoked
    assert live_steps == dict(counted_steps)
    assert {k: v for k, v in live_units.items() if v} == {k: v for k, v in units.items() if v}


_LATER = (BASE + timedelta(days=2)).isoformat()

_GATEWAYS: dict[int, RunningGateway] = {}


async def _gateway(make_app: MakeApp) -> RunningGateway:
    """One gateway for all examples of a run (each example has a tenant of its own)."""
    found = _GATEWAYS.get(id(make_app))
    if found is None:
        found = _GATEWAYS[id(make_app)] = await make_app()
    return found


async def _key(shop: Shop) -> str:
    return await pos_key(shop.gateway.client, shop.tenant.id)
