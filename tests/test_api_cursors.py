"""Cursors are bound to their list and their tenant: a cursor of another list (the members',
another member's ledger, a module's) or of another tenant, a stale one (a bare id, as cursors
were before) or any made-up string is INVALID_INPUT on ``after``, never read as a position;
a list's own cursors page through it as before."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import (
    MakeApp,
    RunningGateway,
    admin_token,
    create_test_tenant,
    enable_for,
    graphql,
)

from tests.api import credit, enrol

MEMBERS = """
query($after: String) {
  members(first: 1, after: $after) { edges { cursor node { id } } pageInfo { endCursor } }
}
"""
LEDGER = """
query($id: ID!, $after: String) {
  member(id: $id) {
    ledger(first: 1, after: $after) { edges { cursor node { amount } } pageInfo { endCursor } }
  }
}
"""
CAMPAIGNS = "query($after: String) { campaigns(after: $after) { edges { cursor } } }"
GIFT_CARDS = "query($after: String) { giftCards(after: $after) { edges { cursor } } }"


class Shop:
    def __init__(self, gateway: RunningGateway, tenant: Tenant, members: list[str]) -> None:
        self.gateway, self.tenant, self.members = gateway, tenant, members

    async def ask(self, query: str, **variables: Any) -> dict[str, Any]:
        token = admin_token(self.tenant.id)
        body = await graphql(self.gateway.client, query, variables, token=token)
        assert "INTERNAL" not in str(body), body
        return body

    async def cursors(self) -> dict[str, str]:
        """A cursor of each list: the members', each member's ledger."""
        members = await self.ask(MEMBERS)
        found = {"members": members["data"]["members"]["pageInfo"]["endCursor"]}
        for member in self.members:
            ledger = await self.ask(LEDGER, id=member)
            found[member] = ledger["data"]["member"]["ledger"]["pageInfo"]["endCursor"]
        return found


def assert_not_a_cursor(body: dict[str, Any]) -> None:
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT", body
    assert error["extensions"]["field"] == "after", body


@pytest_asyncio.fixture(loop_scope="session")
async def shops(make_app: MakeApp, db: Database, tenant: Tenant) -> tuple[Shop, Shop]:
    gateway = await make_app()
    made = []
    for owner in (tenant, await create_test_tenant(db)):
        await enable_for(db, gateway.registry, owner, "giftcards", {"currencies": ["EUR"]})
        members = []
        for n in range(2):
            member = await enrol(gateway.client, owner.id, f"m{n}-{uuid.uuid4().hex}@example.com")
            for points in (10, 20):
                await credit(gateway.client, owner.id, member, points)
            members.append(member)
        made.append(Shop(gateway, owner, members))
    return made[0], made[1]


async def test_a_cursor_pages_through_its_own_list_only(shops: tuple[Shop, Shop]) -> None:
    shop, other = shops
    first = await shop.ask(MEMBERS)
    second = await shop.ask(MEMBERS, after=first["data"]["members"]["pageInfo"]["endCursor"])
    ids = [e["node"]["id"] for page in (first, second) for e in page["data"]["members"]["edges"]]
    assert ids == sorted(shop.members, reverse=True)  # newest first, none repeated
    ledger = await shop.ask(LEDGER, id=shop.members[0])
    after = ledger["data"]["member"]["ledger"]["pageInfo"]["endCursor"]
    older = await shop.ask(LEDGER, id=shop.members[0], after=after)
    assert [e["node"]["amount"] for e in older["data"]["member"]["ledger"]["edges"]] == [10]

    mine, theirs = await shop.cursors(), await other.cursors()
    ada, bob = shop.members

    assert_not_a_cursor(await shop.ask(LEDGER, id=ada, after=mine["members"]))
    assert_not_a_cursor(await shop.ask(LEDGER, id=ada, after=mine[bob]))  # bob's ledger
    assert_not_a_cursor(await shop.ask(MEMBERS, after=mine[ada]))
    assert_not_a_cursor(await shop.ask(CAMPAIGNS, after=mine["members"]))
    assert_not_a_cursor(await shop.ask(GIFT_CARDS, after=mine["members"]))  # a module's list
    assert_not_a_cursor(await shop.ask(MEMBERS, after=theirs["members"]))  # another tenant's
    assert_not_a_cursor(await shop.ask(LEDGER, id=ada, after=theirs[other.members[0]]))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    cursor=st.text(max_size=40)
    | st.binary(min_size=16, max_size=24).map(lambda raw: base64.urlsafe_b64encode(raw).decode())
    | st.uuids().map(lambda id_: base64.urlsafe_b64encode(id_.bytes).decode().rstrip("="))
)
async def test_stale_or_made_up_cursors_are_refused(shops: tuple[Shop, Shop], cursor: str) -> None:
    shop, _ = shops
    for query, variables in ((MEMBERS, {}), (LEDGER, {"id": shop.members[0]})):
        body = await shop.ask(query, after=cursor, **variables)
        if "\x00" in cursor or any("\ud800" <= c <= "\udfff" for c in cursor):
            continue  # text no field may take: refused on its own (test_api_hostile_strings)
        assert_not_a_cursor(body)
