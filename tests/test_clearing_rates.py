"""Pricing: which rate card a movement meets (a change exactly at a period boundary, exactly
at a movement's time), the rounding rule and where its residue goes, fees, refunds at the
rate the points were issued at, roles, missing cards, and partner-funded awards through the
hook clearing defines."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.modules.manager import build_registry
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, enable_for

from tests.clearing import Coalition, clearing_balances
from tests.modules import funded_bonus

APRIL_FIRST = datetime(2026, 4, 1, tzinfo=UTC)


def _lines(statements: list[dict[str, Any]], partner: str) -> list[tuple[str, str, int]]:
    """(kind, rate, amount) of each line of the partner's statements, by period."""
    return [
        (line["kind"], line["rate"], line["amount"])
        for s in sorted(statements, key=lambda s: s["periodStartsOn"])
        if s["partnerId"] == partner
        for line in s["lines"]
    ]


async def test_a_rate_change_at_a_period_boundary_prices_the_new_period_only(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Coalition.open(make_app, db, tenant)
    bakery = await town.partner("Bakery", issue="0.01")
    await town.rate(bakery, "0.02", "0.009", effective_from=APRIL_FIRST)
    member = await town.member()
    await town.purchase("Bakery", member, 10_000, APRIL_FIRST - timedelta(microseconds=1))
    await town.purchase("Bakery", member, 10_000, APRIL_FIRST)
    await town.close("2026-03-01")
    await town.close("2026-04-01")
    statements = await town.statements()
    march, april = sorted(statements, key=lambda s: s["periodStartsOn"])
    # the period and the card are both half-open: the boundary belongs to the new ones
    assert (march["periodStartsOn"], march["issuedAmount"]) == ("2026-03-01", -100)
    assert (april["periodStartsOn"], april["issuedAmount"]) == ("2026-04-01", -200)
    assert april["opening"] == march["closing"] == -100


async def test_a_rate_change_at_a_movements_time_applies_to_it(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Coalition.open(make_app, db, tenant)
    bakery = await town.partner("Bakery", issue="0.01")
    moment = datetime(2026, 3, 15, 12, 30, tzinfo=UTC)
    await town.rate(bakery, "0.03", "0.009", effective_from=moment)
    member = await town.member()
    await town.purchase("Bakery", member, 10_000, moment - timedelta(microseconds=1))
    await town.purchase("Bakery", member, 10_000, moment)
    await town.close("2026-03-01")
    assert _lines(await town.statements(), bakery) == [
        ("ISSUED", "0.01000000", -100),
        ("ISSUED", "0.03000000", -300),
    ]


async def test_lines_round_half_to_even_and_the_residue_goes_to_the_rounding_account(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Coalition.open(make_app, db, tenant)
    kiosk = await town.partner("Kiosk", issue="0.005")  # half a cent per point
    member = await town.member()
    for amount in (100, 300, 100, 100):  # 1, 3, 1, 1 points: 0.5 -> 0, 1.5 -> 2, 0, 0 cents
        await town.purchase("Kiosk", member, amount, datetime(2026, 3, 2, tzinfo=UTC))
    closed = await town.close("2026-03-01")
    [march] = closed["statements"]
    # exactly 3 cents were due; 2 were posted with the lines, 1 comes from the rounding account
    assert (march["issuedAmount"], march["roundingAmount"], march["closing"]) == (-2, -1, -3)
    assert Decimal(march["residue"]) == 0
    balances = (await clearing_balances(db, tenant.id))["clearing_eur"]
    assert balances["clearing:rounding"] == 1
    assert balances[f"clearing:partner:{kiosk}"] == -3
    assert sum(balances.values()) == 0


async def test_fees_and_a_refund_at_the_rate_the_points_were_issued_at(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Coalition.open(make_app, db, tenant)
    petrol = await town.partner("Petrol", issue="0.01")
    await town.rate(
        petrol,
        "0.01",
        "0.009",
        effective_from=datetime(2026, 3, 1, tzinfo=UTC),
        feePercent="10",
        feeFixed=500,
    )
    await town.rate(petrol, "0.05", "0.009", effective_from=datetime(2026, 3, 20, tzinfo=UTC))
    member = await town.member()
    await town.purchase(
        "Petrol", member, 20_000, datetime(2026, 3, 10, tzinfo=UTC), external_id="p1"
    )
    refunded = await town.refund("Petrol", member, "p1", 10_000, datetime(2026, 3, 25, tzinfo=UTC))
    assert refunded["errors"] == [], refunded
    closed = await town.close("2026-03-01")
    [march] = closed["statements"]
    assert (march["pointsIssued"], march["issuedAmount"]) == (200, -200)
    assert (march["pointsReversed"], march["reversalsAmount"]) == (-100, 100)  # at 0.01, not 0.05
    # 10% of 200 on the issue, half of it reversed with half the points; the card in effect
    # at the period's end has no fixed fee
    assert march["feesAmount"] == -10
    assert march["closing"] == -110


async def test_roles_and_missing_rate_cards_refuse_the_movement(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Coalition.open(make_app, db, tenant)
    await town.partner("Cinema", ("ACCEPTOR",))
    await town.partner("Late", effective_from=datetime(2027, 1, 1, tzinfo=UTC))
    member = await town.member(points=500)
    issuing = await town.purchase("Cinema", member, 1_000, datetime(2026, 3, 1, tzinfo=UTC))
    assert [e["code"] for e in issuing["errors"]] == ["PARTNER_ROLE_MISSING"]
    unpriced = await town.purchase("Late", member, 1_000, datetime(2026, 3, 1, tzinfo=UTC))
    assert [e["code"] for e in unpriced["errors"]] == ["RATE_CARD_MISSING"]
    redeemed = await town.redeem("Cinema", member, 100)
    assert redeemed["errors"] == []
    assert await clearing_balances(db, tenant.id) != {}


async def test_another_module_has_a_partner_fund_its_awards_and_their_refunds_through_the_hook(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await make_app(build_registry(plugins=[funded_bonus]))
    town = Coalition(gateway, tenant, db)
    await enable_for(db, gateway.registry, tenant, "clearing", {"period": "monthly"})
    fuel = await town.partner("Petrol", issue="0.02")
    funded_bonus.SETTINGS[tenant.id] = funded_bonus.OfferSettings(
        partner_id=uuid.UUID(fuel), points=50
    )
    await enable_for(
        db, gateway.registry, tenant, funded_bonus.NAME, {"partner_id": fuel, "points": 50}
    )
    member = await town.member()
    # through the partner's key: its base points are issued, the offer's funded
    bought = await town.event(
        "Petrol",
        {
            "type": "purchase",
            "source": "operator-till",
            "externalId": "o-1",
            "memberId": member,
            "occurredAt": datetime(2026, 3, 3, tzinfo=UTC).isoformat(),
            "payload": {"amount": 2_000, "currency": "EUR"},
        },
    )
    assert bought["errors"] == [], bought
    # half of it refunded: the core takes back 10 base and 25 offer points; the partner is
    # credited each at the rate it paid, the offer's through the source, never twice
    refunded = await town.event(
        "Petrol",
        {
            "type": "refund",
            "source": "operator-till",
            "externalId": "o-1-refund",
            "memberId": member,
            "occurredAt": datetime(2026, 3, 4, tzinfo=UTC).isoformat(),
            "payload": {"amount": 1_000, "currency": "EUR", "purchaseExternalId": "o-1"},
        },
    )
    assert refunded["errors"] == [], refunded
    closed = await town.close("2026-03-01")
    [march] = closed["statements"]
    # 20 base points and 50 offer points, all through the partner's key: 70 x 0.02
    assert (march["pointsIssued"], march["issuedAmount"]) == (70, -140)
    assert (march["pointsReversed"], march["reversalsAmount"]) == (-35, 70)
    lines = sorted(
        (line["kind"], line["points"]) for line in _lines_of(await town.statements(), fuel)
    )
    assert lines == [("FUNDED", 50), ("ISSUED", 20), ("REVERSAL", -25), ("REVERSAL", -10)]


def _lines_of(statements: list[dict[str, Any]], partner: str) -> list[dict[str, Any]]:
    return [line for s in statements if s["partnerId"] == partner for line in s["lines"]]
