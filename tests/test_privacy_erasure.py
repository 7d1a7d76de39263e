"""Privacy requests across the core and every module: an export holds every module's data
about the member and nothing of another tenant; an erasure leaves no personal data in any
table of the database while the ledger stays balanced and its totals unchanged."""

from __future__ import annotations

import json
import secrets
import types
import uuid
from collections.abc import Mapping
from typing import Any

import loyalty_giftcards
import loyalty_onboarding
from loyalty_core.db.engine import Database
from loyalty_core.modules.manager import build_registry
from loyalty_core.sdk import SDK_VERSION, MemberData, MemberDataContext, ModuleInfo, hookimpl
from loyalty_core.tenants.models import Tenant
from loyalty_testing import (
    MakeApp,
    RunningGateway,
    admin_token,
    create_test_tenant,
    enable_for,
    graphql,
    member_token,
)
from sqlalchemy import text

from tests.api import pos_key
from tests.onboarding import enable, enrol_member, enrolment_key

EXPORT = """
mutation($i: MemberExportInput!) { memberExport(input: $i) { data errors { code field } } }
"""
ERASE = """
mutation($i: MemberEraseInput!) { memberErase(input: $i) { erased rows errors { code field } } }
"""
NOTES: dict[tuple[uuid.UUID, uuid.UUID], str] = {}
"""The notebook module's data, kept in memory: enough to show the hook reaches any module."""
GIFT_CODES: dict[str, str] = {}
"""The code of each seeded member's gift card, as the member revealed it."""


def _notebook() -> types.ModuleType:
    """A third-party-like module whose only contribution is member data."""

    async def export(ctx: MemberDataContext) -> Mapping[str, Any]:
        return {"note": NOTES.get((ctx.tenant_id, ctx.member_id))}

    async def erase(ctx: MemberDataContext) -> int:
        return 1 if NOTES.pop((ctx.tenant_id, ctx.member_id), None) is not None else 0

    module = types.ModuleType("notebook")
    module.loyalty_module = hookimpl(  # type: ignore[attr-defined]
        lambda: ModuleInfo(
            name="notebook", version="1", description="Notes.", sdk_version=SDK_VERSION
        )
    )
    module.loyalty_member_data = hookimpl(  # type: ignore[attr-defined]
        lambda: MemberData(export=export, erase=erase)
    )
    return module


async def _gateway(make_app: MakeApp) -> RunningGateway:
    registry = build_registry(
        plugins=[loyalty_onboarding, loyalty_giftcards, _notebook()], load_entry_points=False
    )
    return await make_app(registry)


async def _seeded_member(
    gateway: RunningGateway, db: Database, tenant: Tenant, canary: str, phone: str
) -> str:
    """A member with the canary in every personal field the core and onboarding keep, and a
    gift card (the module keeps no free text about members, so no canary there)."""
    await enable(db, gateway, tenant, welcome_bonus=100, required_fields=[])
    await enable_for(db, gateway.registry, tenant, "notebook")
    await enable_for(db, gateway.registry, tenant, "giftcards", {"currencies": ["EUR"]})
    client = gateway.client
    key = await enrolment_key(client, tenant.id)
    member = await enrol_member(
        client,
        tenant.id,
        key,
        email=f"{canary}@example.com",
        phone=phone,
        firstName=canary,
        lastName=canary,
        locale="de-DE",
    )
    admin = admin_token(tenant.id)
    updated = await graphql(
        client,
        "mutation($i: MemberUpdateInput!) { memberUpdate(input: $i) { errors { code } } }",
        {"i": {"id": member, "attributes": {"note": canary}}},
        token=admin,
    )
    assert updated["data"]["memberUpdate"]["errors"] == []
    await graphql(
        client,
        "mutation($i: ConsentGiveInput!) { consentGive(input: $i) { errors { code } } }",
        {
            "i": {
                "memberId": member,
                "purpose": "PROFILING",
                "textVersion": "p-1",
                "channel": "web",
                "source": f"form of {canary}",
            }
        },
        token=member_token(tenant.id, uuid.UUID(member)),
    )
    await graphql(
        client,
        "mutation($i: ReferralCodeCreateInput!) { referralCodeCreate(input: $i) { code } }",
        {"i": {"memberId": member}},
        token=admin,
    )
    till = await pos_key(client, tenant.id)
    await graphql(
        client,
        "mutation($i: EventIngestInput!) { eventIngest(input: $i) { errors { code } } }",
        {
            "i": {
                "type": "purchase",
                "source": "shop",
                "externalId": f"p-{uuid.uuid4()}",
                "memberId": member,
                "payload": {"amount": 2500, "currency": "EUR"},
            }
        },
        api_key=till,
    )
    card = await graphql(
        client,
        "mutation($i: GiftCardIssueInput!) { giftCardIssue(input: $i) "
        "{ giftCard { id } errors { code } } }",
        {"i": {"amount": 3_000, "currency": "EUR", "memberId": member}},
        token=admin,
    )
    revealed = await graphql(
        client,
        "mutation($id: ID!) { giftCardReveal(input: {id: $id}) { code errors { code } } }",
        {"id": card["data"]["giftCardIssue"]["giftCard"]["id"]},
        token=member_token(tenant.id, uuid.UUID(member)),
    )
    GIFT_CODES[member] = revealed["data"]["giftCardReveal"]["code"]
    NOTES[(tenant.id, uuid.UUID(member))] = canary
    return member


async def test_export_holds_every_modules_data_and_only_this_tenants(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await _gateway(make_app)
    other = await create_test_tenant(db)
    mine, theirs = f"mine{secrets.token_hex(4)}", f"theirs{secrets.token_hex(4)}"
    member = await _seeded_member(gateway, db, tenant, mine, "+4915200000001")
    await _seeded_member(gateway, db, other, theirs, "+4915200000001")
    body = await graphql(
        gateway.client,
        EXPORT,
        {"i": {"memberId": member}},
        token=member_token(tenant.id, uuid.UUID(member)),
    )
    result = body["data"]["memberExport"]
    assert result["errors"] == []
    data = result["data"]
    assert data["memberId"] == member
    assert set(data["modules"]) == {"core", "onboarding", "notebook", "giftcards"}
    core, onboarding = data["modules"]["core"], data["modules"]["onboarding"]
    assert core["member"]["profile"]["firstName"] == mine
    assert {i["kind"] for i in core["identifiers"]} == {"email", "phone", "card_number"}
    assert sum(e["amount"] for e in core["ledgerEntries"]) == 125
    assert [e["type"] for e in core["events"]] == ["purchase"]
    assert {c["purpose"] for c in onboarding["consents"]} == {"terms", "profiling"}
    assert len(onboarding["cards"]) == 1
    assert onboarding["referralCode"]
    assert onboarding["enrolments"][0]["email"] == f"{mine}@example.com"
    assert data["modules"]["notebook"] == {"note": mine}
    [card] = data["modules"]["giftcards"]["cards"]
    code = GIFT_CODES[member]
    assert (card["balance"], card["currency"], card["codeHeld"]) == (3_000, "EUR", True)
    assert card["maskedCode"].endswith(card["lastFour"])
    assert card["lastFour"] == code.replace("-", "")[-4:]
    assert [e["kind"] for e in card["events"]] == ["issued", "revealed"]
    serialised = json.dumps(data)
    assert code not in serialised
    assert code.replace("-", "") not in serialised
    assert theirs not in serialised
    assert str(other.id) not in serialised
    stranger = await graphql(
        gateway.client, EXPORT, {"i": {"memberId": member}}, token=admin_token(other.id)
    )
    assert stranger["data"]["memberExport"]["errors"] == [
        {"code": "NOT_FOUND", "field": "memberId"}
    ]


async def test_erasure_leaves_no_personal_data_and_the_ledger_balanced(
    make_app: MakeApp, db: Database, owner_db: Database, tenant: Tenant
) -> None:
    gateway = await _gateway(make_app)
    canary = f"canary{secrets.token_hex(6)}"
    phone = f"+49151{secrets.randbelow(10**8):08d}"
    member = await _seeded_member(gateway, db, tenant, canary, phone)
    assert await _points(gateway, tenant, member) == 125
    assert await _columns_containing(owner_db, canary)
    before = await _ledger_figures(owner_db, tenant.id)
    till = await pos_key(gateway.client, tenant.id, ("MEMBERS_WRITE",))
    refused = await graphql(gateway.client, ERASE, {"i": {"memberId": member}}, api_key=till)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await graphql(
        gateway.client, ERASE, {"i": {"memberId": member}}, token=admin_token(tenant.id)
    )
    result = body["data"]["memberErase"]
    assert result["errors"] == []
    assert result["erased"] is True
    assert set(result["rows"]) == {"core", "onboarding", "notebook", "giftcards"}
    assert result["rows"]["giftcards"] == 1
    assert await _columns_containing(owner_db, canary) == []
    assert await _columns_containing(owner_db, phone.lstrip("+")) == []
    after = await _ledger_figures(owner_db, tenant.id)
    assert after["sum_per_asset"] == before["sum_per_asset"] == [0, 0]  # points, gift cards
    assert after["issued"] == before["issued"]
    assert after["breakage"] == before["breakage"] + 125
    assert after["entries"] >= before["entries"]
    assert await _points(gateway, tenant, member) == 0
    # The gift card is a bearer instrument: unassigned, its code no longer kept, its value
    # untouched on it (no breakage), and the code the member kept still spends at a till.
    cards = await graphql(
        gateway.client,
        "{ giftCards(first: 10) { edges { node { memberId codeHeld balance events { kind } } } } }",
        token=admin_token(tenant.id),
    )
    [card] = [edge["node"] for edge in cards["data"]["giftCards"]["edges"]]
    assert (card["memberId"], card["codeHeld"], card["balance"]) == (None, False, 3_000)
    assert card["events"][-1]["kind"] == "UNASSIGNED"
    spent = await graphql(
        gateway.client,
        "mutation($i: GiftCardMoveInput!) { giftCardRedeem(input: $i) { errors { code } } }",
        {"i": {"code": GIFT_CODES[member], "amount": 1_000, "idempotencyKey": "bearer"}},
        api_key=await pos_key(gateway.client, tenant.id),
    )
    assert spent["data"]["giftCardRedeem"]["errors"] == []
    after = await _ledger_figures(owner_db, tenant.id)
    status = await graphql(
        gateway.client,
        "query($id: ID!) { member(id: $id) { status firstName identifiers { kind } } }",
        {"id": member},
        token=admin_token(tenant.id),
    )
    assert status["data"]["member"] == {"status": "ERASED", "firstName": None, "identifiers": []}
    again = await graphql(
        gateway.client, ERASE, {"i": {"memberId": member}}, token=admin_token(tenant.id)
    )
    assert again["data"]["memberErase"] == {"erased": True, "rows": None, "errors": []}
    assert await _ledger_figures(owner_db, tenant.id) == after


async def _points(gateway: RunningGateway, tenant: Tenant, member: str) -> int:
    """The member's available points (the tenant's gift card asset is listed too)."""
    body = await graphql(
        gateway.client,
        "query($id: ID!) { member(id: $id) { balances { asset { code } available } } }",
        {"id": member},
        token=admin_token(tenant.id),
    )
    [points] = [b for b in body["data"]["member"]["balances"] if b["asset"]["code"] == "points"]
    return int(points["available"])


async def _columns_containing(owner_db: Database, needle: str) -> list[str]:
    """Every text, varchar and JSON column of every table (all tenants) holding ``needle``."""
    found: list[str] = []
    async with owner_db.engine.connect() as conn:
        columns = await conn.execute(
            text(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND data_type IN "
                "('text', 'character varying', 'jsonb', 'json', 'ARRAY', 'character')"
            )
        )
        for table, column in columns.all():
            hit = await conn.scalar(
                text(f'SELECT count(*) FROM "{table}" WHERE "{column}"::text LIKE :needle'),
                {"needle": f"%{needle}%"},
            )
            if hit:
                found.append(f"{table}.{column}")
    return found


async def _ledger_figures(owner_db: Database, tenant_id: uuid.UUID) -> dict[str, Any]:
    async with owner_db.engine.connect() as conn:
        per_asset = await conn.execute(
            text("SELECT sum(amount) FROM ledger_entries WHERE tenant_id = :t GROUP BY asset_id"),
            {"t": tenant_id},
        )
        by_purpose: dict[str, int] = dict(
            (
                await conn.execute(
                    text(
                        "SELECT a.purpose, sum(e.amount) FROM ledger_entries e "
                        "JOIN ledger_accounts a "
                        "ON a.tenant_id = e.tenant_id AND a.id = e.account_id "
                        "WHERE e.tenant_id = :t AND a.member_id IS NULL GROUP BY a.purpose"
                    ),
                    {"t": tenant_id},
                )
            ).all()
        )
        entries = await conn.scalar(
            text("SELECT count(*) FROM ledger_entries WHERE tenant_id = :t"), {"t": tenant_id}
        )
    return {
        "sum_per_asset": [int(row[0]) for row in per_asset],
        "issued": int(by_purpose.get("issued", 0)),
        "breakage": int(by_purpose.get("breakage", 0)),
        "entries": entries,
    }
