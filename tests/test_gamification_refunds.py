"""Refunds reverse what their purchase counted toward challenges and streaks: a purchase
refunded in full takes its steps back and no longer keeps its day, once however many refunds
and concurrent ones it takes (the challenge's explanation shows the refund); a partial refund
leaves them, unless the money kept no longer meets a step's, a streak's or a badge's
condition, which it then loses; a completed challenge stays completed and paid (badges: see
test_gamification_badges)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_gamification.streaks import Run, replay
from loyalty_gamification.tables import member_streaks
from loyalty_testing import MakeApp, graphql
from sqlalchemy import select

from tests.gamification import Shop, reward_transactions

EXPLAINED = """
query($id: ID!) { member(id: $id) { challenges { contributions { steps refundOf } } } }
"""


def counts(mission: dict[str, Any]) -> list[int]:
    return [step["count"] for step in mission["steps"]]


async def test_a_purchase_refunded_in_full_takes_its_challenge_steps_back_once(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    await shop.challenge(rewardPoints=75)
    mia = await shop.member()
    await shop.ingest(mia, "coffee-1", store="coffee-bar")
    coffee_2 = await shop.ingest(mia, "coffee-2", store="coffee-bar", amount=1000)
    assert counts((await shop.member_challenges(mia))["Coffee and a book"]) == [2, 0]

    await shop.refund(mia, "coffee-2", "r-half", 500)
    assert counts((await shop.member_challenges(mia))["Coffee and a book"]) == [2, 0]
    # The rest in two concurrent refunds: whichever completes the refund takes the step
    # back, once.
    await asyncio.gather(
        shop.refund(mia, "coffee-2", "r-rest-1", 250), shop.refund(mia, "coffee-2", "r-rest-2", 250)
    )
    assert counts((await shop.member_challenges(mia))["Coffee and a book"]) == [1, 0]
    body = await graphql(shop.gateway.client, EXPLAINED, {"id": mia}, token=shop.admin)
    [mission] = body["data"]["member"]["challenges"]
    assert [(c["steps"], c["refundOf"]) for c in mission["contributions"]] == [
        (["A coffee"], None),
        (["A coffee"], None),
        (["A coffee"], coffee_2),
    ]

    await shop.ingest(mia, "coffee-3", store="coffee-bar")
    await shop.ingest(mia, "book", store="bookshop")
    mission = (await shop.member_challenges(mia))["Coffee and a book"]
    assert mission["completedAt"] is not None
    await shop.refund(mia, "book", "r-book", 1000)
    mission = (await shop.member_challenges(mia))["Coffee and a book"]
    assert (counts(mission), mission["completedAt"] is not None) == ([2, 1], True)
    assert await reward_transactions(db, tenant) == {"earn": 1}


async def test_a_partial_refund_below_a_condition_takes_back_what_the_condition_counted(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    steps = [
        {"name": "Big", "eventType": "purchase", "target": 3, "condition": "event.amount >= 2000"},
        {"name": "Any", "eventType": "purchase", "target": 5},
    ]
    await shop.challenge(name="Big and small", steps=steps)
    await shop.streak(name="Big days", condition="event.payload.amount >= 2000")
    await shop.streak(name="Daily")
    await shop.badge(
        name="Big basket",
        target=1,
        repeatable=True,
        condition="event.amount >= 2000",
        revokeOnRefund=True,
        rewardPoints=10,
    )
    mia = await shop.member()
    today = datetime.now(UTC)
    await shop.ingest(mia, "yesterday", amount=2500, at=today - timedelta(days=1))
    big = await shop.ingest(mia, "big", amount=2500, at=today)

    def state(
        missions: dict[str, dict[str, Any]], runs: dict[str, dict[str, Any]]
    ) -> tuple[list[int], int, int]:
        return (
            counts(missions["Big and small"]),
            runs["Big days"]["length"],
            runs["Daily"]["length"],
        )

    async def now() -> tuple[list[int], int, int]:
        return state(await shop.member_challenges(mia), await shop.member_streaks(mia))

    assert await now() == ([2, 2], 2, 2)
    # 2200 kept still meets every condition: nothing changes.
    await shop.refund(mia, "big", "r-1", 300)
    assert await now() == ([2, 2], 2, 2)
    # Two concurrent refunds of 100: whichever comes second leaves 2000 kept, which still
    # meets them.
    await asyncio.gather(shop.refund(mia, "big", "r-2", 100), shop.refund(mia, "big", "r-3", 100))
    assert await now() == ([2, 2], 2, 2)
    # Two concurrent refunds of 200 through two gateway instances: the first to commit
    # leaves 1800, below the conditions, and takes back once; the second takes nothing more.
    second = await make_app()
    taking = await asyncio.gather(
        shop.refund(mia, "big", "r-4a", 200),
        shop.ingest(
            mia, "r-4b", type="refund", amount=200, purchaseExternalId="big", gateway=second
        ),
    )
    assert await now() == ([1, 2], 1, 2)
    badge = (await shop.member_badges(mia))["Big basket"]
    assert (badge["progress"], badge["earned"]) == (1, 1)
    assert badge["awards"][0]["revokedBy"] is None
    assert badge["awards"][1]["revokedBy"] in taking
    assert await reward_transactions(db, tenant) == {"earn": 2, "reversal": 1}
    # Concurrent refunds below it take nothing more back; the last in full takes "Any" and
    # the day of the streak without a condition.
    await asyncio.gather(shop.refund(mia, "big", "r-5", 100), shop.refund(mia, "big", "r-6", 100))
    assert await now() == ([1, 2], 1, 2)
    await shop.refund(mia, "big", "r-7", 1400)
    assert await now() == ([1, 1], 1, 1)
    body = await graphql(shop.gateway.client, EXPLAINED, {"id": mia}, token=shop.admin)
    [mission] = body["data"]["member"]["challenges"]
    assert [(c["steps"], c["refundOf"]) for c in mission["contributions"]] == [
        (["Big", "Any"], None),
        (["Big", "Any"], None),
        (["Big"], big),
        (["Any"], big),
    ]
    assert await reward_transactions(db, tenant) == {"earn": 2, "reversal": 1}
    assert (await shop.member_badges(mia))["Big basket"]["progress"] == 1


async def _run(db: Database, tenant: Tenant, member: str) -> tuple[int, int, int] | None:
    """The member's stored run: (length, best, freezes spent)."""
    async with db.tenant_transaction(tenant.id) as conn:
        row = (
            await conn.execute(
                select(member_streaks).where(
                    member_streaks.c.tenant_id == tenant.id,
                    member_streaks.c.member_id == uuid.UUID(member),
                )
            )
        ).first()
    return None if row is None else (row.length, row.best, row.freezes_spent)


async def test_a_purchase_refunded_in_full_no_longer_keeps_its_streak_day(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    await shop.streak(name="Daily")
    mia, noah = await shop.member(), await shop.member()
    today = datetime.now(UTC)
    for days in (3, 2, 1, 0):
        await shop.ingest(mia, f"day-{days}", at=today - timedelta(days=days))
    await shop.ingest(mia, "day-0-again", at=today)
    assert await _run(db, tenant, mia) == (4, 4, 0)

    await shop.refund(mia, "day-0-again", "r-1", 1000)
    assert await _run(db, tenant, mia) == (4, 4, 0)
    await shop.refund(mia, "day-1", "r-2", 400)
    assert await _run(db, tenant, mia) == (4, 4, 0)
    await shop.refund(mia, "day-1", "r-3", 600)
    assert await _run(db, tenant, mia) == (1, 2, 0)
    assert (await shop.member_streaks(mia))["Daily"]["length"] == 1

    await shop.ingest(noah, "only", at=today)
    await shop.refund(noah, "only", "r-only", 1000)
    assert await _run(db, tenant, noah) is None
    assert (await shop.member_streaks(noah))["Daily"]["length"] == 0


def test_a_replayed_run_follows_the_live_rules_with_freezes() -> None:
    assert replay([], 2, 1) is None
    # Day 10 and 11 (a freeze earned at length 2), 13 (the freeze spent on 12), 17 (a gap
    # of three: a new run, the best kept).
    assert replay([10, 11, 13, 17], 2, 1) == Run(1, 3, 17, 17, 0, 1)
    assert replay([10, 11, 13], 2, 1) == Run(3, 3, 10, 13, 0, 1)
