"""Scheduled triggers: birthday, enrolment anniversary, inactivity, a fixed date. The job
rewards each occurrence once, even when it runs twice or on two replicas at the same time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.rules.schedules import run_scheduled_at
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, graphql

from tests.test_rules_campaigns import Shop

BIRTHDAY_NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def _member_born(shop: Shop, email: str, birth_date: str) -> str:
    body = await graphql(
        shop.client,
        "mutation($input: MemberCreateInput!) { memberCreate(input: $input) { member { id } } }",
        {
            "input": {
                "identifiers": [{"kind": "EMAIL", "value": email}],
                "profile": {"birthDate": birth_date},
            }
        },
        token=admin_token(shop.tenant_id),
    )
    return str(body["data"]["memberCreate"]["member"]["id"])


async def _twice_at_once(db: Database, tenant: Tenant, now: datetime) -> list[int]:
    return list(await asyncio.gather(*(run_scheduled_at(db, tenant, now) for _ in range(2))))


async def test_birthday_bonus_once_a_year_even_with_two_runs_at_once(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    await shop.campaign("Birthday bonus", trigger="schedule.birthday", points=250)
    today = await _member_born(shop, "ada@example.com", "1990-11-23")
    other = await _member_born(shop, "bob@example.com", "1990-11-24")

    runs = await _twice_at_once(db, tenant, BIRTHDAY_NOW)
    again = await run_scheduled_at(db, tenant, BIRTHDAY_NOW + timedelta(hours=3))

    assert sorted(runs) == [0, 1]
    assert again == 0
    assert await shop.balance(today) == 250
    assert await shop.balance(other) == 0
    next_year = await run_scheduled_at(db, tenant, BIRTHDAY_NOW + timedelta(days=365))
    assert next_year == 1
    assert await shop.balance(today) == 500


async def test_enrolment_anniversary_and_a_fixed_date(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    member = await shop.member()
    created = datetime.now(UTC)
    await shop.campaign(trigger="schedule.anniversary", points=100)
    on_date: dict[str, Any] = {"onDate": (created + timedelta(days=10)).date().isoformat()}
    await shop.campaign(trigger="schedule.date", points=7, **on_date)

    assert await run_scheduled_at(db, tenant, created) == 0
    assert await run_scheduled_at(db, tenant, created + timedelta(days=10)) == 1
    assert await run_scheduled_at(db, tenant, created + timedelta(days=365)) == 1
    assert await run_scheduled_at(db, tenant, created + timedelta(days=365)) == 0
    assert await shop.balance(member) == 107


async def test_inactivity_fires_once_per_spell_of_inactivity(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant, rate="0")
    await shop.campaign(
        "We miss you",
        trigger="schedule.inactivity",
        inactiveDays=30,
        points=40,
        condition="member.purchaseCount >= 1",
    )
    member = await shop.member()
    last = datetime.now(UTC) - timedelta(days=1)
    await shop.event(member, at=last.isoformat())
    await shop.member()  # never bought anything: the condition leaves them out

    assert await run_scheduled_at(db, tenant, last + timedelta(days=29)) == 0
    assert await run_scheduled_at(db, tenant, last + timedelta(days=31)) == 1
    assert await run_scheduled_at(db, tenant, last + timedelta(days=60)) == 0
    assert await shop.balance(member) == 40


async def test_a_scheduled_campaign_needs_its_parameters(make_app: MakeApp, tenant: Tenant) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    [inactive] = await shop.try_campaign(trigger="schedule.inactivity")
    [on_date] = await shop.try_campaign(trigger="schedule.date")
    [bad] = await shop.try_campaign(trigger="schedule.birthday", condition="event.payload.x")
    assert (inactive["field"], on_date["field"], bad["code"]) == (
        "inactiveDays",
        "onDate",
        "INVALID_CONDITION",
    )
