"""Streaks count local calendar days and weeks: across daylight-saving changes in
Europe/Berlin and America/New_York, with a freeze earned and spent, milestones paid once per
run, late events ignored, and bad definitions refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_gamification.tables import member_streaks
from loyalty_testing import MakeApp, enable_for, graphql
from sqlalchemy import select

from tests.gamification import Shop, reward_transactions, zoned_tenant


async def _run(db: Database, tenant: Tenant, member: str) -> tuple[int, int]:
    """The member's stored run: (length, best)."""
    async with db.tenant_transaction(tenant.id) as conn:
        row = (
            await conn.execute(
                select(member_streaks).where(
                    member_streaks.c.tenant_id == tenant.id,
                    member_streaks.c.member_id == uuid.UUID(member),
                )
            )
        ).one()
    return row.length, row.best


async def test_berlin_days_are_local_days_across_the_spring_change(
    make_app: MakeApp, db: Database
) -> None:
    tenant = await zoned_tenant(db, "Europe/Berlin")
    shop = await Shop.open(make_app, db, tenant)
    await shop.streak(name="Daily")
    mia = await shop.member()
    berlin = ZoneInfo("Europe/Berlin")
    late_on_27th = datetime(2026, 3, 27, 23, 30, tzinfo=berlin)
    late_on_28th = datetime(2026, 3, 28, 23, 30, tzinfo=berlin)
    await shop.ingest(mia, "27th", at=late_on_27th)
    await shop.ingest(mia, "28th", at=late_on_28th)
    assert await _run(db, tenant, mia) == (2, 2)
    # 24 hours after 23:30 on the 28th is 00:30 on the 30th (the 29th had 23 hours): the
    # 29th was missed and the run starts again.
    await shop.ingest(mia, "24h-later", at=late_on_28th.astimezone(UTC) + timedelta(hours=24))
    assert await _run(db, tenant, mia) == (1, 2)


async def test_new_york_days_are_local_days_across_both_changes(
    make_app: MakeApp, db: Database
) -> None:
    tenant = await zoned_tenant(db, "America/New_York")
    shop = await Shop.open(make_app, db, tenant)
    await shop.streak(name="Daily")
    mia, noah = await shop.member(), await shop.member()
    new_york = ZoneInfo("America/New_York")
    # Spring: 23:30 on the 7th of March and 23 hours later are two local days in a row.
    spring = datetime(2026, 3, 7, 23, 30, tzinfo=new_york)
    await shop.ingest(mia, "7th", at=spring)
    await shop.ingest(mia, "8th", at=spring.astimezone(UTC) + timedelta(hours=23))
    assert await _run(db, tenant, mia) == (2, 2)
    # Autumn: 00:30 on the 1st of November and 24 hours later are the same local day.
    autumn = datetime(2026, 11, 1, 0, 30, tzinfo=new_york)
    await shop.ingest(noah, "1st", at=autumn)
    await shop.ingest(noah, "1st-again", at=autumn.astimezone(UTC) + timedelta(hours=24))
    assert await _run(db, tenant, noah) == (1, 1)
    await shop.ingest(noah, "2nd", at=datetime(2026, 11, 2, 8, tzinfo=new_york))
    assert await _run(db, tenant, noah) == (2, 2)


async def test_a_freeze_is_earned_then_spent_on_a_missed_day_and_a_milestone_pays_once(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    payload = await shop.streak(
        name="Daily",
        freezeEvery=2,
        maxFreezes=1,
        milestones=[{"length": 3, "points": 30}, {"length": 10, "points": 100}],
    )
    assert payload["errors"] == [], payload
    mia = await shop.member()
    today = datetime.now(UTC) - timedelta(minutes=1)
    for days_ago in (5, 4, 2, 1, 0):  # the third day before today is missed
        await shop.ingest(mia, f"d-{days_ago}", at=today - timedelta(days=days_ago))
    await shop.ingest(mia, "d-0-again", at=today)
    await shop.ingest(mia, "late", at=today - timedelta(days=10))

    daily = (await shop.member_streaks(mia))["Daily"]
    assert (daily["length"], daily["best"]) == (5, 5)
    assert (daily["freezes"], daily["freezesSpent"]) == (1, 1)
    assert daily["lastActiveOn"] == today.date().isoformat()
    assert await reward_transactions(db, tenant) == {"earn": 1}


async def test_a_weekly_streak_counts_iso_weeks_and_a_broken_run_shows_zero(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    await shop.streak(name="Weekly", unit="WEEK")
    mia = await shop.member()
    monday = datetime(2026, 6, 1, 9, tzinfo=UTC)  # a Monday
    for n, at in enumerate([monday, monday + timedelta(days=6), monday + timedelta(days=7)]):
        await shop.ingest(mia, f"w-{n}", at=at)
    assert await _run(db, tenant, mia) == (2, 2)
    weekly = (await shop.member_streaks(mia))["Weekly"]
    assert (weekly["length"], weekly["best"], weekly["lastActiveOn"]) == (0, 2, "2026-06-08")


async def test_a_bad_streak_is_refused_and_nothing_is_saved(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    for fields, code, field in (
        ({"eventType": "teleport"}, "UNKNOWN_EVENT_TYPE", "eventType"),
        ({"condition": "event.amount >"}, "INVALID_CONDITION", "condition"),
        ({"freezeEvery": 0}, "INVALID_INPUT", "freezeEvery"),
        ({"milestones": [{"length": 0, "points": 5}]}, "INVALID_INPUT", "milestones"),
    ):
        payload = await shop.streak(**fields)
        assert payload["streak"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)]
    mia = await shop.member()
    assert await shop.member_streaks(mia) == {}


async def test_a_milestone_pays_another_modules_rule_effect_once_per_run(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    settings = {"currencies": ["EUR"], "max_balance": 10_000}
    await enable_for(db, shop.gateway.registry, tenant, "giftcards", settings)
    bad = await shop.streak(milestones=[{"length": 2, "effect": {"effect": "nowhere.nothing"}}])
    assert [(e["code"], e["field"]) for e in bad["errors"]] == [
        ("INVALID_INPUT", "milestones.0.effect.effect")
    ]
    effect = {"effect": "giftcards.issue_gift_card", "params": {"amount": 1500}}
    made = await shop.streak(milestones=[{"length": 2, "points": 20, "effect": effect}])
    assert made["errors"] == [], made
    mia = await shop.member()
    today = datetime.now(UTC)
    await shop.ingest(mia, "yesterday", at=today - timedelta(days=1))
    await shop.ingest(mia, "today", at=today)
    await shop.ingest(mia, "today-again", at=today)

    body = await graphql(
        shop.gateway.client,
        "query($id: ID!) { member(id: $id) { giftCards { balance } } }",
        {"id": mia},
        token=shop.admin,
    )
    assert [c["balance"] for c in body["data"]["member"]["giftCards"]] == [1500]
    assert await reward_transactions(db, tenant) == {"earn": 1}
