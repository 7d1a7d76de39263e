"""The README's five-minute tour, run against the real app: its examples must stay true.

Every fenced ``graphql`` block of the README is sent in order, with the credential its first
line names (``# Auth: admin token`` or ``# Auth: POS API key``), and must answer without
GraphQL errors and without payload errors. ``MEMBER_ID`` stands for the id the first block
(``memberCreate``) returned, as the README tells its reader. Every balance an example shows
names its asset: a member of the demo programme has points and gift card balances, and a
bare list of numbers does not say which is which.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from loyalty_core.apikeys.service import create_api_key
from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_gateway.demo import demo_modules
from loyalty_testing import MakeApp, RunningGateway, admin_token, enable_for

README = Path(__file__).resolve().parent.parent / "README.md"
GRAPHQL_BLOCK = re.compile(r"^```graphql\n(.*?)^```", re.MULTILINE | re.DOTALL)
AUTH_LINE = re.compile(r"\A# Auth: (?P<credential>.+)$", re.MULTILINE)
MEMBER_ID = "MEMBER_ID"
POS_SCOPES = ["events:write", "members:read", "points:redeem"]


def tour() -> list[str]:
    """The README's GraphQL examples, in reading order."""
    return GRAPHQL_BLOCK.findall(README.read_text(encoding="utf-8"))


def credential_of(block: str) -> str:
    found = AUTH_LINE.search(block)
    assert found is not None, f"a README example does not say its credential:\n{block}"
    return found["credential"].strip()


def unlabelled_balances(value: object) -> list[object]:
    """Every entry of every ``balances`` list inside a response's ``data`` that does not say
    which asset it counts (its code and name)."""
    if isinstance(value, dict):
        found: list[object] = []
        for key, item in value.items():
            if key == "balances" and isinstance(item, list):
                found += [b for b in item if not {"code", "name"} <= set(b.get("asset") or {})]
            else:
                found += unlabelled_balances(item)
        return found
    if isinstance(value, list):
        return [balance for item in value for balance in unlabelled_balances(item)]
    return []


def payload_errors(value: object) -> list[object]:
    """Every entry of every ``errors`` list inside a response's ``data``."""
    if isinstance(value, dict):
        found: list[object] = []
        for key, item in value.items():
            if key == "errors" and isinstance(item, list):
                found += item
            else:
                found += payload_errors(item)
        return found
    if isinstance(value, list):
        return [error for item in value for error in payload_errors(item)]
    return []


def test_the_tour_covers_the_promised_steps() -> None:
    text = "\n".join(tour())
    for operation in ("memberCreate", "eventIngest", "balances", "ledger", "pointsRedeem"):
        assert operation in text
    assert '"refund"' in text
    assert {credential_of(block) for block in tour()} == {"admin token", "POS API key"}


async def test_the_tour_runs_against_the_real_app(
    make_app: MakeApp, tenant: Tenant, db: Database
) -> None:
    gateway = await make_app()
    # The reader runs the tour on the demo programme: the same modules, gift cards included.
    for module in demo_modules(gateway.registry):
        settings = dict(module.demo.settings) if module.demo else {}
        await enable_for(db, gateway.registry, tenant, module.info.name, settings)
    headers = {
        "admin token": {"Authorization": f"Bearer {admin_token(tenant.id)}"},
        "POS API key": {"X-Api-Key": await _pos_key(db, tenant)},
    }
    member_id: str | None = None
    for block in tour():
        document = block if member_id is None else block.replace(MEMBER_ID, member_id)
        assert MEMBER_ID not in document, "MEMBER_ID is used before memberCreate ran"
        data = await _run(gateway, document, headers[credential_of(block)])
        if member_id is None:
            member_id = data["memberCreate"]["member"]["id"]

    history = next(block for block in tour() if "ledger(" in block)
    assert member_id is not None
    data = await _run(gateway, history.replace(MEMBER_ID, member_id), headers["admin token"])
    member = data["member"]
    # 42.50 EUR earns 42 points; 20 are redeemed; the half refund reverses 21 of the 42.
    points = [b for b in member["balances"] if b["asset"]["code"] == "points"]
    assert [b["available"] for b in points] == [1]
    kinds = {edge["node"]["kind"] for edge in member["ledger"]["edges"]}
    assert kinds == {"EARN", "SPEND", "REVERSAL"}


async def _run(gateway: RunningGateway, document: str, headers: dict[str, str]) -> Any:
    response = await gateway.client.post("/graphql", json={"query": document}, headers=headers)
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body
    assert payload_errors(body["data"]) == [], body
    assert unlabelled_balances(body["data"]) == [], f"say which asset:\n{document}"
    return body["data"]


async def _pos_key(db: Database, tenant: Tenant) -> str:
    async with db.tenant_transaction(tenant.id) as conn:
        issued = await create_api_key(
            conn, tenant.id, name="README tour POS", scopes=POS_SCOPES, actor="test"
        )
    return issued.secret
