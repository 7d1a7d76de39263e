"""A retailer's console: `programmeOverview` counts members and activity and sums the points
ledger of a period, with series per interval for charts, for one tenant only."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from loyalty_core.db.engine import Database
from loyalty_core.ids import new_id
from loyalty_core.ledger.jobs import expire_points
from loyalty_core.modules.contributions import NoSettings
from loyalty_core.reports.overview import Interval, first_id_at, interval_count, period_starts
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, graphql, member_token
from loyalty_testing.database import create_test_tenant

from tests.api import enrol, pos_key
from tests.jobs import job_context

OVERVIEW = """
query($from: Date, $to: Date, $interval: OverviewInterval! = DAY) {
  programmeOverview(from: $from, to: $to, interval: $interval) {
    from to interval members membersByStatus { status count } activeMembers activeDays
    membersJoined { start count }
    assets {
      asset { code } outstanding
      totals { issued redeemed expired }
      series { start issued redeemed expired }
    }
  }
}
"""
INGEST = """
mutation($i: EventIngestInput!) { eventIngest(input: $i) { errors { code field } } }
"""


async def _purchase(client: Any, key: str, member: str, cents: int) -> None:
    body = await graphql(
        client,
        INGEST,
        {
            "i": {
                "type": "purchase",
                "source": "till-1",
                "externalId": uuid.uuid4().hex,
                "memberId": member,
                "payload": {"amount": cents, "currency": "EUR"},
            }
        },
        api_key=key,
    )
    assert body["data"]["eventIngest"]["errors"] == [], body


async def _overview(client: Any, tenant: Tenant, **variables: Any) -> dict[str, Any]:
    body = await graphql(client, OVERVIEW, variables, token=admin_token(tenant.id))
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["programmeOverview"]
    return found


async def test_the_overview_counts_one_tenant_s_programme(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await make_app()
    client, admin = gateway.client, admin_token(tenant.id)
    key = await pos_key(client, tenant.id)
    mia = await enrol(client, tenant.id, "mia@example.com")
    lukas = await enrol(client, tenant.id, "lukas@example.com")
    emma = await enrol(client, tenant.id, "emma@example.com")
    blocked = await graphql(
        client,
        "mutation($id: ID!) { memberUpdate(input: {id: $id, status: BLOCKED}) "
        "{ errors { code } } }",
        {"id": emma},
        token=admin,
    )
    assert blocked["data"]["memberUpdate"]["errors"] == []
    await _purchase(client, key, mia, 2_500)  # 25 points, never expire
    redeemed = await graphql(
        client,
        'mutation($id: ID!) { pointsRedeem(input: {memberId: $id, amount: 5, idempotencyKey: "r1"})'
        " { errors { code } } }",
        {"id": mia},
        token=admin,
    )
    assert redeemed["data"]["pointsRedeem"]["errors"] == []
    # an operator's adjustment is neither issued nor redeemed
    adjusted = await graphql(
        client,
        'mutation($id: ID!) { pointsAdjust(input: {memberId: $id, amount: 7, reason: "goodwill",'
        ' idempotencyKey: "a1"}) { errors { code } } }',
        {"id": mia},
        token=admin,
    )
    assert adjusted["data"]["pointsAdjust"]["errors"] == []
    days = await graphql(
        client,
        'mutation { assetUpdate(input: {code: "points", expiryDays: 1}) { errors { code } } }',
        token=admin,
    )
    assert days["data"]["assetUpdate"]["errors"] == []
    await _purchase(client, key, lukas, 1_000)  # 10 points, expire tomorrow
    later = datetime.now(UTC) + timedelta(days=2)
    assert await expire_points(job_context(db, tenant, NoSettings(), now=later)) == 1

    # another tenant's programme, which must not show
    other = await create_test_tenant(db)
    other_key = await pos_key(client, other.id)
    stranger = await enrol(client, other.id, "mia@example.com")
    await _purchase(client, other_key, stranger, 99_900)

    today = datetime.now(UTC).date()  # the test tenants' time zone is UTC
    found = await _overview(client, tenant)
    assert (found["from"], found["to"], found["interval"]) == (
        (today - timedelta(days=29)).isoformat(),
        today.isoformat(),
        "DAY",
    )
    assert found["members"] == 3
    assert found["membersByStatus"] == [
        {"status": "ACTIVE", "count": 2},
        {"status": "BLOCKED", "count": 1},
        {"status": "ERASED", "count": 0},
    ]
    # Emma was enrolled and blocked, but never bought or spent anything
    assert (found["activeMembers"], found["activeDays"]) == (2, 90)
    joined = found["membersJoined"]
    assert len(joined) == 30
    assert joined[-1] == {"start": today.isoformat(), "count": 3}
    assert sum(period["count"] for period in joined) == 3
    [points] = found["assets"]
    assert points["asset"] == {"code": "points"}
    assert points["totals"] == {"issued": 35, "redeemed": 5, "expired": 10}
    assert points["outstanding"] == 25 - 5 + 7 + 10 - 10
    assert len(points["series"]) == 30
    assert points["series"][-1] == {
        "start": today.isoformat(),
        "issued": 35,
        "redeemed": 5,
        "expired": 10,
    }
    assert all(p["issued"] == p["redeemed"] == p["expired"] == 0 for p in points["series"][:-1])

    # the other tenant sees its own numbers only
    theirs = await _overview(client, other)
    assert theirs["members"] == 1
    assert theirs["activeMembers"] == 1
    assert theirs["assets"][0]["totals"] == {"issued": 999, "redeemed": 0, "expired": 0}
    assert theirs["assets"][0]["outstanding"] == 999

    # months: the series starts on the first of the month the period starts in
    monthly = await _overview(
        client, tenant, **{"from": (today - timedelta(days=40)).isoformat(), "interval": "MONTH"}
    )
    starts = [period["start"] for period in monthly["assets"][0]["series"]]
    assert starts[0] == (today - timedelta(days=40)).replace(day=1).isoformat()
    assert starts[-1] == today.replace(day=1).isoformat()
    assert monthly["assets"][0]["totals"] == points["totals"]
    # weeks start on Monday
    weekly = await _overview(client, tenant, interval="WEEK")
    assert all(date.fromisoformat(p["start"]).weekday() == 0 for p in weekly["membersJoined"])
    assert sum(p["count"] for p in weekly["membersJoined"]) == 3
    # a period before anything happened: no movements, the members and liability of now
    past = await _overview(client, tenant, **{"from": "2025-01-01", "to": "2025-01-31"})
    assert past["assets"][0]["totals"] == {"issued": 0, "redeemed": 0, "expired": 0}
    assert past["members"] == 3
    assert past["assets"][0]["outstanding"] == 27
    assert sum(period["count"] for period in past["membersJoined"]) == 0


async def test_the_overview_is_for_tenant_admins_and_bounded(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    client = gateway.client
    member = await enrol(client, tenant.id, "mia@example.com")
    key = await pos_key(client, tenant.id)
    for credentials in ({"token": member_token(tenant.id, uuid.UUID(member))}, {"api_key": key}):
        body = await graphql(client, OVERVIEW, {}, **credentials)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    for variables in (
        {"from": "2026-02-01", "to": "2026-01-01"},
        {"from": "2024-01-01", "to": "2026-01-01"},  # 731 days
        {"from": "1990-01-01", "to": "2026-01-01", "interval": "MONTH"},
        {"from": "0001-01-01", "to": "0001-01-05"},  # before the first id
        {"from": "9999-12-25", "to": "9999-12-31"},  # midnight after the last day overflows
        {"from": "0001-01-01", "interval": "DAY"},  # counted, not listed
    ):
        body = await graphql(client, OVERVIEW, variables, token=admin_token(tenant.id))
        assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT", body
    # two years by week fits
    weekly = await _overview(client, tenant, **{"from": "2024-01-01", "interval": "WEEK"})
    assert weekly["members"] == 1


@pytest.mark.parametrize("interval", list(Interval))
@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 1, 1), date(2026, 1, 1)),
        (date(2025, 12, 31), date(2026, 3, 2)),
        (date(2024, 2, 29), date(2026, 12, 6)),
        (date(1970, 1, 1), date(1970, 12, 31)),
    ],
)
def test_intervals_are_counted_as_many_as_are_listed(
    start: date, end: date, interval: Interval
) -> None:
    assert interval_count(start, end, interval) == len(period_starts(start, end, interval))


def test_a_moment_s_first_id_bounds_the_ids_made_from_then_on() -> None:
    moment = datetime.now(UTC)
    made = new_id()
    assert first_id_at(moment - timedelta(milliseconds=1)) <= made
    assert made < first_id_at(moment + timedelta(seconds=1))
