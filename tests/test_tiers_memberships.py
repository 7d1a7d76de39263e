"""Paid memberships: plans, and the provider's signed webhook driving the subscription's
state: a bad or stale signature refused, a replay ignored, events out of order resolved by
their time, a payment failure then recovery within grace, a lapse after grace."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, graphql, member_token
from loyalty_tiers.routes import HEADER, sign
from loyalty_tiers.tables import membership_events
from sqlalchemy import func, select

from tests.tiers import SPEND_LADDER, TierShop

SECRET = "whsec_0123456789abcdef"
PLAN_CREATE = """
mutation($input: MembershipPlanCreateInput!) {
  membershipPlanCreate(input: $input) {
    plan { code name price currency period trialDays level benefits }
    errors { code field message }
  }
}
"""
MEMBERSHIP = """
query($id: ID!) {
  member(id: $id) {
    membership { plan { code } state periodEnd graceUntil level benefits }
  }
}
"""
PRIME = {
    "code": "prime",
    "name": "Bücherwurm Prime",
    "price": 499,
    "currency": "EUR",
    "period": "MONTH",
    "level": "gold",
    "benefits": ["Free delivery", "Early access to signed editions"],
}


async def _shop(make_app: MakeApp, db: Database, tenant: Tenant) -> TierShop:
    shop = await TierShop.start(
        make_app,
        db,
        tenant,
        SPEND_LADDER,
        membership_webhook_secret=SECRET,
        membership_grace_days=7,
    )
    payload = (await shop.admin_call(PLAN_CREATE, {"input": PRIME}))["membershipPlanCreate"]
    assert payload["errors"] == [], payload
    return shop


async def _send(
    shop: TierShop,
    event: dict[str, Any],
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    tenant_id: uuid.UUID | None = None,
) -> httpx.Response:
    body = json.dumps(event).encode()
    header = sign(secret, timestamp or int(time.time()), body)
    return await shop.client.post(
        f"/modules/tiers/memberships/{tenant_id or shop.tenant_id}/events",
        content=body,
        headers={HEADER: header, "Content-Type": "application/json"},
    )


def _event(member: str, kind: str, days_ago: float, **extra: Any) -> dict[str, Any]:
    at = datetime.now(UTC) - timedelta(days=days_ago)
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": kind,
        "memberId": member,
        "plan": "prime",
        "subscription": "sub_1",
        "occurredAt": at.isoformat(),
        **extra,
    }


async def _membership(shop: TierShop, member: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = (await shop.admin_call(MEMBERSHIP, {"id": member}))["member"][
        "membership"
    ]
    return found


async def test_plans_are_created_listed_and_checked(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await _shop(make_app, db, tenant)
    again = (await shop.admin_call(PLAN_CREATE, {"input": PRIME}))["membershipPlanCreate"]
    assert again["errors"][0]["code"] == "ALREADY_EXISTS"
    cheap = {**PRIME, "code": "free", "price": 0}
    bad = (await shop.admin_call(PLAN_CREATE, {"input": cheap}))["membershipPlanCreate"]
    assert (bad["errors"][0]["code"], bad["errors"][0]["field"]) == ("INVALID_INPUT", "price")
    odd = {**PRIME, "code": "odd", "level": "diamond"}
    bad = (await shop.admin_call(PLAN_CREATE, {"input": odd}))["membershipPlanCreate"]
    assert bad["errors"][0]["code"] == "NOT_FOUND"
    member = await shop.member()
    body = await graphql(
        shop.client,
        "{ membershipPlans { code level benefits } }",
        token=member_token(tenant.id, uuid.UUID(member)),
    )
    assert body["data"]["membershipPlans"] == [
        {"code": "prime", "level": "gold", "benefits": PRIME["benefits"]}
    ]


async def test_a_bad_or_stale_signature_is_refused_and_stores_nothing(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await _shop(make_app, db, tenant)
    member = await shop.member()
    started = _event(member, "started", 1)
    assert (await _send(shop, started, secret="whsec_wrong_wrong_wrong")).status_code == 401
    stale = int(time.time()) - 3600
    assert (await _send(shop, started, timestamp=stale)).status_code == 401
    unsigned = await shop.client.post(
        f"/modules/tiers/memberships/{tenant.id}/events", content=json.dumps(started)
    )
    assert unsigned.status_code == 401
    assert (await _send(shop, started, tenant_id=uuid.uuid4())).status_code == 404
    assert await _membership(shop, member) is None
    assert await _stored(shop) == 0


async def test_bad_input_is_refused_and_unknown_members_or_plans_are_not_found(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await _shop(make_app, db, tenant)
    member = await shop.member()
    assert (
        await _send(shop, {**_event(member, "started", 1), "type": "paused"})
    ).status_code == 400
    naive = {**_event(member, "started", 1), "occurredAt": "2026-01-01T10:00:00"}
    assert (await _send(shop, naive)).status_code == 400
    assert (await _send(shop, _event(str(uuid.uuid4()), "started", 1))).status_code == 404
    assert (await _send(shop, {**_event(member, "started", 1), "plan": "gold"})).status_code == 404
    assert await _stored(shop) == 0


async def test_a_replayed_event_is_acknowledged_and_changes_nothing(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await _shop(make_app, db, tenant)
    member = await shop.member()
    started = _event(member, "started", 2)
    first = await _send(shop, started)
    assert first.json() == {"replayed": False, "state": "active"}
    cancelled = _event(member, "cancelled", 1)
    await _send(shop, cancelled)
    again = await _send(shop, started)
    assert again.json() == {"replayed": True, "state": None}
    found = await _membership(shop, member)
    assert found is not None
    assert found["state"] == "CANCELLED"
    assert await _stored(shop) == 2


async def test_events_out_of_order_are_resolved_by_their_time(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await _shop(make_app, db, tenant)
    member = await shop.member()
    period_end = (datetime.now(UTC) + timedelta(days=20)).isoformat()
    renewed = _event(member, "renewed", 1, periodEnd=period_end)
    failed = _event(member, "payment_failed", 3)
    started = _event(member, "started", 10)
    for event in (renewed, failed, started):  # the provider's retries came in this order
        assert (await _send(shop, event)).status_code == 200
    found = await _membership(shop, member)
    assert found is not None
    assert (found["state"], found["graceUntil"]) == ("ACTIVE", None)
    assert datetime.fromisoformat(found["periodEnd"]) == datetime.fromisoformat(period_end)


async def test_a_payment_failure_then_recovery_within_grace_keeps_what_it_gives(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await _shop(make_app, db, tenant)
    member = await shop.member()
    await _send(shop, _event(member, "started", 30))
    await _send(shop, _event(member, "payment_failed", 2))
    found = await _membership(shop, member)
    assert found is not None
    assert (found["state"], found["level"]) == ("PAST_DUE", "gold")
    assert found["benefits"] == PRIME["benefits"]
    await _send(shop, _event(member, "renewed", 1))
    found = await _membership(shop, member)
    assert found is not None
    assert (found["state"], found["graceUntil"], found["level"]) == ("ACTIVE", None, "gold")


async def test_a_failure_not_recovered_within_grace_ends_the_membership(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await _shop(make_app, db, tenant)
    member = await shop.member()
    await _send(shop, _event(member, "started", 60))
    await _send(shop, _event(member, "payment_failed", 10))  # grace: 7 days
    found = await _membership(shop, member)
    assert found is not None
    assert (found["state"], found["level"], found["benefits"]) == ("ENDED", None, [])


async def test_a_plan_with_a_trial_starts_trialing(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await _shop(make_app, db, tenant)
    trial = {**PRIME, "code": "trial", "trialDays": 14}
    await shop.admin_call(PLAN_CREATE, {"input": trial})
    member = await shop.member()
    response = await _send(shop, {**_event(member, "started", 1), "plan": "trial"})
    assert response.json()["state"] == "trialing"


async def _stored(shop: TierShop) -> int:
    async with shop.db.tenant_transaction(shop.tenant_id) as conn:
        found = await conn.execute(
            select(func.count()).where(membership_events.c.tenant_id == shop.tenant_id)
        )
        return int(found.scalar_one())


async def test_a_running_membership_gives_its_level_to_tier_and_to_cel(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await _shop(make_app, db, tenant)
    await shop.campaign(
        "Double points for gold",
        condition='member.tier == "gold"',
        effects=[{"kind": "multiplier", "params": {"factor": "2"}}],
    )
    member, lapsed = await shop.member(), await shop.member()
    await shop.event(member, 12_000)  # earned: silver
    await shop.event(lapsed, 12_000)
    await _send(shop, _event(member, "started", 1))
    await _send(shop, _event(lapsed, "started", 60))
    await _send(shop, _event(lapsed, "payment_failed", 20))

    tier = await shop.tier(member)
    assert tier is not None
    assert (tier["level"]["name"], tier["source"], tier["earnedLevel"]) == (
        "gold",
        "MEMBERSHIP",
        "silver",
    )
    assert await shop.level(lapsed) == "silver"
    doubled = await shop.event(member, 1_000)
    assert [t["reason"] for t in doubled["transactions"] if t["cause"]["ruleId"]] == [
        "Double points for gold (v1): 2x base on purchase r-17"
    ]
    plain = await shop.event(lapsed, 1_000)
    assert [t for t in plain["transactions"] if t["cause"]["ruleId"]] == []


async def test_subscription_events_may_be_ingested_instead_of_sent_to_the_webhook(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await _shop(make_app, db, tenant)
    member = await shop.member()
    await shop.event(
        member,
        type_="tiers.subscription",
        payload={"type": "started", "plan": "prime", "subscription": "sub_9"},
        at=(datetime.now(UTC) - timedelta(days=5)).isoformat(),
        external_id="backend-1",
    )
    await shop.event(
        member,
        type_="tiers.subscription",
        payload={"type": "payment_failed", "plan": "prime", "subscription": "sub_9"},
        at=(datetime.now(UTC) - timedelta(days=1)).isoformat(),
        external_id="backend-2",
    )
    found = await _membership(shop, member)
    assert found is not None
    assert (found["state"], found["level"]) == ("PAST_DUE", "gold")
    assert await _stored(shop) == 2
