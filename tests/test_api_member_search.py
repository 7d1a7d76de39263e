"""``members(search:)`` finds a member by any identifier's beginning, as a person types it,
or by a part of the name: what a console's member search needs."""

from __future__ import annotations

import pytest
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, graphql

from tests.api import MEMBER_CREATE

SEARCH = "query($q: String!) { members(search: $q) { edges { node { lastName } } } }"


@pytest.mark.parametrize(
    "typed",
    ["CB-10", "cb-1001", " CB-1001 ", "mia.schneider@EXAMPLE", "+49151", "Schnei", "schneider"],
)
async def test_a_member_is_found_by_what_a_person_types(
    make_app: MakeApp, tenant: Tenant, typed: str
) -> None:
    gateway = await make_app()
    token = admin_token(tenant.id)
    identifiers = [
        {"kind": "CARD_NUMBER", "value": "CB-1001"},
        {"kind": "EMAIL", "value": "Mia.Schneider@example.com"},
        {"kind": "PHONE", "value": "+4915112345678"},
    ]
    other = [{"kind": "EMAIL", "value": "lukas@example.org"}]
    for last_name, found in (("Schneider", identifiers), ("Weber", other)):
        member = {"identifiers": found, "profile": {"firstName": "Mia", "lastName": last_name}}
        created = await graphql(gateway.client, MEMBER_CREATE, {"input": member}, token=token)
        assert created["data"]["memberCreate"]["errors"] == []

    body = await graphql(gateway.client, SEARCH, {"q": typed}, token=token)
    assert body["data"]["members"]["edges"] == [{"node": {"lastName": "Schneider"}}]
