"""The demo's coalition: partners whose own keys made last month's movements (purchases
and a redemption at the petrol station), a prepaid block, and last month closed, so the
statements are there at once; Mia's points are the programme's own."""

from __future__ import annotations

from typing import Any

from loyalty_gateway.demo import DemoCredentials
from loyalty_testing import MakeApp, admin_token, graphql

STATEMENTS = """{ settlementStatements(first: 20) { edges { node {
  partnerId pointsIssued pointsRedeemed redeemedAmount blocksAmount closing
  lines { kind points actor } } } }
  partners(first: 20) { edges { node { id name } } } }"""


async def test_the_demo_shows_statements_of_movements_its_partners_keys_made(
    make_app: MakeApp, demo_tenant: DemoCredentials
) -> None:
    gateway = await make_app()
    credentials = demo_tenant
    body = await graphql(gateway.client, STATEMENTS, token=admin_token(credentials.tenant_id))
    assert "errors" not in body, body
    names = {p["node"]["id"]: p["node"]["name"] for p in body["data"]["partners"]["edges"]}
    statements: dict[str, dict[str, Any]] = {
        names[e["node"]["partnerId"]]: e["node"]
        for e in body["data"]["settlementStatements"]["edges"]
    }
    assert set(statements) == {
        "Kiezbäckerei Schmidt",
        "Tankstelle am Südstern",
        "Spree-Kino",
        "Fahrradladen Kreuzberg",
    }
    bakery = statements["Kiezbäckerei Schmidt"]
    assert bakery["pointsIssued"] > 0
    assert statements["Spree-Kino"]["pointsRedeemed"] == 20
    petrol = statements["Tankstelle am Südstern"]
    assert (petrol["pointsRedeemed"], petrol["redeemedAmount"]) == (150, 135)
    bikes = statements["Fahrradladen Kreuzberg"]
    assert (bikes["pointsIssued"], bikes["blocksAmount"]) == (349, -9_500)  # from its block
    till_lines = [
        line
        for s in statements.values()
        for line in s["lines"]
        if line["kind"] in ("ISSUED", "REDEEMED")
    ]
    assert len(till_lines) == 5  # two purchases, one from the block, two redemptions
    assert all(line["actor"].startswith("touchpoint:") for line in till_lines)
