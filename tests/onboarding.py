"""Helpers for onboarding tests: a gateway with the module, keys per channel, and the
enrolment flow driven through the public API (the development sender's messages are read
back through ``sentMessages``, as a developer would)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import loyalty_onboarding
from loyalty_core.db.engine import Database
from loyalty_core.modules.manager import build_registry
from loyalty_core.tenants.models import Tenant
from loyalty_testing import (
    MakeApp,
    RunningGateway,
    admin_token,
    enable_for,
    graphql,
    member_token,
)

from tests.api import pos_key

START = """
mutation($i: EnrolmentStartInput!) {
  enrolmentStart(input: $i) {
    enrolment { id status channel review reviewReason email }
    verificationSent errors { code field message }
  }
}
"""
VERIFY = """
mutation($i: EnrolmentVerifyInput!) {
  enrolmentVerify(input: $i) { enrolment { id status } errors { code field } }
}
"""
COMPLETE = """
mutation($i: EnrolmentCompleteInput!) {
  enrolmentComplete(input: $i) {
    enrolment { status memberId } memberId card { number kind qrPayload }
    errors { code field message }
  }
}
"""
MESSAGES = "{ sentMessages(first: 50) { enrolmentId recipient medium body } }"
REFERRAL_CODE = """
mutation($i: ReferralCodeCreateInput!) {
  referralCodeCreate(input: $i) { code errors { code field } }
}
"""
TERMS = [{"purpose": "TERMS", "textVersion": "t-1"}]
_CODE = re.compile(r"code is ([0-9]{6})")
_TOKEN = re.compile(r"token=([A-Za-z0-9_-]+)")


async def onboarding_gateway(make_app: MakeApp, **settings: Any) -> RunningGateway:
    """A gateway with the onboarding module (``settings``: the gateway's, not the module's)."""
    registry = build_registry(plugins=[loyalty_onboarding], load_entry_points=False)
    return await make_app(registry, **settings)


async def enable(db: Database, gateway: RunningGateway, tenant: Tenant, **settings: object) -> None:
    await enable_for(db, gateway.registry, tenant, "onboarding", dict(settings))


async def enrolment_key(client: httpx.AsyncClient, tenant_id: uuid.UUID) -> str:
    """The public key a website or app embeds."""
    return await pos_key(client, tenant_id, ("ENROLMENT",))


async def till_key(client: httpx.AsyncClient, tenant_id: uuid.UUID) -> str:
    return await pos_key(client, tenant_id)


async def start(client: httpx.AsyncClient, key: str, **fields: Any) -> dict[str, Any]:
    body = await graphql(client, START, {"i": fields}, api_key=key)
    payload: dict[str, Any] = body["data"]["enrolmentStart"]
    return payload


async def verify(
    client: httpx.AsyncClient, key: str, enrolment_id: str, code: str
) -> dict[str, Any]:
    body = await graphql(
        client, VERIFY, {"i": {"enrolmentId": enrolment_id, "code": code}}, api_key=key
    )
    payload: dict[str, Any] = body["data"]["enrolmentVerify"]
    return payload


async def complete(
    client: httpx.AsyncClient, key: str, enrolment_id: str, **fields: Any
) -> dict[str, Any]:
    fields.setdefault("consents", TERMS)
    body = await graphql(
        client, COMPLETE, {"i": {"enrolmentId": enrolment_id, **fields}}, api_key=key
    )
    payload: dict[str, Any] = body["data"]["enrolmentComplete"]
    return payload


async def sent_secret(
    client: httpx.AsyncClient, tenant_id: uuid.UUID, enrolment_id: str, *, link: bool = False
) -> str:
    """The latest code (or link token) sent for an enrolment, from the development sender."""
    body = await graphql(client, MESSAGES, token=admin_token(tenant_id))
    for message in body["data"]["sentMessages"]:
        if message["enrolmentId"] == enrolment_id:
            found = (_TOKEN if link else _CODE).search(message["body"])
            assert found, message
            return found.group(1)
    raise AssertionError(f"no message for {enrolment_id}: {body}")


async def enrol_member(
    client: httpx.AsyncClient, tenant_id: uuid.UUID, key: str, **fields: Any
) -> str:
    """A member enrolled on the web through the whole flow; its id."""
    fields.setdefault("channel", "WEB")
    consents = fields.pop("consents", TERMS)
    started = await start(client, key, **fields)
    assert started["errors"] == [], started
    enrolment_id = started["enrolment"]["id"]
    if started["enrolment"]["status"] == "STARTED":
        code = await sent_secret(client, tenant_id, enrolment_id)
        assert (await verify(client, key, enrolment_id, code))["errors"] == []
    done = await complete(client, key, enrolment_id, consents=consents)
    assert done["errors"] == [], done
    return str(done["memberId"])


async def referral_code(client: httpx.AsyncClient, tenant: Tenant, member: str) -> str:
    """The member's referral code, as the member's app asks for it."""
    body = await graphql(
        client,
        REFERRAL_CODE,
        {"i": {"memberId": member}},
        token=member_token(tenant.id, uuid.UUID(member)),
    )
    code: str = body["data"]["referralCodeCreate"]["code"]
    return code


__all__ = [
    "COMPLETE",
    "START",
    "TERMS",
    "complete",
    "enable",
    "enrol_member",
    "enrolment_key",
    "onboarding_gateway",
    "referral_code",
    "sent_secret",
    "start",
    "till_key",
    "verify",
]
