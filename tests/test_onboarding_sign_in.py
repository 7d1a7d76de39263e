"""Passwordless sign-in through onboarding: a one-time code to an address a member holds,
traded for a member session the gateway accepts. The answer never tells whether an address
is a member's; codes are the enrolment's (hashed, expiring, attempt-limited, rate-limited);
a session names one member of one tenant, and nothing else verifies as one."""

from __future__ import annotations

import asyncio
import io
import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import loyalty_onboarding
from loyalty_core import sessions
from loyalty_core.db.engine import Database
from loyalty_core.modules.manager import build_registry
from loyalty_core.tenants.models import Tenant
from loyalty_gateway.demo import (
    SIGN_IN_MODULE,
    DemoAccess,
    DemoCredentials,
    demo_modules,
    print_welcome,
)
from loyalty_onboarding.senders import flush
from loyalty_onboarding.tables import sign_ins
from loyalty_testing import MakeApp, RunningGateway, admin_token, graphql, token
from loyalty_testing.database import create_test_tenant
from sqlalchemy import func, select, update

from tests.api import enrol, pos_key
from tests.onboarding import (
    TERMS,
    enable,
    enrolment_key,
    onboarding_gateway,
    sent_secret,
    start,
    till_key,
    verify,
)

SIGN_IN_START = """
mutation($i: SignInStartInput!) {
  signInStart(input: $i) { attemptId expiresAt errors { code field } }
}
"""
SIGN_IN_VERIFY = """
mutation($i: SignInVerifyInput!) {
  signInVerify(input: $i) { token expiresAt memberId errors { code field } }
}
"""
MESSAGES = "{ sentMessages(first: 50) { memberId recipient subject body } }"
VIEWER = "{ viewer { member { id } } }"
_CODE = re.compile(r"sign-in code is ([0-9]{6})")


class Portal:
    """A tenant with onboarding's sign-in, its public enrolment key and its admin."""

    def __init__(self, gateway: RunningGateway, tenant: Tenant, key: str) -> None:
        self.gateway, self.client, self.tenant, self.key = gateway, gateway.client, tenant, key

    @classmethod
    async def open(
        cls, gateway: RunningGateway, db: Database, tenant: Tenant, **settings: object
    ) -> Portal:
        await enable(db, gateway, tenant, sign_in_by_code=True, **settings)
        return cls(gateway, tenant, await enrolment_key(gateway.client, tenant.id))

    async def start(self, **address: str) -> dict[str, Any]:
        body = await graphql(self.client, SIGN_IN_START, {"i": address}, api_key=self.key)
        assert "errors" not in body, body
        payload: dict[str, Any] = body["data"]["signInStart"]
        return payload

    async def verify(self, attempt_id: str, code: str) -> dict[str, Any]:
        body = await graphql(
            self.client,
            SIGN_IN_VERIFY,
            {"i": {"attemptId": attempt_id, "code": code}},
            api_key=self.key,
        )
        assert "errors" not in body, body
        payload: dict[str, Any] = body["data"]["signInVerify"]
        return payload

    async def messages(self) -> list[dict[str, Any]]:
        await flush()  # codes leave after the answer, in the background
        body = await graphql(self.client, MESSAGES, token=admin_token(self.tenant.id))
        found: list[dict[str, Any]] = body["data"]["sentMessages"]
        return found

    async def code_sent_to(self, member_id: str) -> str:
        for message in await self.messages():  # newest first
            if message["memberId"] == member_id:
                found = _CODE.search(message["body"])
                assert found, message
                return found.group(1)
        raise AssertionError(f"no sign-in code for {member_id}")

    async def sign_in(self, email: str, member_id: str) -> dict[str, Any]:
        started = await self.start(email=email)
        return await self.verify(started["attemptId"], await self.code_sent_to(member_id))


async def test_a_member_signs_in_with_a_code_and_uses_the_session(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    portal = await Portal.open(gateway, db, tenant, session_minutes=30)
    mia = await enrol(portal.client, tenant.id, "mia@example.com")
    started = await portal.start(email="  Mia@Example.com ")
    assert started["errors"] == []
    [message] = await portal.messages()
    assert message["recipient"] == "mia@example.com"
    assert message["subject"] == "Your sign-in code"
    code = await portal.code_sent_to(mia)
    signed_in = await portal.verify(started["attemptId"], code)
    assert signed_in["errors"] == []
    assert signed_in["memberId"] == mia
    claims = jwt.decode(signed_in["token"], options={"verify_signature": False})
    assert claims["iss"] == sessions.ISSUER
    assert claims["aud"] == sessions.AUDIENCE
    assert (claims["sub"], claims["role"], claims["tenant"]) == (mia, "member", str(tenant.id))
    assert claims["exp"] - claims["iat"] == 30 * 60
    # the session is the member's Bearer credential
    body = await graphql(portal.client, VIEWER, token=signed_in["token"])
    assert body == {"data": {"viewer": {"member": {"id": mia}}}}
    # a code signs in once
    again = await portal.verify(started["attemptId"], code)
    assert again["token"] is None
    assert again["errors"] == [{"code": "VERIFICATION_FAILED", "field": "code"}]


async def test_wrong_and_expired_codes_sign_no_one_in(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    portal = await Portal.open(gateway, db, tenant, max_code_attempts=3)
    mia = await enrol(portal.client, tenant.id, "mia@example.com")
    started = await portal.start(email="mia@example.com")
    code = await portal.code_sent_to(mia)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(3):
        answer = await portal.verify(started["attemptId"], wrong)
        assert answer == {
            "token": None,
            "expiresAt": None,
            "memberId": None,
            "errors": [{"code": "VERIFICATION_FAILED", "field": "code"}],
        }
    # locked: the right code comes too late
    locked = await portal.verify(started["attemptId"], code)
    assert locked["errors"] == [{"code": "TOO_MANY_ATTEMPTS", "field": "code"}]

    expiring = await portal.start(email="mia@example.com")
    code = await portal.code_sent_to(mia)
    async with db.tenant_transaction(tenant.id) as conn:
        await conn.execute(
            update(sign_ins)
            .where(sign_ins.c.id == uuid.UUID(expiring["attemptId"]))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    expired = await portal.verify(expiring["attemptId"], code)
    assert expired["errors"] == [{"code": "VERIFICATION_EXPIRED", "field": "code"}]
    # an attempt id that is none of this tenant's
    unknown = await portal.verify(str(uuid.uuid4()), code)
    assert unknown["errors"] == [{"code": "NOT_FOUND", "field": "attemptId"}]


async def test_an_unknown_address_gets_the_same_answer_and_no_message(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    portal = await Portal.open(gateway, db, tenant, max_codes_per_hour=2)
    mia = await enrol(portal.client, tenant.id, "mia@example.com")
    member = await portal.start(email="mia@example.com")
    stranger = await portal.start(email="nobody@example.com")
    assert set(member) == set(stranger) == {"attemptId", "expiresAt", "errors"}
    assert stranger["errors"] == member["errors"] == []
    assert stranger["attemptId"] != member["attemptId"]
    assert [m["recipient"] for m in await portal.messages()] == ["mia@example.com"]
    assert await portal.code_sent_to(mia)
    # whatever is typed for the stranger's attempt is a wrong code, like a member's
    for guess in ("123456", "000000"):
        answer = await portal.verify(stranger["attemptId"], guess)
        assert answer["errors"] == [{"code": "VERIFICATION_FAILED", "field": "code"}]
    # the hourly limit is the same for both, and says nothing more
    for address in ("mia@example.com", "nobody@example.com"):
        assert (await portal.start(email=address))["errors"] == []
        limited = await portal.start(email=address)
        assert limited == {
            "attemptId": None,
            "expiresAt": None,
            "errors": [{"code": "TOO_MANY_ATTEMPTS", "field": "email"}],
        }
    # a phone works the same way; bad input is refused before anything is recorded
    assert (await portal.start(phone="+4915112345678"))["errors"] == []
    for bad in ({"email": "not an address"}, {}, {"email": "a@b.de", "phone": "+491511234"}):
        refused = await portal.start(**bad)
        assert refused["errors"][0]["code"] == "INVALID_INPUT", bad
    assert len(await portal.messages()) == 2  # Mia's two codes, nobody else's


async def test_a_blocked_member_gets_a_code_but_no_session(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    portal = await Portal.open(gateway, db, tenant)
    lukas = await enrol(portal.client, tenant.id, "lukas@example.com")
    blocked = await graphql(
        portal.client,
        "mutation($id: ID!) { memberUpdate(input: {id: $id, status: BLOCKED}) "
        "{ errors { code } } }",
        {"id": lukas},
        token=admin_token(tenant.id),
    )
    assert blocked["data"]["memberUpdate"]["errors"] == []
    started = await portal.start(email="lukas@example.com")
    assert started["errors"] == []  # the same answer as anyone's
    answer = await portal.verify(started["attemptId"], await portal.code_sent_to(lukas))
    assert answer["token"] is None
    assert answer["errors"] == [{"code": "MEMBER_NOT_ACTIVE", "field": "attemptId"}]


async def test_a_session_is_one_tenant_s_and_only_a_session_key_makes_one(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app, session_secret="s" * 40)
    portal = await Portal.open(gateway, db, tenant)
    other_tenant = await create_test_tenant(db)
    other = await Portal.open(gateway, db, other_tenant)
    mia = await enrol(portal.client, tenant.id, "mia@example.com")
    stranger = await enrol(portal.client, other_tenant.id, "mia@example.com")
    session = (await portal.sign_in("mia@example.com", mia))["token"]
    # the same address at the other tenant is another member, with a session of its own
    theirs = (await other.sign_in("mia@example.com", stranger))["token"]
    assert (await graphql(portal.client, VIEWER, token=theirs))["data"]["viewer"]["member"] == {
        "id": stranger
    }
    # tenant A's session sees nothing of tenant B
    body = await graphql(
        portal.client, "query($id: ID!) { member(id: $id) { id } }", {"id": stranger}, token=session
    )
    assert body["data"] == {"member": None}
    # a session claiming tenant B, or made with any key but the session secret, is refused
    now = datetime.now(UTC)
    claims = {
        "iss": sessions.ISSUER,
        "aud": sessions.AUDIENCE,
        "sub": mia,
        "role": "member",
        "tenant": str(other_tenant.id),
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    for forged in (
        jwt.encode(claims, "not the session secret, though as long", algorithm="HS256"),
        token("member", mia, tenant.id, iss=sessions.ISSUER, aud=sessions.AUDIENCE),
        jwt.encode({**claims, "tenant": str(tenant.id), "role": "admin"}, "s" * 40),
        jwt.encode({**claims, "tenant": str(tenant.id), "aud": "elsewhere"}, "s" * 40),
    ):
        response = await portal.client.post(
            "/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {forged}"}
        )
        assert response.status_code == 401, forged
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_production_signs_sessions_only_with_the_session_secret(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    # set up in development (its admin tokens), then sign in on production gateways
    development = await Portal.open(await onboarding_gateway(make_app), db, tenant)
    mia = await enrol(development.client, tenant.id, "mia@example.com")
    unset = Portal(
        await onboarding_gateway(make_app, environment="production"), tenant, development.key
    )
    started = await unset.start(email="mia@example.com")
    code = await development.code_sent_to(mia)
    refused = await unset.verify(started["attemptId"], code)
    assert refused["errors"] == [{"code": "SESSIONS_NOT_CONFIGURED", "field": None}]

    configured = Portal(
        await onboarding_gateway(make_app, environment="production", session_secret="p" * 40),
        tenant,
        development.key,
    )
    # the code was not used up by the refusal: once the operator sets the secret, it works
    signed_in = await configured.verify(started["attemptId"], code)
    assert signed_in["errors"] == []
    viewer = await graphql(configured.client, VIEWER, token=signed_in["token"])
    assert viewer["data"]["viewer"]["member"] == {"id": mia}
    # and only there: a gateway with another secret, or none, does not take the session
    for elsewhere in (unset, development):
        response = await elsewhere.client.post(
            "/graphql",
            json={"query": VIEWER},
            headers={"Authorization": f"Bearer {signed_in['token']}"},
        )
        assert response.status_code == 401
    # development tokens stay refused in production, even dressed as sessions
    for dressed in (
        token("member", mia, tenant.id),
        token("member", mia, tenant.id, iss=sessions.ISSUER, aud=sessions.AUDIENCE),
    ):
        response = await configured.client.post(
            "/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {dressed}"}
        )
        assert response.status_code == 401


async def test_sign_in_needs_the_setting_and_the_enrolment_scope(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    await enable(db, gateway, tenant)  # sign_in_by_code is off by default
    key = await enrolment_key(gateway.client, tenant.id)
    body = await graphql(
        gateway.client, SIGN_IN_START, {"i": {"email": "mia@example.com"}}, api_key=key
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    portal = await Portal.open(gateway, db, tenant)
    till = await pos_key(gateway.client, tenant.id)
    for credentials, code in (
        ({"api_key": till}, "FORBIDDEN"),  # a till's key is no enrolment key
        ({}, "GRAPHQL_VALIDATION_FAILED"),  # no credential: no tenant, no module's fields
    ):
        body = await graphql(
            gateway.client, SIGN_IN_START, {"i": {"email": "mia@example.com"}}, **credentials
        )
        assert body["errors"][0]["extensions"]["code"] == code
    assert (await portal.start(email="mia@example.com"))["errors"] == []


def test_the_demo_signs_in_by_code_and_says_how() -> None:
    registry = build_registry(plugins=[loyalty_onboarding], load_entry_points=False)
    [shown] = [m for m in demo_modules(registry) if m.info.name == SIGN_IN_MODULE]
    assert shown.demo is not None
    assert shown.demo.settings == {"sign_in_by_code": True}
    member = uuid.uuid4()
    access = DemoAccess(
        graphql_url="http://127.0.0.1:8000/graphql",
        data_dir=Path("demo"),
        serve_command="loyalty serve",
        credentials=DemoCredentials(
            uuid.uuid4(), "lk_key", "lk_web", member, "Mia Schulz", "mia@example.com", "9000"
        ),
        admin_token="admin",
        member_token="member",
        platform_token="platform",
        sign_in_by_code=True,
    )
    out = io.StringIO()
    print_welcome(access, out)
    text = out.getvalue()
    assert "Portal sign-in:  http://127.0.0.1:8000/portal/?tenant=demo&key=lk_web\n" in text
    assert "signInStart, then signInVerify" in text
    out = io.StringIO()
    print_welcome(replace(access, sign_in_by_code=False), out)
    assert "signIn" not in out.getvalue()


async def test_concurrent_guesses_and_requests_are_counted_one_by_one(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    first = await onboarding_gateway(make_app)
    second = await onboarding_gateway(make_app)
    portal = await Portal.open(first, db, tenant, max_code_attempts=3, max_codes_per_hour=3)
    other = Portal(second, tenant, portal.key)
    await enrol(portal.client, tenant.id, "mia@example.com")
    # eight requests for a code at once, on two gateways: three pass, for everyone alike
    attempts: dict[str, list[str]] = {}
    for address in ("mia@example.com", "nobody@example.com"):
        answers = await asyncio.gather(
            *(p.start(email=address) for p in (portal, other) for _ in range(4))
        )
        codes = sorted(a["errors"][0]["code"] if a["errors"] else "SENT" for a in answers)
        assert codes == ["SENT"] * 3 + ["TOO_MANY_ATTEMPTS"] * 5, address
        attempts[address] = [a["attemptId"] for a in answers if a["attemptId"]]
    assert len(await portal.messages()) == 3  # Mia's; nobody's was sent nothing
    # eight wrong guesses at once on one of Mia's codes: three count, the rest find it locked
    attempt = attempts["mia@example.com"][0]
    guesses = await asyncio.gather(
        *(p.verify(attempt, "999999") for p in (portal, other) for _ in range(4))
    )
    assert sorted(g["errors"][0]["code"] for g in guesses) == (
        ["TOO_MANY_ATTEMPTS"] * 5 + ["VERIFICATION_FAILED"] * 3
    )
    # one code, verified twice at once on two gateways: one session
    lukas = await enrol(portal.client, tenant.id, "lukas@example.com")
    fresh = await portal.start(email="lukas@example.com")
    code = await portal.code_sent_to(lukas)
    both = await asyncio.gather(
        portal.verify(fresh["attemptId"], code), other.verify(fresh["attemptId"], code)
    )
    assert sorted(bool(b["token"]) for b in both) == [False, True]
    assert [b["errors"] for b in both if not b["token"]] == [
        [{"code": "VERIFICATION_FAILED", "field": "code"}]
    ]


async def test_a_member_s_sign_ins_are_exported_and_erased(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    portal = await Portal.open(gateway, db, tenant)
    mia = await enrol(portal.client, tenant.id, "mia@example.com")
    session = (await portal.sign_in("mia@example.com", mia))["token"]
    # the member exports its own data with its session
    body = await graphql(
        portal.client,
        "mutation($i: MemberExportInput!) { memberExport(input: $i) { data errors { code } } }",
        {"i": {"memberId": mia}},
        token=session,
    )
    onboarding = body["data"]["memberExport"]["data"]["modules"]["onboarding"]
    assert len(onboarding["signIns"]) == 1
    assert onboarding["signIns"][0]["consumed_at"] is not None
    assert [m["subject"] for m in onboarding["messages"]] == ["Your sign-in code"]
    erased = await graphql(
        portal.client,
        "mutation($i: MemberEraseInput!) { memberErase(input: $i) { erased errors { code } } }",
        {"i": {"memberId": mia}},
        token=admin_token(tenant.id),
    )
    assert erased["data"]["memberErase"]["erased"] is True
    async with db.tenant_transaction(tenant.id) as conn:
        left = await conn.scalar(
            select(func.count()).select_from(sign_ins).where(sign_ins.c.tenant_id == tenant.id)
        )
    assert left == 0
    assert await portal.messages() == []
    # the session ends with the member
    response = await portal.client.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {session}"}
    )
    assert response.status_code == 401


ENROLMENT_SESSION = """
mutation($i: EnrolmentCompleteInput!) {
  enrolmentComplete(input: $i) { memberId token errors { code field } }
}
"""


async def _joined(portal: Portal, channel: str, key: str, **address: str) -> dict[str, Any]:
    started = await start(portal.client, key, channel=channel, **address)
    assert started["errors"] == [], started
    enrolment_id = started["enrolment"]["id"]
    if started["enrolment"]["status"] == "STARTED":
        code = await sent_secret(portal.client, portal.tenant.id, enrolment_id)
        assert (await verify(portal.client, key, enrolment_id, code))["errors"] == []
    body = await graphql(
        portal.client,
        ENROLMENT_SESSION,
        {"i": {"enrolmentId": enrolment_id, "consents": TERMS}},
        api_key=key,
    )
    payload: dict[str, Any] = body["data"]["enrolmentComplete"]
    assert payload["errors"] == [], payload
    return payload


async def test_joining_on_the_web_signs_the_new_member_in(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    """The address proven by the enrolment's code is what a sign-in code would prove, so the
    new member is signed in at once; an enrolment at a till signs nobody in, and
    neither does one where the tenant does not sign members in by code."""
    gateway = await onboarding_gateway(make_app)
    portal = await Portal.open(gateway, db, tenant)
    joined = await _joined(portal, "WEB", portal.key, email="lena@example.com")
    body = await graphql(portal.client, VIEWER, token=joined["token"])
    assert body == {"data": {"viewer": {"member": {"id": joined["memberId"]}}}}

    till = await till_key(portal.client, tenant.id)
    at_the_till = await _joined(portal, "POS", till, email="noah@example.com")
    assert at_the_till["token"] is None

    await enable(db, gateway, tenant, sign_in_by_code=False)
    without = await _joined(portal, "APP", portal.key, email="jonas@example.com")
    assert without["memberId"] is not None
    assert without["token"] is None
