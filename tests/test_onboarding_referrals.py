"""Referral: a code per member; a referee who enrols with it is linked; both are rewarded
once, after the referee's first purchase and not on enrolment; no self-referral; a cap per
referrer."""

from __future__ import annotations

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, graphql

from tests.api import available
from tests.onboarding import (
    enable,
    enrol_member,
    enrolment_key,
    onboarding_gateway,
    referral_code,
    start,
    till_key,
)

INGEST = """
mutation($i: EventIngestInput!) { eventIngest(input: $i) { errors { code } } }
"""
REFERRALS = "query($m: ID!) { referrals(memberId: $m) { refereeId status rewardedAt } }"
SETTINGS = {"referrer_reward": 500, "referee_reward": 200, "referral_cap": 1}


def _purchase(member: str, external_id: str) -> dict[str, object]:
    return {
        "i": {
            "type": "purchase",
            "source": "shop",
            "externalId": external_id,
            "memberId": member,
            "payload": {"amount": 1000, "currency": "EUR"},
        }
    }


async def test_both_sides_are_rewarded_once_after_the_first_purchase(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    await enable(db, gateway, tenant, **SETTINGS)
    client = gateway.client
    key = await enrolment_key(client, tenant.id)
    till = await till_key(client, tenant.id)
    referrer = await enrol_member(client, tenant.id, key, email="ref@example.com")
    code = await referral_code(client, tenant, referrer)
    assert await referral_code(client, tenant, referrer) == code
    referee = await enrol_member(client, tenant.id, key, email="new@example.com", referralCode=code)
    assert await available(client, tenant.id, referrer) == 0
    assert await available(client, tenant.id, referee) == 0
    listed = await graphql(client, REFERRALS, {"m": referrer}, token=admin_token(tenant.id))
    assert listed["data"]["referrals"] == [
        {"refereeId": referee, "status": "pending", "rewardedAt": None}
    ]
    await graphql(client, INGEST, _purchase(referee, "p-1"), api_key=till)
    await graphql(client, INGEST, _purchase(referee, "p-2"), api_key=till)
    await graphql(client, INGEST, _purchase(referee, "p-1"), api_key=till)  # a replay
    assert await available(client, tenant.id, referrer) == 500
    base = 2 * 10  # the tenant's base earn on two purchases of 10 EUR
    assert await available(client, tenant.id, referee) == 200 + base
    listed = await graphql(client, REFERRALS, {"m": referrer}, token=admin_token(tenant.id))
    assert listed["data"]["referrals"][0]["status"] == "rewarded"


async def test_self_referral_and_a_full_cap_are_refused(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    await enable(db, gateway, tenant, **SETTINGS)
    client = gateway.client
    key = await enrolment_key(client, tenant.id)
    referrer = await enrol_member(client, tenant.id, key, email="max.mustermann@gmail.com")
    code = await referral_code(client, tenant, referrer)
    itself = await start(
        client, key, channel="WEB", email="Max.Mustermann+2@gmail.com", referralCode=code
    )
    assert itself["errors"] == [
        {
            "code": "SELF_REFERRAL",
            "field": "referralCode",
            "message": "a member cannot refer themselves",
        }
    ]
    unknown = await start(client, key, channel="WEB", email="x@example.com", referralCode="NOPE")
    assert unknown["errors"][0]["field"] == "referralCode"
    await enrol_member(client, tenant.id, key, email="first@example.com", referralCode=code)
    capped = await start(client, key, channel="WEB", email="second@example.com", referralCode=code)
    assert capped["errors"][0]["code"] == "REFERRAL_CAP_REACHED"
