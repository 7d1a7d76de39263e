"""Clearing through the HTTP API: partners and their keys, attribution from the credential,
rate cards, statements, adjustments, what a partner's key may read, bad input, and a tenant
that has not enabled the module."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, create_test_tenant, enable_for, graphql

from tests.clearing import (
    ADJUST,
    PARTNER_UPDATE,
    RATE_CARD_SET,
    STATEMENT_ONE,
    Coalition,
    clearing_balances,
    statement_count,
    unclaimed,
)

MARCH = datetime(2026, 3, 10, 12, tzinfo=UTC)
APRIL = datetime(2026, 4, 10, 12, tzinfo=UTC)


async def test_a_partners_purchase_and_redemption_are_priced_and_settled(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Coalition.open(make_app, db, tenant)
    bakery = await town.partner("Bakery", issue="0.01", redeem="0.009")
    member = await town.member()

    bought = await town.purchase("Bakery", member, 12_345, MARCH)  # 123 points at 0.01 EUR
    assert bought["errors"] == [], bought
    spent = await town.redeem("Bakery", member, 100)  # reimbursed 100 x 0.009 EUR
    assert spent["errors"] == [], spent

    balances = await clearing_balances(db, tenant.id)
    assert balances["clearing_eur"][f"clearing:partner:{bakery}"] == -123 + 90
    assert sum(balances["clearing_eur"].values()) == 0

    closed = await town.close("2026-03-01")
    assert closed["errors"] == [], closed
    [march] = closed["statements"]
    assert (march["opening"], march["pointsIssued"], march["issuedAmount"]) == (0, 123, -123)
    assert (march["pointsRedeemed"], march["redeemedAmount"]) == (0, 0)  # redeemed in April
    assert march["closing"] == -123
    assert march["direction"] == "PARTNER_OWES"
    assert await unclaimed(db, tenant.id) == 1


async def test_closing_is_idempotent_and_refuses_a_period_not_ended(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Coalition.open(make_app, db, tenant)
    await town.partner("Bakery")
    await town.purchase("Bakery", await town.member(), 1_000, MARCH)
    first = await town.close("2026-03-15")
    again = await town.close("2026-03-31")
    assert (first["replayed"], again["replayed"]) == (False, True)
    assert [s["id"] for s in first["statements"]] == [s["id"] for s in again["statements"]]

    future = await town.close(datetime.now(UTC).date().isoformat())
    assert [e["code"] for e in future["errors"]] == ["PERIOD_NOT_ENDED"]
    earlier = await town.close("2026-02-01")
    assert [e["code"] for e in earlier["errors"]] == ["PERIOD_CLOSED"]
    assert await statement_count(db, tenant.id) == 1


async def test_bad_input_is_coded_and_writes_nothing(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Coalition.open(make_app, db, tenant)
    bakery = await town.partner("Bakery")
    await town.close("2026-03-01")
    before = await clearing_balances(db, tenant.id)

    negative = await town.mutate(
        RATE_CARD_SET, {"partnerId": bakery, "issuePrice": "-0.01", "redeemReimbursement": "0"}
    )
    assert [(e["code"], e["field"]) for e in negative["errors"]] == [
        ("INVALID_INPUT", "issuePrice")
    ]
    currency = await town.mutate(
        RATE_CARD_SET,
        {"partnerId": bakery, "issuePrice": "0.01", "redeemReimbursement": "0", "currency": "EUX"},
    )
    assert [(e["code"], e["field"]) for e in currency["errors"]] == [("INVALID_INPUT", "currency")]
    in_closed = await town.mutate(
        RATE_CARD_SET,
        {
            "partnerId": bakery,
            "issuePrice": "0.01",
            "redeemReimbursement": "0",
            "effectiveFrom": MARCH.isoformat(),
        },
    )
    assert [e["code"] for e in in_closed["errors"]] == ["PERIOD_CLOSED"]
    closed_adjust = await town.mutate(
        ADJUST,
        {
            "partnerId": bakery,
            "amount": 100,
            "reason": "late invoice",
            "idempotencyKey": "adj-1",
            "period": "2026-03-20",
        },
    )
    assert [e["code"] for e in closed_adjust["errors"]] == ["PERIOD_CLOSED"]
    unknown = await town.mutate(
        PARTNER_UPDATE, {"id": "0190b2f4-0000-7000-8000-000000000000", "name": "Ghost"}
    )
    assert [e["code"] for e in unknown["errors"]] == ["NOT_FOUND"]
    assert await clearing_balances(db, tenant.id) == before


async def test_an_adjustment_lands_in_the_open_period_with_its_reason_and_operator(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Coalition.open(make_app, db, tenant)
    bakery = await town.partner("Bakery")
    done = await town.mutate(
        ADJUST,
        {"partnerId": bakery, "amount": -250, "reason": "signage", "idempotencyKey": "adj-1"},
    )
    assert done["errors"] == [], done
    assert (done["movement"]["kind"], done["movement"]["amount"]) == ("ADJUSTMENT", -250)
    assert done["movement"]["actor"] == "admin:admin@example.test"
    replay = await town.mutate(
        ADJUST,
        {"partnerId": bakery, "amount": -250, "reason": "signage", "idempotencyKey": "adj-1"},
    )
    assert replay["movement"]["id"] == done["movement"]["id"]
    assert (await clearing_balances(db, tenant.id))["clearing_eur"][
        f"clearing:partner:{bakery}"
    ] == -250


async def test_a_partner_key_reads_its_own_statements_only(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Coalition.open(make_app, db, tenant)
    bakery = await town.partner("Bakery")
    petrol = await town.partner("Petrol")
    member = await town.member()
    await town.purchase("Bakery", member, 1_000, MARCH)
    await town.purchase("Petrol", member, 5_000, MARCH)
    statements = (await town.close("2026-03-01"))["statements"]
    mine = next(s for s in statements if s["partnerId"] == bakery)
    theirs = next(s for s in statements if s["partnerId"] == petrol)

    async def read(query: str, variables: dict[str, object]) -> dict[str, Any]:
        return await graphql(town.gateway.client, query, variables, api_key=town.keys["Bakery"])

    own = await read(STATEMENT_ONE, {"id": mine["id"]})
    assert own["data"]["settlementStatement"]["closing"] == -10
    other = await read(STATEMENT_ONE, {"id": theirs["id"]})
    assert other == {"data": {"settlementStatement": None}}
    listed = await read(
        "{ settlementStatements { edges { node { partnerId } } } "
        "partners { edges { node { id } } } }",
        {},
    )
    assert listed["data"] == {
        "settlementStatements": {"edges": [{"node": {"partnerId": bakery}}]},
        "partners": {"edges": [{"node": {"id": bakery}}]},
    }

    # another tenant's partner, and its operator, with clearing on: NOT_FOUND (null) too
    elsewhere = Coalition(town.gateway, await create_test_tenant(db), db)
    await enable_for(db, town.gateway.registry, elsewhere.tenant, "clearing", {})
    outsider = await elsewhere.partner("Outsider")
    for credential in (
        {"api_key": elsewhere.keys["Outsider"]},
        {"token": admin_token(elsewhere.tenant.id)},
    ):
        for query, variables in (
            (STATEMENT_ONE, {"id": mine["id"]}),
            ("query($id: ID!) { partner(id: $id) { id } }", {"id": bakery}),
        ):
            body = await graphql(town.gateway.client, query, variables, **credential)
            assert "errors" not in body, body
            assert list(body["data"].values()) == [None]
    mine_again = await read("query($id: ID!) { partner(id: $id) { id } }", {"id": outsider})
    assert mine_again["data"] == {"partner": None}


async def test_a_suspended_partners_events_are_refused(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Coalition.open(make_app, db, tenant)
    bakery = await town.partner("Bakery")
    await town.mutate(PARTNER_UPDATE, {"id": bakery, "status": "SUSPENDED"})
    refused = await town.purchase("Bakery", await town.member(), 1_000, MARCH)
    assert [e["code"] for e in refused["errors"]] == ["PARTNER_NOT_ACTIVE"]
    assert await clearing_balances(db, tenant.id) == {}


async def test_a_period_outside_the_calendar_is_invalid_input(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Coalition.open(make_app, db, tenant)
    bakery = await town.partner("Bakery")
    for day in ("9999-12-31", "0001-01-01"):
        closed = await town.close(day)
        assert [(e["code"], e["field"]) for e in closed["errors"]] == [("INVALID_INPUT", "period")]
        adjusted = await town.mutate(
            ADJUST,
            {
                "partnerId": bakery,
                "amount": 1,
                "reason": "x",
                "idempotencyKey": f"k-{day}",
                "period": day,
            },
        )
        assert [e["code"] for e in adjusted["errors"]] == ["INVALID_INPUT"]
    assert await statement_count(db, tenant.id) == 0


async def test_a_statement_exports_as_csv_json_and_html_and_the_period_sums_up(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Coalition.open(make_app, db, tenant)
    await town.partner("=Bakery", issue="0.0125")
    await town.partner("Petrol")
    member = await town.member()
    bought = await town.purchase("=Bakery", member, 2_300, MARCH)  # 0.2875 -> 0.29
    assert bought["errors"] == [], bought
    await town.purchase("Petrol", member, 5_000, MARCH)
    statements = (await town.close("2026-03-01"))["statements"]
    one = await town.admin(STATEMENT_ONE, {"id": statements[0]["id"]})
    found = one["data"]["settlementStatement"]
    rows = found["csv"].splitlines()
    assert rows[0].startswith("date,kind,points")
    assert [row.split(",")[1] for row in rows[1:]] == ["opening", "issued", "closing"]
    assert found["json"]["lines"][0]["amount"] in ("-0.29", "-0.50")
    assert found["json"]["closing"] == found["json"]["lines"][0]["amount"]
    assert "<table>" in found["html"]
    assert "owes the operator" in found["html"]

    summary = await town.admin(
        "query($p: Date!) { settlementSummary(period: $p) { periodStartsOn csv "
        "statements { closing } } }",
        {"p": "2026-03-15"},
    )
    got = summary["data"]["settlementSummary"]
    assert got["periodStartsOn"] == "2026-03-01"
    lines = got["csv"].splitlines()
    assert len(lines) == 3
    assert any(line.startswith("'=Bakery,EUR") for line in lines)  # no formula
    assert sorted(s["closing"] for s in got["statements"]) == [-50, -29]


async def test_a_tenant_without_clearing_sees_none_of_it(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await make_app()
    body = await graphql(
        gateway.client,
        "{ partners { edges { node { id } } } }",
        token=admin_token(tenant.id),
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]


async def test_among_cards_from_the_same_moment_the_latest_version_prices(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Coalition.open(make_app, db, tenant)
    bakery = await town.partner("Bakery", issue="0.01")
    first = await town.rate(bakery, "0.02", "0", effective_from=MARCH)
    second = await town.rate(bakery, "0.03", "0", effective_from=MARCH)
    assert (first["rateCard"]["version"], second["rateCard"]["version"]) == (2, 3)
    await town.purchase("Bakery", await town.member(), 10_000, MARCH)
    [march] = (await town.close("2026-03-01"))["statements"]
    assert march["issuedAmount"] == -300
