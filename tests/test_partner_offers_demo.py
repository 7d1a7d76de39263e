"""The demo's partner-funded offers: the coalition's bakery funds two offers in the shop's
café, members activated and earned them, and the bakery was charged for them: its account
shows the funded lines, and ``offerPerformance`` (the operator's, and the bakery's own with
its key) the points and the money it owes, which match."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from loyalty_gateway.demo import DemoCredentials
from loyalty_testing import MakeApp, admin_token, graphql

QUERY = """query($since: Date!, $until: Date!) {
  offers(first: 50) { edges { node { id title partnerId } } }
  partners(first: 20) { edges { node { id name
    movements(first: 100) { edges { node { kind points amount } } } } } }
  offerPerformance(since: $since, until: $until) {
    rows { offerId activations redemptions pointsAwarded moneyOwed currency } } }"""


async def test_the_demo_shows_offers_a_partner_funds_with_the_money_it_owes(
    make_app: MakeApp, demo_tenant: DemoCredentials
) -> None:
    gateway = await make_app()
    credentials = demo_tenant
    # the report's window: the days around the seed, in any time zone
    today = datetime.now(UTC).date()
    window = {"since": str(today - timedelta(days=2)), "until": str(today + timedelta(days=2))}
    body = await graphql(gateway.client, QUERY, window, token=admin_token(credentials.tenant_id))
    assert "errors" not in body, body
    data = body["data"]
    bakery = next(
        p["node"] for p in data["partners"]["edges"] if p["node"]["name"] == "Kiezbäckerei Schmidt"
    )
    funded = {
        o["node"]["id"]: o["node"]["title"]
        for o in data["offers"]["edges"]
        if o["node"]["partnerId"] == bakery["id"]
    }
    assert sorted(funded.values()) == [
        "Kiezbäckerei breakfast: 100 extra points",
        "Kiezbäckerei cakes: 2 points per euro",
    ]
    rows = {
        funded[r["offerId"]]: r for r in data["offerPerformance"]["rows"] if r["offerId"] in funded
    }
    breakfast = rows["Kiezbäckerei breakfast: 100 extra points"]
    assert (breakfast["activations"], breakfast["redemptions"]) == (2, 1)  # Mia and Lukas
    assert breakfast["pointsAwarded"] == 100
    cakes = rows["Kiezbäckerei cakes: 2 points per euro"]
    assert (cakes["redemptions"], cakes["pointsAwarded"]) == (1, 16)  # 8.40 EUR of cake
    account = [m["node"] for m in bakery["movements"]["edges"]]
    funded_lines = [m for m in account if m["kind"] == "FUNDED"]
    assert sorted(m["points"] for m in funded_lines) == [16, 100]
    # at 1 cent a point; the 0.5 % fee on 1.00 and 0.16 EUR rounds to nothing
    owed = sum(r["moneyOwed"] for r in rows.values())
    assert owed == -sum(m["amount"] for m in funded_lines) == 116
    assert all(r["currency"] == "EUR" for r in rows.values() if r["redemptions"])
