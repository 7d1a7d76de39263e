"""Member cards after enrolment, through the public API: a till hands a physical card to a
member who had a digital one, replacing blocks the old number everywhere (lookups, a second
replacement, a new enrolment with it), members may issue themselves digital cards only, and
every issue and block is recorded with who did it."""

from __future__ import annotations

import uuid

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_onboarding.cards import is_valid_card_number, luhn_check_digit
from loyalty_onboarding.tables import cards
from loyalty_testing import MakeApp, admin_token, graphql, member_token
from sqlalchemy import select

from tests.onboarding import (
    enable,
    enrol_member,
    enrolment_key,
    onboarding_gateway,
    start,
    till_key,
)

ISSUE = """
mutation($i: MemberCardIssueInput!) {
  memberCardIssue(input: $i) {
    card { number kind status blockedAt qrPayload } errors { code field message }
  }
}
"""
CARDS = "query($m: ID!) { memberCards(memberId: $m) { number kind status blockedAt } }"
BY_CARD = """
query($v: String!) { memberByIdentifier(kind: CARD_NUMBER, value: $v) { id } }
"""


def physical_card(body: str) -> str:
    return body + luhn_check_digit(body)


async def test_a_till_replaces_a_digital_card_with_a_physical_one_and_blocks_the_old(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    await enable(db, gateway, tenant, required_fields=[])
    client = gateway.client
    member_id = await enrol_member(
        client, tenant.id, await enrolment_key(client, tenant.id), email="card@example.com"
    )
    till = await till_key(client, tenant.id)
    listed = await graphql(client, CARDS, {"m": member_id}, api_key=till)
    [digital] = listed["data"]["memberCards"]
    assert digital["status"] == "ACTIVE"

    printed = physical_card("400000000000777")
    issued = await graphql(
        client,
        ISSUE,
        {
            "i": {
                "memberId": member_id,
                "kind": "PHYSICAL",
                "number": printed,
                "replaces": digital["number"],
            }
        },
        api_key=till,
    )
    payload = issued["data"]["memberCardIssue"]
    assert payload["errors"] == []
    assert payload["card"]["number"] == printed
    assert payload["card"]["status"] == "ACTIVE"
    listed = await graphql(client, CARDS, {"m": member_id}, api_key=till)
    by_number = {c["number"]: c for c in listed["data"]["memberCards"]}
    assert by_number[digital["number"]]["status"] == "BLOCKED"
    assert by_number[digital["number"]]["blockedAt"] is not None
    assert by_number[printed]["status"] == "ACTIVE"

    found = await graphql(client, BY_CARD, {"v": printed}, api_key=till)
    assert found["data"]["memberByIdentifier"] == {"id": member_id}
    gone = await graphql(client, BY_CARD, {"v": digital["number"]}, api_key=till)
    assert gone["data"]["memberByIdentifier"] is None

    again = await graphql(
        client,
        ISSUE,
        {"i": {"memberId": member_id, "kind": "DIGITAL", "replaces": digital["number"]}},
        api_key=till,
    )
    assert again["data"]["memberCardIssue"]["errors"][0]["field"] == "replaces"
    reused = await start(client, till, channel="POS", cardNumber=digital["number"])
    assert reused["errors"][0] == {
        "code": "DUPLICATE_IDENTIFIER",
        "field": "cardNumber",
        "message": "this card number was issued already",
    }
    taken = await graphql(
        client,
        ISSUE,
        {"i": {"memberId": member_id, "kind": "PHYSICAL", "number": printed}},
        api_key=till,
    )
    assert taken["data"]["memberCardIssue"]["errors"][0]["code"] == "DUPLICATE_IDENTIFIER"
    mistyped = printed[:-1] + str((int(printed[-1]) + 1) % 10)
    wrong = await graphql(
        client,
        ISSUE,
        {"i": {"memberId": member_id, "kind": "PHYSICAL", "number": mistyped}},
        api_key=till,
    )
    assert wrong["data"]["memberCardIssue"]["errors"][0]["field"] == "number"

    async with db.tenant_transaction(tenant.id) as conn:
        rows = (
            await conn.execute(
                select(cards.c.number, cards.c.issued_by, cards.c.blocked_by, cards.c.replaced_by)
                .where(cards.c.tenant_id == tenant.id)
                .order_by(cards.c.id)
            )
        ).all()
    old, new = rows
    assert old.blocked_by == new.issued_by
    assert new.issued_by is not None
    assert old.replaced_by is not None


async def test_a_member_may_add_a_digital_card_but_not_claim_a_physical_number(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    await enable(db, gateway, tenant, card_prefix="77")
    client = gateway.client
    member_id = await enrol_member(
        client, tenant.id, await enrolment_key(client, tenant.id), email="self@example.com"
    )
    own = member_token(tenant.id, uuid.UUID(member_id))
    added = await graphql(
        client, ISSUE, {"i": {"memberId": member_id, "kind": "DIGITAL"}}, token=own
    )
    card = added["data"]["memberCardIssue"]["card"]
    assert card["kind"] == "DIGITAL"
    assert card["number"].startswith("77")
    assert is_valid_card_number(card["number"])
    assert card["qrPayload"] == f"loyalty-card:{card['number']}"
    claimed = await graphql(
        client,
        ISSUE,
        {
            "i": {
                "memberId": member_id,
                "kind": "PHYSICAL",
                "number": physical_card("400000000000888"),
            }
        },
        token=own,
    )
    assert claimed["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    other = await enrol_member(
        client, tenant.id, await enrolment_key(client, tenant.id), email="other@example.com"
    )
    foreign = await graphql(client, ISSUE, {"i": {"memberId": other, "kind": "DIGITAL"}}, token=own)
    assert foreign["data"]["memberCardIssue"]["errors"][0]["code"] == "NOT_FOUND"
    listed = await graphql(client, CARDS, {"m": member_id}, token=admin_token(tenant.id))
    assert len(listed["data"]["memberCards"]) == 2
