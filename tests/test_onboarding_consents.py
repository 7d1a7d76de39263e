"""Consents per purpose: given and withdrawn one by one, each change recorded with its
text version, time, channel and source; marketing is never a condition of membership, and
withdrawing it takes nothing away."""

from __future__ import annotations

import uuid

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, graphql, member_token

from tests.api import credit
from tests.onboarding import (
    complete,
    enable,
    enrol_member,
    enrolment_key,
    onboarding_gateway,
    sent_secret,
    start,
    verify,
)

GIVE = """
mutation($i: ConsentGiveInput!) {
  consentGive(input: $i) {
    consent { purpose granted textVersion channel source } errors { code field }
  }
}
"""
WITHDRAW = """
mutation($i: ConsentWithdrawInput!) {
  consentWithdraw(input: $i) { consent { purpose granted } errors { code field } }
}
"""
HISTORY = """
query($m: ID!) {
  consentHistory(memberId: $m) { purpose granted textVersion channel source recordedAt }
  consents(memberId: $m) { purpose granted }
}
"""
LEDGER = """
query($id: ID!) {
  member(id: $id) { balances { available } ledger { edges { node { amount } } } }
}
"""


async def test_consent_changes_are_recorded_one_by_one_with_their_evidence(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    await enable(db, gateway, tenant, terms_version="t-1")
    client = gateway.client
    key = await enrolment_key(client, tenant.id)
    member = await enrol_member(client, tenant.id, key, email="consent@example.com")
    as_member = member_token(tenant.id, uuid.UUID(member))
    given = await graphql(
        client,
        GIVE,
        {
            "i": {
                "memberId": member,
                "purpose": "MARKETING_EMAIL",
                "textVersion": "m-3",
                "channel": "app",
                "source": "settings screen",
            }
        },
        token=as_member,
    )
    assert given["data"]["consentGive"]["consent"] == {
        "purpose": "MARKETING_EMAIL",
        "granted": True,
        "textVersion": "m-3",
        "channel": "app",
        "source": "settings screen",
    }
    await graphql(
        client,
        GIVE,
        {"i": {"memberId": member, "purpose": "PROFILING", "textVersion": "p-1", "channel": "web"}},
        token=as_member,
    )
    withdrawn = await graphql(
        client,
        WITHDRAW,
        {
            "i": {
                "memberId": member,
                "purpose": "MARKETING_EMAIL",
                "channel": "pos",
                "source": "till 4",
            }
        },
        token=admin_token(tenant.id),
    )
    assert withdrawn["data"]["consentWithdraw"]["consent"] == {
        "purpose": "MARKETING_EMAIL",
        "granted": False,
    }
    body = await graphql(client, HISTORY, {"m": member}, token=as_member)
    history = body["data"]["consentHistory"]
    assert [(c["purpose"], c["granted"], c["textVersion"], c["channel"]) for c in history] == [
        ("TERMS", True, "t-1", "web"),
        ("MARKETING_EMAIL", True, "m-3", "app"),
        ("PROFILING", True, "p-1", "web"),
        ("MARKETING_EMAIL", False, None, "pos"),
    ]
    assert all(c["recordedAt"] for c in history)
    assert {(c["purpose"], c["granted"]) for c in body["data"]["consents"]} == {
        ("TERMS", True),
        ("MARKETING_EMAIL", False),
        ("PROFILING", True),
    }


async def test_membership_needs_the_terms_but_never_a_marketing_consent(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    await enable(db, gateway, tenant, terms_version="t-2")
    client = gateway.client
    key = await enrolment_key(client, tenant.id)
    started = await start(client, key, channel="WEB", email="terms@example.com")
    enrolment_id = started["enrolment"]["id"]
    await verify(client, key, enrolment_id, await sent_secret(client, tenant.id, enrolment_id))
    old_terms = await complete(
        client, key, enrolment_id, consents=[{"purpose": "TERMS", "textVersion": "t-1"}]
    )
    assert old_terms["errors"][0]["field"] == "consents"
    done = await complete(
        client, key, enrolment_id, consents=[{"purpose": "TERMS", "textVersion": "t-2"}]
    )
    assert done["errors"] == []


async def test_giving_needs_a_text_version_and_another_members_consents_are_not_found(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    await enable(db, gateway, tenant)
    client = gateway.client
    key = await enrolment_key(client, tenant.id)
    ada = await enrol_member(client, tenant.id, key, email="ada@example.com")
    bob = await enrol_member(client, tenant.id, key, email="bob@example.com")
    blank = await graphql(
        client,
        GIVE,
        {"i": {"memberId": ada, "purpose": "PROFILING", "textVersion": " ", "channel": "web"}},
        token=member_token(tenant.id, uuid.UUID(ada)),
    )
    assert blank["data"]["consentGive"]["errors"] == [
        {"code": "INVALID_INPUT", "field": "textVersion"}
    ]
    other = await graphql(
        client,
        GIVE,
        {"i": {"memberId": bob, "purpose": "PROFILING", "textVersion": "p", "channel": "web"}},
        token=member_token(tenant.id, uuid.UUID(ada)),
    )
    assert other["data"]["consentGive"]["errors"] == [{"code": "NOT_FOUND", "field": "memberId"}]


async def test_withdrawing_marketing_consent_keeps_every_point_and_reward(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    await enable(db, gateway, tenant, welcome_bonus=100)
    client = gateway.client
    key = await enrolment_key(client, tenant.id)
    member = await enrol_member(
        client,
        tenant.id,
        key,
        email="keep@example.com",
        consents=[
            {"purpose": "TERMS", "textVersion": "t-1"},
            {"purpose": "MARKETING_EMAIL", "textVersion": "m-1"},
            {"purpose": "MARKETING_SMS", "textVersion": "s-1"},
        ],
    )
    await credit(client, tenant.id, member, 40)
    before = await graphql(client, LEDGER, {"id": member}, token=admin_token(tenant.id))
    for purpose in ("MARKETING_EMAIL", "MARKETING_SMS"):
        result = await graphql(
            client,
            WITHDRAW,
            {"i": {"memberId": member, "purpose": purpose, "channel": "web"}},
            token=member_token(tenant.id, uuid.UUID(member)),
        )
        assert result["data"]["consentWithdraw"]["errors"] == []
    after = await graphql(client, LEDGER, {"id": member}, token=admin_token(tenant.id))
    assert after == before
    assert after["data"]["member"]["balances"] == [{"available": 140}]
