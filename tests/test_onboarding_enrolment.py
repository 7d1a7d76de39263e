"""Enrolment on every channel, through the public API: web and app sign up with a public
enrolment key and verify by code or link; a till enrols with its own key and a physical
card; codes expire, are single-use and lock after too many wrong guesses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_onboarding.cards import is_valid_card_number, luhn_check_digit
from loyalty_onboarding.jobs import forget_abandoned
from loyalty_onboarding.settings import OnboardingSettings
from loyalty_onboarding.tables import enrolments, verifications
from loyalty_testing import MakeApp, admin_token, graphql, member_token
from sqlalchemy import select, update

from tests.jobs import job_context
from tests.onboarding import (
    complete,
    enable,
    enrol_member,
    enrolment_key,
    onboarding_gateway,
    sent_secret,
    start,
    till_key,
    verify,
)

MEMBER = """
query($id: ID!) {
  member(id: $id) { enrolmentChannel firstName identifiers { kind value } balances { available } }
}
"""

UPDATE = """
mutation($i: MemberUpdateInput!) { memberUpdate(input: $i) { errors { code field } } }
"""

REVIEW = """
mutation($i: EnrolmentReviewInput!) {
  enrolmentReview(input: $i) { enrolment { review } errors { code } }
}
"""


def physical_card(body: str = "400000000000123") -> str:
    return body + luhn_check_digit(body)


@pytest.mark.parametrize("channel", ["WEB", "APP"])
async def test_self_sign_up_verified_by_code_makes_a_member_with_a_digital_card(
    make_app: MakeApp, db: Database, tenant: Tenant, channel: str
) -> None:
    gateway = await onboarding_gateway(make_app)
    await enable(db, gateway, tenant, required_fields=["email", "firstName"])
    client = gateway.client
    key = await enrolment_key(client, tenant.id)
    started = await start(client, key, channel=channel, email="Ada@Example.com", firstName="Ada")
    assert started["errors"] == []
    assert started["verificationSent"] is True
    assert started["enrolment"]["status"] == "STARTED"
    enrolment_id = started["enrolment"]["id"]
    early = await complete(client, key, enrolment_id)
    assert early["errors"][0]["code"] == "VERIFICATION_FAILED"
    code = await sent_secret(client, tenant.id, enrolment_id)
    verified = await verify(client, key, enrolment_id, code)
    assert verified["enrolment"]["status"] == "VERIFIED"
    done = await complete(client, key, enrolment_id)
    assert done["errors"] == []
    card = done["card"]
    assert card["kind"] == "DIGITAL"
    assert is_valid_card_number(card["number"])
    assert card["qrPayload"] == f"loyalty-card:{card['number']}"
    body = await graphql(client, MEMBER, {"id": done["memberId"]}, token=admin_token(tenant.id))
    member = body["data"]["member"]
    assert member["enrolmentChannel"] == channel.lower()
    assert member["firstName"] == "Ada"
    assert {"kind": "EMAIL", "value": "ada@example.com"} in member["identifiers"]
    assert {"kind": "CARD_NUMBER", "value": card["number"]} in member["identifiers"]


async def test_a_till_enrols_a_physical_card_without_verification(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    await enable(db, gateway, tenant, required_fields=[])
    client = gateway.client
    key = await till_key(client, tenant.id)
    number = physical_card()
    bad = await start(
        client,
        key,
        channel="POS",
        cardNumber=number[:-1] + "0" if number[-1] != "0" else number[:-1] + "1",
    )
    assert bad["errors"][0]["field"] == "cardNumber"
    started = await start(client, key, channel="POS", cardNumber=number, lastName="Lovelace")
    assert started["enrolment"]["status"] == "VERIFIED"
    assert started["verificationSent"] is False
    done = await complete(client, key, started["enrolment"]["id"], consents=[])
    assert done["card"] == {
        "number": number,
        "kind": "PHYSICAL",
        "qrPayload": f"loyalty-card:{number}",
    }
    body = await graphql(client, MEMBER, {"id": done["memberId"]}, token=admin_token(tenant.id))
    assert body["data"]["member"]["enrolmentChannel"] == "pos"


async def test_a_till_enrolment_with_a_phone_is_verified_by_text(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    await enable(db, gateway, tenant, required_fields=["phone"])
    client = gateway.client
    key = await till_key(client, tenant.id)
    member_id = await enrol_member(client, tenant.id, key, channel="POS", phone="+4915100000001")
    body = await graphql(client, MEMBER, {"id": member_id}, token=admin_token(tenant.id))
    assert {"kind": "PHONE", "value": "+4915100000001"} in body["data"]["member"]["identifiers"]
    messages = await graphql(
        client, "{ sentMessages { medium recipient } }", token=admin_token(tenant.id)
    )
    assert messages["data"]["sentMessages"] == [{"medium": "sms", "recipient": "+4915100000001"}]


async def test_an_enrolment_key_enrols_on_web_and_app_only_and_reads_nothing(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    await enable(db, gateway, tenant)
    client = gateway.client
    key = await enrolment_key(client, tenant.id)
    body = await graphql(
        client,
        "mutation($i: EnrolmentStartInput!) { enrolmentStart(input: $i) { verificationSent } }",
        {"i": {"channel": "POS", "email": "till@example.com"}},
        api_key=key,
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    members = await graphql(client, "{ members { edges { cursor } } }", api_key=key)
    assert members["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    anonymous = await graphql(client, "{ sentMessages { body } }")
    assert anonymous["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_a_double_opt_in_link_verifies_once(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    await enable(db, gateway, tenant, verification="link")
    client = gateway.client
    key = await enrolment_key(client, tenant.id)
    started = await start(client, key, channel="WEB", email="link@example.com")
    enrolment_id = started["enrolment"]["id"]
    token = await sent_secret(client, tenant.id, enrolment_id, link=True)
    assert (await verify(client, key, enrolment_id, token))["errors"] == []
    again = await verify(client, key, enrolment_id, token)
    assert again["errors"] == [{"code": "VERIFICATION_FAILED", "field": "code"}]


async def test_a_code_is_single_use_and_expires(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    await enable(db, gateway, tenant)
    client = gateway.client
    key = await enrolment_key(client, tenant.id)
    first = (await start(client, key, channel="APP", email="once@example.com"))["enrolment"]["id"]
    code = await sent_secret(client, tenant.id, first)
    assert (await verify(client, key, first, code))["errors"] == []
    assert (await verify(client, key, first, code))["errors"][0]["code"] == "VERIFICATION_FAILED"
    late = (await start(client, key, channel="APP", email="late@example.com"))["enrolment"]["id"]
    late_code = await sent_secret(client, tenant.id, late)
    async with db.tenant_transaction(tenant.id) as conn:
        await conn.execute(
            update(verifications)
            .where(verifications.c.tenant_id == tenant.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    expired = await verify(client, key, late, late_code)
    assert expired["errors"] == [{"code": "VERIFICATION_EXPIRED", "field": "code"}]


async def test_guessing_a_code_locks_it_after_the_allowed_attempts(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    await enable(db, gateway, tenant, max_code_attempts=3)
    client = gateway.client
    key = await enrolment_key(client, tenant.id)
    enrolment_id = (await start(client, key, channel="WEB", email="guess@example.com"))[
        "enrolment"
    ]["id"]
    code = await sent_secret(client, tenant.id, enrolment_id)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    outcomes = [
        (await verify(client, key, enrolment_id, wrong))["errors"][0]["code"] for _ in range(3)
    ]
    assert outcomes == ["VERIFICATION_FAILED"] * 3
    locked = await verify(client, key, enrolment_id, code)
    assert locked["errors"] == [{"code": "TOO_MANY_ATTEMPTS", "field": "code"}]
    # Starting again issues a fresh code for the same enrolment.
    again = await start(client, key, channel="WEB", email="guess@example.com")
    assert again["enrolment"]["id"] == enrolment_id
    fresh = await sent_secret(client, tenant.id, enrolment_id)
    assert (await verify(client, key, enrolment_id, fresh))["errors"] == []


async def test_required_fields_follow_the_tenants_settings(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    await enable(db, gateway, tenant, required_fields=["email", "birthDate"])
    client = gateway.client
    key = await enrolment_key(client, tenant.id)
    missing = await start(client, key, channel="WEB", email="b@example.com")
    assert missing["errors"][0]["field"] == "birthDate"
    bad_phone = await start(client, key, channel="WEB", email="b@example.com", phone="0151 123")
    assert bad_phone["errors"][0]["field"] == "phone"
    ok = await start(client, key, channel="WEB", email="b@example.com", birthDate="1990-05-01")
    assert ok["errors"] == []


async def test_a_normalised_duplicate_waits_for_review_and_a_taken_address_is_refused(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    await enable(db, gateway, tenant, welcome_bonus=50)
    client = gateway.client
    key = await enrolment_key(client, tenant.id)
    await enrol_member(client, tenant.id, key, email="jane.doe@gmail.com")
    taken = await start(client, key, channel="WEB", email="JANE.DOE@gmail.com")
    assert taken["errors"][0]["code"] == "DUPLICATE_IDENTIFIER"
    suspicious = await start(client, key, channel="APP", email="Jane.Doe+promo@googlemail.com")
    enrolment = suspicious["enrolment"]
    assert enrolment["review"] == "PENDING"
    code = await sent_secret(client, tenant.id, enrolment["id"])
    await verify(client, key, enrolment["id"], code)
    held = await complete(client, key, enrolment["id"])
    assert held["errors"][0]["code"] == "UNDER_REVIEW"
    queue = await graphql(
        client, "{ enrolmentReviews { id reviewReason } }", token=admin_token(tenant.id)
    )
    assert [e["id"] for e in queue["data"]["enrolmentReviews"]] == [enrolment["id"]]
    decided = await graphql(
        client,
        REVIEW,
        {"i": {"enrolmentId": enrolment["id"], "approve": True}},
        token=admin_token(tenant.id),
    )
    assert decided["data"]["enrolmentReview"]["enrolment"]["review"] == "APPROVED"
    assert (await complete(client, key, enrolment["id"]))["errors"] == []


async def test_welcome_and_profile_bonuses_are_paid_once_on_completion(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    await enable(
        db,
        gateway,
        tenant,
        welcome_bonus=100,
        profile_bonus=25,
        profile_fields=["firstName", "lastName"],
    )
    client = gateway.client
    key = await enrolment_key(client, tenant.id)
    started = await start(client, key, channel="WEB", email="bonus@example.com", firstName="B")
    enrolment_id = started["enrolment"]["id"]
    await verify(client, key, enrolment_id, await sent_secret(client, tenant.id, enrolment_id))
    done = await complete(client, key, enrolment_id, lastName="Onus")
    again = await complete(client, key, enrolment_id)
    assert again["errors"][0]["field"] == "enrolmentId"
    body = await graphql(client, MEMBER, {"id": done["memberId"]}, token=admin_token(tenant.id))
    assert body["data"]["member"]["balances"] == [{"available": 125}]
    partial = await enrol_member(client, tenant.id, key, email="partial@example.com")
    body = await graphql(client, MEMBER, {"id": partial}, token=admin_token(tenant.id))
    assert body["data"]["member"]["balances"] == [{"available": 100}]


async def test_completing_the_profile_after_enrolment_pays_the_profile_bonus_once(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    await enable(
        db,
        gateway,
        tenant,
        welcome_bonus=100,
        profile_bonus=25,
        profile_fields=["firstName", "lastName", "phone"],
    )
    client = gateway.client
    key = await enrolment_key(client, tenant.id)
    member_id = await enrol_member(client, tenant.id, key, email="later@example.com")
    admin = admin_token(tenant.id)
    own = member_token(tenant.id, uuid.UUID(member_id))

    async def available() -> int:
        body = await graphql(client, MEMBER, {"id": member_id}, token=admin)
        return int(body["data"]["member"]["balances"][0]["available"])

    async def update(token: str, **fields: object) -> None:
        body = await graphql(client, UPDATE, {"i": {"id": member_id, **fields}}, token=token)
        assert body["data"]["memberUpdate"]["errors"] == [], body

    assert await available() == 100
    await update(own, profile={"firstName": "Late", "lastName": "Comer"})
    assert await available() == 100, "the phone is still missing"
    await update(admin, addIdentifiers=[{"kind": "PHONE", "value": "+4915100000077"}])
    assert await available() == 125
    await update(own, profile={"lastName": None})
    await update(own, profile={"lastName": "Again"})
    await update(own, attributes={"shoeSize": 42})
    assert await available() == 125, "paid once per member"

    paid_at_enrolment = await enrol_member(
        client,
        tenant.id,
        key,
        email="early@example.com",
        phone="+4915100000078",
        firstName="Ear",
        lastName="Ly",
    )
    await enable(db, gateway, tenant, profile_bonus=40, profile_fields=["firstName", "lastName"])
    early = member_token(tenant.id, uuid.UUID(paid_at_enrolment))
    for profile in ({"lastName": None}, {"lastName": "Lier"}):
        body = await graphql(
            client, UPDATE, {"i": {"id": paid_at_enrolment, "profile": profile}}, token=early
        )
        assert body["data"]["memberUpdate"]["errors"] == [], body
    body = await graphql(client, MEMBER, {"id": paid_at_enrolment}, token=admin)
    assert body["data"]["member"]["balances"] == [{"available": 125}], "paid at enrolment only"


async def test_editing_a_complete_profile_pays_no_member_who_never_earned_the_bonus(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    await enable(db, gateway, tenant, profile_bonus=25, profile_fields=["firstName"])
    client = gateway.client
    admin = admin_token(tenant.id)
    created = await graphql(
        client,
        "mutation($i: MemberCreateInput!) { memberCreate(input: $i) { member { id } } }",
        {
            "i": {
                "identifiers": [{"kind": "EMAIL", "value": "imported@example.com"}],
                "profile": {"firstName": "Imp"},
            }
        },
        token=admin,
    )
    member_id = created["data"]["memberCreate"]["member"]["id"]
    changed = await graphql(
        client, UPDATE, {"i": {"id": member_id, "profile": {"firstName": "Imported"}}}, token=admin
    )
    assert changed["data"]["memberUpdate"]["errors"] == []
    body = await graphql(client, MEMBER, {"id": member_id}, token=admin)
    assert body["data"]["member"]["balances"] == [{"available": 0}]


async def test_funnel_figures_count_each_step_per_channel(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    await enable(db, gateway, tenant, required_fields=[])
    client = gateway.client
    web = await enrolment_key(client, tenant.id)
    till = await till_key(client, tenant.id)
    member = await enrol_member(client, tenant.id, web, email="f1@example.com")
    await start(client, web, channel="WEB", email="f2@example.com")
    await start(client, web, channel="APP", email="f3@example.com")
    await enrol_member(
        client, tenant.id, till, channel="POS", cardNumber=physical_card("400000000000777")
    )
    await graphql(
        client,
        "mutation($i: EventIngestInput!) { eventIngest(input: $i) { errors { code } } }",
        {
            "i": {
                "type": "purchase",
                "source": "shop",
                "externalId": "p-1",
                "memberId": member,
                "payload": {"amount": 1000, "currency": "EUR"},
            }
        },
        api_key=till,
    )
    body = await graphql(
        client,
        "{ enrolmentFunnel { channel started verified completed firstPurchase } }",
        token=admin_token(tenant.id),
    )
    assert body["data"]["enrolmentFunnel"] == [
        {"channel": "APP", "started": 1, "verified": 0, "completed": 0, "firstPurchase": 0},
        {"channel": "POS", "started": 1, "verified": 1, "completed": 1, "firstPurchase": 0},
        {"channel": "WEB", "started": 2, "verified": 1, "completed": 1, "firstPurchase": 1},
    ]


async def test_starting_again_needs_a_new_verification_and_codes_are_rationed(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    await enable(db, gateway, tenant, max_codes_per_hour=3)
    client = gateway.client
    key = await enrolment_key(client, tenant.id)
    enrolment_id = (await start(client, key, channel="WEB", email="own@example.com"))["enrolment"][
        "id"
    ]
    await verify(client, key, enrolment_id, await sent_secret(client, tenant.id, enrolment_id))
    # Someone else who knows the address starts again: the verified enrolment is not theirs.
    taken_over = await start(client, key, channel="WEB", email="own@example.com")
    assert taken_over["enrolment"]["status"] == "STARTED"
    assert (await complete(client, key, enrolment_id))["errors"][0]["code"] == (
        "VERIFICATION_FAILED"
    )
    await start(client, key, channel="WEB", email="own@example.com")
    rationed = await start(client, key, channel="WEB", email="own@example.com")
    assert rationed["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"


async def test_abandoned_enrolments_lose_their_contact_data_but_still_count(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    await enable(db, gateway, tenant)
    client = gateway.client
    key = await enrolment_key(client, tenant.id)
    await start(client, key, channel="WEB", email="gone@example.com", firstName="Gone")
    await enrol_member(client, tenant.id, key, email="stays@example.com")
    async with db.tenant_transaction(tenant.id) as conn:
        await conn.execute(
            update(enrolments)
            .where(enrolments.c.tenant_id == tenant.id)
            .values(created_at=datetime.now(UTC) - timedelta(days=2))
        )
    settings = OnboardingSettings(abandoned_after_days=1)
    assert await forget_abandoned(job_context(db, tenant, settings)) == 1
    assert await forget_abandoned(job_context(db, tenant, settings)) == 0
    async with db.tenant_transaction(tenant.id) as conn:
        rows = (await conn.execute(select(enrolments.c.email, enrolments.c.profile))).all()
    assert sorted(rows, key=str) == sorted([(None, {}), ("stays@example.com", {})], key=str)
    messages = await graphql(client, "{ sentMessages { recipient } }", token=admin_token(tenant.id))
    assert messages["data"]["sentMessages"] == [{"recipient": "stays@example.com"}]
    funnel = await graphql(client, "{ enrolmentFunnel { started } }", token=admin_token(tenant.id))
    assert funnel["data"]["enrolmentFunnel"] == [{"started": 2}]
