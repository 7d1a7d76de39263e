"""Cards that belong to members: the owner (and only the owner) reveals the code, which is
kept sealed at rest; batches are idempotent; the keys and the optional server pepper."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_giftcards import codes, keys
from loyalty_giftcards.tables import batches, cards
from loyalty_giftcards.tables import keys as keys_table
from loyalty_testing import (
    MakeApp,
    RunningGateway,
    admin_token,
    create_test_tenant,
    enable_for,
    graphql,
    member_token,
)
from pydantic import ValidationError
from sqlalchemy import func, select

from tests.api import enrol, pos_key
from tests.test_giftcards_api import BATCH, SETTINGS, gift_card_gateway, issue, move

REVEAL = """
mutation($id: ID!) {
  giftCardReveal(input: {id: $id}) {
    code giftCard { id codeHeld } event { kind actor } errors { code field }
  }
}
"""

IDEMPOTENT_BATCH = """
mutation($input: GiftCardBatchIssueInput!) {
  giftCardBatchIssue(input: $input) { batch { id size } replayed errors { code field } }
}
"""


async def reveal(gateway: RunningGateway, card_id: str, **auth: Any) -> dict[str, Any]:
    return await graphql(gateway.client, REVEAL, {"id": card_id}, **auth)


async def test_the_owner_reveals_the_code_of_their_card_and_nobody_else_can(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await gift_card_gateway(make_app, db, tenant)
    owner = await enrol(gateway.client, tenant.id, "owner@example.com")
    stranger = await enrol(gateway.client, tenant.id, "stranger@example.com")
    issued = await issue(gateway, tenant, 2_000, memberId=owner)
    card_id = issued["giftCard"]["id"]
    own = member_token(tenant.id, uuid.UUID(owner))

    for _ in range(2):  # repeatable: the member shows it at a till whenever they shop
        body = await reveal(gateway, card_id, token=own)
        payload = body["data"]["giftCardReveal"]
        assert payload["errors"] == [], payload
        assert payload["code"] == issued["code"]
        assert payload["giftCard"] == {"id": card_id, "codeHeld": True}
        assert payload["event"] == {"kind": "REVEALED", "actor": f"member:{owner}"}

    other = await reveal(gateway, card_id, token=member_token(tenant.id, uuid.UUID(stranger)))
    assert other["data"]["giftCardReveal"]["errors"] == [{"code": "NOT_FOUND", "field": "id"}]
    assert other["data"]["giftCardReveal"]["code"] is None
    missing = await reveal(gateway, str(uuid.uuid4()), token=own)
    assert missing["data"]["giftCardReveal"]["errors"] == [{"code": "NOT_FOUND", "field": "id"}]
    anonymous = await issue(gateway, tenant, 500)
    assert anonymous["giftCard"]["codeHeld"] is False
    theirs = await reveal(gateway, anonymous["giftCard"]["id"], token=own)
    assert theirs["data"]["giftCardReveal"]["errors"] == [{"code": "NOT_FOUND", "field": "id"}]
    admin = await reveal(gateway, card_id, token=admin_token(tenant.id))
    assert admin["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    till = await pos_key(gateway.client, tenant.id)
    refused = await reveal(gateway, card_id, api_key=till)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    other_tenant = await create_test_tenant(db)
    await enable_for(db, gateway.registry, other_tenant, "giftcards", SETTINGS)
    foreign = await reveal(gateway, card_id, token=member_token(other_tenant.id, uuid.UUID(owner)))
    assert foreign["data"]["giftCardReveal"]["errors"] == [{"code": "NOT_FOUND", "field": "id"}]

    spent = await move(gateway, till, "giftCardRedeem", issued["code"], 700, "after-reveal")
    assert spent["errors"] == []
    log = await graphql(
        gateway.client,
        "query($id: ID!) { member(id: $id) { giftCards { balance events { kind actor } } } }",
        {"id": owner},
        token=own,
    )
    [card] = log["data"]["member"]["giftCards"]
    assert card["balance"] == 1_300
    assert [e["kind"] for e in card["events"]] == ["ISSUED", "REVEALED", "REVEALED", "REDEEMED"]


async def test_the_code_is_sealed_at_rest_and_bound_to_its_card(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await gift_card_gateway(make_app, db, tenant)
    owner = await enrol(gateway.client, tenant.id, "sealed@example.com")
    issued = await issue(gateway, tenant, 1_000, memberId=owner)
    anonymous = await issue(gateway, tenant, 1_000)
    code = issued["code"].replace("-", "")
    card_id = uuid.UUID(issued["giftCard"]["id"])
    async with db.tenant_transaction(tenant.id) as conn:
        sealed = await conn.scalar(select(cards.c.code_sealed).where(cards.c.id == card_id))
        plain = await conn.scalar(
            select(cards.c.code_sealed).where(cards.c.id == uuid.UUID(anonymous["giftCard"]["id"]))
        )
        secrets = await keys.tenant_keys(conn, tenant.id)
    assert plain is None  # anonymous cards keep the hash only
    assert sealed is not None
    assert code.encode() not in bytes(sealed)
    assert codes.unseal(secrets.sealing, tenant.id, card_id, bytes(sealed)) == code
    with pytest.raises(InvalidTag):  # copied onto another card, it does not open
        codes.unseal(secrets.sealing, tenant.id, uuid.uuid4(), bytes(sealed))
    with pytest.raises(InvalidTag):  # nor under the hashing key
        codes.unseal(secrets.hashing, tenant.id, card_id, bytes(sealed))


async def test_a_retried_batch_returns_the_first_and_makes_no_cards(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await gift_card_gateway(make_app, db, tenant)
    admin = admin_token(tenant.id)
    request = {"count": 5, "currency": "EUR", "idempotencyKey": "print-run-1"}
    first = (await graphql(gateway.client, IDEMPOTENT_BATCH, {"input": request}, token=admin))[
        "data"
    ]["giftCardBatchIssue"]
    again = (await graphql(gateway.client, IDEMPOTENT_BATCH, {"input": request}, token=admin))[
        "data"
    ]["giftCardBatchIssue"]
    assert (first["errors"], first["replayed"]) == ([], False)
    assert (again["errors"], again["replayed"]) == ([], True)
    assert again["batch"] == first["batch"]
    other = await graphql(
        gateway.client, IDEMPOTENT_BATCH, {"input": {**request, "count": 6}}, token=admin
    )
    conflict = other["data"]["giftCardBatchIssue"]
    assert conflict["errors"] == [{"code": "IDEMPOTENCY_CONFLICT", "field": "idempotencyKey"}]
    unkeyed = await graphql(gateway.client, BATCH, {"input": {"count": 2}}, token=admin)
    assert unkeyed["data"]["giftCardBatchIssue"]["errors"] == []
    racing = {"count": 3, "currency": "EUR", "idempotencyKey": "print-run-2"}
    answers = await asyncio.gather(
        *(
            graphql(gateway.client, IDEMPOTENT_BATCH, {"input": racing}, token=admin)
            for _ in range(4)
        )
    )
    payloads = [answer["data"]["giftCardBatchIssue"] for answer in answers]
    assert all(p["errors"] == [] for p in payloads)
    assert len({p["batch"]["id"] for p in payloads}) == 1
    assert sorted(p["replayed"] for p in payloads) == [False, True, True, True]
    async with db.tenant_transaction(tenant.id) as conn:
        made = await conn.scalar(select(func.count()).select_from(cards))
        runs = await conn.scalar(select(func.count()).select_from(batches))
    assert (made, runs) == (10, 3)


@pytest.fixture
def pepper(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A server pepper for the test's duration (the settings are cached per process)."""
    value = "p" * 16 + uuid.uuid4().hex
    monkeypatch.setenv("GIFTCARDS_PEPPER", value)
    keys.server_settings.cache_clear()
    yield value
    monkeypatch.delenv("GIFTCARDS_PEPPER")
    keys.server_settings.cache_clear()


def test_keys_are_derived_per_purpose_and_bound_to_the_pepper() -> None:
    secret = bytes(range(32))
    plain = keys.derive(secret, None, None)
    assert plain.hashing == secret  # keys made before peppers hash as they always did
    assert plain.sealing != secret
    assert keys.derive(secret, None, b"x" * 32) == plain  # a later pepper changes nothing
    pepper = b"a-server-pepper-of-at-least-32-chars"
    fingerprint = keys._fingerprint(pepper)
    peppered = keys.derive(secret, fingerprint, pepper)
    assert len({peppered.hashing, peppered.sealing, plain.hashing, plain.sealing}) == 4
    for wrong in (None, b"another-server-pepper-of-32-chars!!"):
        with pytest.raises(RuntimeError, match="GIFTCARDS_PEPPER"):
            keys.derive(secret, fingerprint, wrong)


def test_a_short_pepper_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIFTCARDS_PEPPER", "too-short")
    with pytest.raises(ValidationError, match="at least 32"):
        keys.ServerSettings()


async def test_a_peppered_tenant_needs_its_pepper(
    make_app: MakeApp, db: Database, pepper: str
) -> None:
    tenant = await create_test_tenant(db)
    gateway = await gift_card_gateway(make_app, db, tenant)
    till = await pos_key(gateway.client, tenant.id)
    owner = await enrol(gateway.client, tenant.id, "pepper@example.com")
    issued = await issue(gateway, tenant, 900, memberId=owner)
    shown = await reveal(
        gateway, issued["giftCard"]["id"], token=member_token(tenant.id, uuid.UUID(owner))
    )
    assert shown["data"]["giftCardReveal"]["code"] == issued["code"]
    assert (await move(gateway, till, "giftCardRedeem", issued["code"], 100, "p1"))["errors"] == []
    async with db.tenant_transaction(tenant.id) as conn:
        bound = await conn.scalar(select(keys_table.c.pepper_fingerprint))
        secret = (await conn.execute(select(keys_table.c.secret))).scalar_one()
    assert bound == keys._fingerprint(pepper.encode())
    assert keys.derive(bytes(secret), bound, pepper.encode()).hashing != secret
    keys.server_settings.cache_clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("GIFTCARDS_PEPPER")
        async with db.tenant_transaction(tenant.id) as conn:
            with pytest.raises(RuntimeError, match="GIFTCARDS_PEPPER"):
                await keys.tenant_keys(conn, tenant.id)
    keys.server_settings.cache_clear()


async def test_enabling_again_keeps_the_key(
    db: Database, tenant: Tenant, make_app: MakeApp
) -> None:
    gateway = await gift_card_gateway(make_app, db, tenant)
    async with db.tenant_transaction(tenant.id) as conn:
        before = await conn.scalar(select(keys_table.c.secret))
    await enable_for(db, gateway.registry, tenant, "giftcards", {"currencies": ["EUR", "CHF"]})
    async with db.tenant_transaction(tenant.id) as conn:
        after = await conn.scalar(select(keys_table.c.secret))
    assert before == after
