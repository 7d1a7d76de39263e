"""Badges through the HTTP API: counting to a target and paying the reward once, sums,
periods, windows, repeatable and secret badges, caps, refunds that revoke or keep, the
explanation of every progress, and a tenant that has not enabled the module."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, enable_for, graphql, member_token

from tests.gamification import MEMBER_BADGES, Shop, reward_transactions


async def test_a_badge_is_earned_at_its_target_and_rewarded_once(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    badge = await shop.badge(name="Regular", target=3, rewardPoints=50)
    assert badge["reward"] == {"points": 50, "asset": "points", "effect": None, "params": None}
    mia = await shop.member()
    events = [await shop.ingest(mia, f"r-{n}") for n in range(4)]

    regular = (await shop.member_badges(mia))["Regular"]
    assert (regular["progress"], regular["target"], regular["earned"]) == (4, 3, 1)
    [award] = regular["awards"]
    assert award["eventId"] == events[2]
    assert award["transactionId"] is not None
    assert [c["eventId"] for c in regular["contributions"]] == events
    assert await reward_transactions(db, tenant) == {"earn": 1}


async def test_a_sum_badge_counts_the_field_and_a_condition_filters(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    await shop.badge(
        name="Bookworm",
        measure="SUM",
        sumField="amount",
        target=5000,
        condition='event.payload.store == "bookshop"',
    )
    mia = await shop.member()
    await shop.ingest(mia, "b-1", amount=3000, store="bookshop")
    await shop.ingest(mia, "c-1", amount=9000, store="coffee-bar")
    assert (await shop.member_badges(mia))["Bookworm"]["progress"] == 3000
    await shop.ingest(mia, "b-2", amount=2500, store="bookshop")
    bookworm = (await shop.member_badges(mia))["Bookworm"]
    assert (bookworm["progress"], bookworm["earned"]) == (5500, 1)


async def test_a_monthly_badge_starts_again_each_month_in_the_tenants_zone(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    await shop.badge(name="Monthly", period="MONTH", target=2)
    mia = await shop.member()
    now = datetime.now(UTC)
    last_month = now.replace(day=1) - timedelta(days=3)
    await shop.ingest(mia, "old-1", at=last_month)
    await shop.ingest(mia, "old-2", at=last_month)
    await shop.ingest(mia, "new-1", at=now)
    monthly = (await shop.member_badges(mia))["Monthly"]
    assert monthly["periodKey"].startswith("month:")
    assert (monthly["progress"], monthly["earned"]) == (1, 0)
    assert [a["periodKey"] for a in monthly["awards"]] == [
        f"month:{last_month.year}-{last_month.month:02d}"
    ]


async def test_a_window_counts_only_events_inside_it(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    now = datetime.now(UTC)
    await shop.badge(
        name="Festival",
        period="WINDOW",
        startsAt=(now - timedelta(days=2)).isoformat(),
        endsAt=(now + timedelta(days=2)).isoformat(),
        target=2,
    )
    mia = await shop.member()
    await shop.ingest(mia, "before", at=now - timedelta(days=3))
    await shop.ingest(mia, "inside", at=now - timedelta(days=1))
    festival = (await shop.member_badges(mia))["Festival"]
    assert (festival["periodKey"], festival["progress"]) == ("window", 1)


async def test_a_repeatable_badge_is_earned_at_every_target(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    await shop.badge(name="Stamp card", target=2, repeatable=True, rewardPoints=5)
    mia = await shop.member()
    for n in range(5):
        await shop.ingest(mia, f"s-{n}")
    card = (await shop.member_badges(mia))["Stamp card"]
    assert (card["progress"], card["earned"], len(card["awards"])) == (5, 2, 2)
    assert await reward_transactions(db, tenant) == {"earn": 2}


async def test_a_daily_cap_limits_progress_per_local_day_and_shows_what_was_offered(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    await shop.badge(name="Visits", target=3, dailyCap=1)
    mia = await shop.member()
    now = datetime.now(UTC)
    for n in range(3):
        await shop.ingest(mia, f"same-day-{n}", at=now)
    await shop.ingest(mia, "next-day", at=now - timedelta(days=1))
    visits = (await shop.member_badges(mia))["Visits"]
    assert visits["progress"] == 2
    assert sorted((c["amount"], c["offered"]) for c in visits["contributions"]) == [
        (0, 1),
        (0, 1),
        (1, 1),
        (1, 1),
    ]


async def test_a_refund_revokes_a_badge_that_says_so_and_reverses_its_reward(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    await shop.badge(name="Strict", target=2, revokeOnRefund=True, rewardPoints=40)
    await shop.badge(name="Lenient", target=2, rewardPoints=10)
    mia = await shop.member()
    await shop.ingest(mia, "p-1", amount=2000)
    await shop.ingest(mia, "p-2", amount=2000)
    partial = await shop.refund(mia, "p-2", "r-1", 500)
    found = await shop.member_badges(mia)
    assert (found["Strict"]["progress"], found["Strict"]["earned"]) == (2, 1)

    refund = await shop.refund(mia, "p-2", "r-2", 1500)
    found = await shop.member_badges(mia)
    strict, lenient = found["Strict"], found["Lenient"]
    assert (strict["progress"], strict["earned"]) == (1, 0)
    assert strict["awards"][0]["revokedBy"] == refund
    assert (lenient["progress"], lenient["earned"]) == (1, 1)
    assert lenient["awards"][0]["revokedAt"] is None
    assert [c["amount"] for c in strict["contributions"]] == [1, 1, -1]
    assert partial not in [c["eventId"] for c in strict["contributions"]]
    assert await reward_transactions(db, tenant) == {"earn": 2, "reversal": 1}

    await shop.ingest(mia, "p-3")
    assert (await shop.member_badges(mia))["Strict"]["earned"] == 1
    assert await reward_transactions(db, tenant) == {"earn": 3, "reversal": 1}


async def test_a_secret_badge_shows_to_the_member_only_once_earned(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    await shop.badge(name="Big spender", target=1, secret=True, condition="event.amount >= 5000")
    await shop.badge(name="Open", target=9)
    mia = await shop.member()

    async def seen() -> list[str]:
        token = member_token(tenant.id, uuid.UUID(mia))
        body = await graphql(shop.gateway.client, MEMBER_BADGES, {"id": mia}, token=token)
        return [item["badge"]["name"] for item in body["data"]["member"]["badges"]]

    assert await seen() == ["Open"]
    await shop.ingest(mia, "big", amount=6000)
    assert sorted(await seen()) == ["Big spender", "Open"]


async def test_other_event_types_count_and_a_change_applies_at_the_next_event(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    body = await graphql(
        shop.gateway.client,
        """mutation($i: EventTypeSaveInput!) { eventTypeSave(input: $i) { errors { code } } }""",
        {
            "i": {
                "name": "app_open",
                "jsonSchema": {"type": "object", "properties": {"screen": {"type": "string"}}},
            }
        },
        token=shop.admin,
    )
    assert body["data"]["eventTypeSave"]["errors"] == [], body
    badge = await shop.badge(name="App fan", eventType="app_open", target=2)
    mia = await shop.member()
    await shop.ingest(mia, "o-1", type="app_open", amount=None, screen="home")
    payload = await shop.badge_update(id=badge["id"], condition='event.payload.screen == "shop"')
    assert payload["errors"] == [], payload
    await shop.ingest(mia, "o-2", type="app_open", amount=None, screen="home")
    await shop.ingest(mia, "o-3", type="app_open", amount=None, screen="shop")
    assert (await shop.member_badges(mia))["App fan"]["progress"] == 2

    archived = await shop.badge_update(id=badge["id"], status="ARCHIVED")
    assert archived["badge"]["status"] == "ARCHIVED"
    await shop.ingest(mia, "o-4", type="app_open", amount=None, screen="shop")
    assert "App fan" not in await shop.member_badges(mia)


async def test_a_tenant_without_the_module_sees_none_of_it(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    query = "{ badges { edges { cursor } } }"
    body = await graphql(gateway.client, query, {}, token=admin_token(tenant.id))
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_a_badge_rewards_with_another_modules_rule_effect_once(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    settings = {"currencies": ["EUR"], "max_balance": 10_000}
    await enable_for(db, shop.gateway.registry, tenant, "giftcards", settings)
    unknown = await shop.badge_create(rewardEffect={"effect": "nowhere.nothing"})
    assert [(e["code"], e["field"]) for e in unknown["errors"]] == [
        ("INVALID_INPUT", "rewardEffect.effect")
    ]
    bad = await shop.badge_create(
        rewardEffect={"effect": "giftcards.issue_gift_card", "params": {"amount": 0}}
    )
    assert [(e["code"], e["field"]) for e in bad["errors"]] == [
        ("INVALID_INPUT", "rewardEffect.params.amount")
    ]
    badge = await shop.badge(
        name="Gift",
        target=2,
        rewardEffect={"effect": "giftcards.issue_gift_card", "params": {"amount": 1500}},
    )
    assert badge["reward"]["params"] == {"amount": 1500, "currency": "EUR"}
    await shop.badge(
        name="Too generous",
        target=1,
        rewardEffect={"effect": "giftcards.issue_gift_card", "params": {"amount": 99_999}},
    )
    mia = await shop.member()
    for n in range(3):
        await shop.ingest(mia, f"g-{n}")

    body = await graphql(
        shop.gateway.client,
        "query($id: ID!) { member(id: $id) { giftCards { balance } } }",
        {"id": mia},
        token=shop.admin,
    )
    assert [c["balance"] for c in body["data"]["member"]["giftCards"]] == [1500]
    health = {b["name"]: b["health"] for b in await shop.badges()}
    assert health["Gift"]["failures"] == 0
    assert health["Too generous"]["failures"] == 1
    assert (await shop.member_badges(mia))["Too generous"]["earned"] == 1
