"""Settlement periods in the tenant's time zone: months from the 1st and weeks from Monday at
local midnight, half-open, across daylight saving changes; a partner's account read page by
page; a prepaid partner issuing beyond its blocks down to its credit limit."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from loyalty_clearing.periods import period_containing, period_of
from loyalty_clearing.settings import PeriodLength
from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp

from tests.clearing import BLOCK_PURCHASE, Coalition

BERLIN = ZoneInfo("Europe/Berlin")


def test_a_month_runs_from_local_midnight_to_local_midnight_across_summer_time() -> None:
    march = period_containing(date(2026, 3, 29), BERLIN, PeriodLength.MONTHLY)
    assert (march.starts_on, march.ends_on) == (date(2026, 3, 1), date(2026, 4, 1))
    assert march.starts_at == datetime(2026, 2, 28, 23, tzinfo=UTC)  # CET
    assert march.ends_at == datetime(2026, 3, 31, 22, tzinfo=UTC)  # CEST
    # the last moment of March in Berlin is in March; midnight is April's
    assert (
        period_of(datetime(2026, 3, 31, 21, 59, 59, tzinfo=UTC), BERLIN, PeriodLength.MONTHLY)
        == march
    )
    assert period_of(march.ends_at, BERLIN, PeriodLength.MONTHLY).starts_on == date(2026, 4, 1)


def test_a_week_starts_on_monday_and_december_ends_in_january() -> None:
    week = period_containing(date(2026, 10, 28), BERLIN, PeriodLength.WEEKLY)  # a Wednesday
    assert (week.starts_on, week.ends_on) == (date(2026, 10, 26), date(2026, 11, 2))
    assert week.starts_at == datetime(2026, 10, 25, 23, tzinfo=UTC)  # after summer time
    december = period_containing(date(2026, 12, 31), BERLIN, PeriodLength.MONTHLY)
    assert december.ends_on == date(2027, 1, 1)


async def test_a_partners_account_reads_page_by_page(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Coalition.open(make_app, db, tenant)
    bakery = await town.partner("Bakery")
    member = await town.member()
    for day in range(1, 6):
        await town.purchase("Bakery", member, 1_000 * day, datetime(2026, 3, day, tzinfo=UTC))
    query = """query($id: ID!, $after: String) { partner(id: $id) {
      movements(first: 2, after: $after) {
        edges { node { points } } pageInfo { hasNextPage endCursor } } } }"""
    seen: list[int] = []
    after = None
    while True:
        body = await town.admin(query, {"id": bakery, "after": after})
        page = body["data"]["partner"]["movements"]
        seen += [edge["node"]["points"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [10, 20, 30, 40, 50]


async def test_a_prepaid_partner_issues_beyond_its_blocks_down_to_its_credit_limit(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Coalition.open(make_app, db, tenant)
    shop = await town.partner(
        "Bikes", ("ISSUER",), issue="0.01", billing="PREPAID", creditLimit=150
    )
    bought = await town.mutate(
        BLOCK_PURCHASE, {"partnerId": shop, "points": 20, "price": 0, "idempotencyKey": "b"}
    )
    assert bought["errors"] == []
    member = await town.member()
    at = datetime(2026, 3, 5, tzinfo=UTC)
    first = await town.purchase("Bikes", member, 10_000, at)  # 100: 20 from the block, 80 owed
    assert first["errors"] == [], first
    second = await town.purchase("Bikes", member, 10_000, at)  # 100 more owed: beyond 150
    assert [e["code"] for e in second["errors"]] == ["POINT_BLOCKS_EXHAUSTED"]
    third = await town.purchase("Bikes", member, 7_000, at)  # 70: 150 owed, at the limit
    assert third["errors"] == [], third
    body = await town.admin("query($id: ID!) { partner(id: $id) { position } }", {"id": shop})
    assert body["data"]["partner"]["position"] == -150
