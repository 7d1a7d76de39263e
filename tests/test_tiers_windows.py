"""Qualification windows and what their end does: rolling, calendar and anniversary windows
across year ends and daylight-saving changes in the tenant's time zone; the downgrade at a
window's end under each policy; a refund that takes a member under the threshold, with and
without the ladder's setting."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp
from loyalty_tiers.ladder import Ladder

from tests.tiers import TierShop, at

BERLIN = "Europe/Berlin"


def ladder(**changes: Any) -> dict[str, Any]:
    return {
        "levels": [
            {"name": "silver", "threshold": 5_000},
            {"name": "gold", "threshold": 15_000},
            {"name": "platinum", "threshold": 30_000},
        ],
        "metric": "SPEND",
        "window": "CALENDAR_YEAR",
        **changes,
    }


@pytest.mark.parametrize(
    ("window", "months", "anchor", "today", "end"),
    [
        ("calendar_year", 12, 1, date(2026, 12, 31), date(2027, 1, 1)),
        ("calendar_year", 12, 7, date(2027, 1, 1), date(2028, 1, 1)),
        ("rolling", 3, 1, date(2026, 12, 15), date(2027, 1, 1)),
        ("rolling", 3, 1, date(2027, 1, 1), date(2027, 2, 1)),
        ("anniversary_year", 12, 3, date(2026, 12, 15), date(2027, 3, 1)),
        ("anniversary_year", 12, 3, date(2027, 3, 1), date(2028, 3, 1)),
        ("anniversary_year", 12, 12, date(2026, 11, 30), date(2026, 12, 1)),
    ],
)
def test_window_ends_by_kind_across_year_ends(
    window: str, months: int, anchor: int, today: date, end: date
) -> None:
    rules = Ladder.model_validate(
        {"levels": [{"name": "a", "threshold": 0}], "window": window, "months": months}
    )
    assert rules.window_end(today, anchor) == end
    assert rules.window_start(end) < end


async def test_events_count_in_the_tenants_local_month_across_year_end_and_dst(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await TierShop.start(make_app, db, tenant, timezone=BERLIN)
    await shop.set_ladder(ladder(window="ROLLING", months=1))
    member = await shop.member()
    # 23:30 UTC on New Year's Eve is 00:30 on 1 January in Berlin (CET, +1).
    await shop.event(member, 6_000, at="2025-12-31T23:30:00Z")
    # 22:30 UTC on 31 March is 00:30 on 1 April (CEST, +2 after the spring change).
    await shop.event(member, 7_000, at="2026-03-31T22:30:00Z")
    # 23:30 UTC on 31 October is 00:30 on 1 November (CET again after the autumn change).
    await shop.event(member, 8_000, at="2025-10-31T23:30:00Z")
    # ... and 21:30 UTC on 31 October is still October (22:30 local).
    await shop.event(member, 1_000, at="2025-10-31T21:30:00Z")

    assert await _months(db, tenant) == {
        date(2026, 1, 1): 6_000,
        date(2026, 4, 1): 7_000,
        date(2025, 10, 1): 1_000,
        date(2025, 11, 1): 8_000,
    }


async def test_calendar_window_ends_at_local_new_year(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await TierShop.start(make_app, db, tenant, ladder(), timezone=BERLIN)
    member = await shop.member()
    await shop.event(member, 16_000, at="2025-12-31T23:30:00Z")  # 2026 in Berlin
    assert await shop.level(member) == "gold"
    # At 22:30 UTC on 31 December 2026 it is still 2026 in Berlin: the window is open. An
    # hour later it is 2027 there, the window has ended, and 2026's spend holds gold.
    assert await shop.run_job(at("2026-12-31T22:30")) == 0
    assert await shop.run_job(at("2026-12-31T23:30")) == 1
    assert await shop.level(member) == "gold"


async def test_anniversary_years_start_in_the_enrolment_month(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await TierShop.start(make_app, db, tenant, ladder(window="ANNIVERSARY_YEAR"))
    member = await shop.member()  # enrolled now: the anniversary month is this month
    progress = await shop.progress(member)
    start = date.fromisoformat(progress["windowStart"])
    end = date.fromisoformat(progress["windowEnd"])
    today = date.today()
    assert start.day == 1
    assert start <= today <= end
    assert (end.year - start.year) * 12 + end.month - start.month == 11


@pytest.mark.parametrize(
    ("policy", "after_window", "after_grace"),
    [
        ("QUALIFYING", "silver", "silver"),
        ("ONE_LEVEL", "gold", "gold"),
        ("GRACE", "platinum", "silver"),
    ],
)
async def test_the_window_end_downgrades_by_the_ladders_policy(
    make_app: MakeApp,
    db: Database,
    tenant: Tenant,
    policy: str,
    after_window: str,
    after_grace: str,
) -> None:
    shop = await TierShop.start(
        make_app, db, tenant, ladder(downgrade=policy, graceDays=30 if policy == "GRACE" else 0)
    )
    member = await shop.member()
    await shop.event(member, 31_000, at="2025-05-01T12:00:00Z")
    await shop.run_job(at("2026-01-02T00:00"))  # 2025 held platinum
    await shop.event(member, 6_000, at="2026-03-01T12:00:00Z")
    assert await shop.level(member) == "platinum"

    assert await shop.run_job(at("2027-01-02T00:00")) == 1
    assert await shop.run_job(at("2027-01-02T00:00")) == 0
    assert await shop.level(member) == after_window
    await shop.run_job(at("2027-02-01T00:00"))  # after any grace
    assert await shop.level(member) == after_grace
    kinds = [h["kind"] for h in await shop.history(member)]
    if policy == "GRACE":
        assert kinds[:2] == ["downgrade", "grace"]
    else:
        assert kinds[0] == "downgrade"


async def test_a_purchase_during_grace_keeps_the_level(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await TierShop.start(make_app, db, tenant, ladder(downgrade="GRACE", graceDays=30))
    member = await shop.member()
    await shop.event(member, 16_000, at="2024-05-01T12:00:00Z")
    await shop.run_job(at("2026-01-02T00:00"))  # 2024: gold; 2025: nothing, grace
    tier = await shop.tier(member)
    assert tier is not None
    assert (tier["level"]["name"], tier["graceUntil"]) == ("gold", "2026-01-30")
    await shop.event(member, 15_000, at="2026-01-10T12:00:00Z")
    await shop.run_job(at("2026-02-02T00:00"))
    assert await shop.level(member) == "gold"
    assert (await shop.history(member))[0]["kind"] == "kept"


@pytest.mark.parametrize(("refunds_downgrade", "after_refund"), [(True, "silver"), (False, "gold")])
async def test_a_refund_under_the_threshold_downgrades_only_if_the_ladder_says_so(
    make_app: MakeApp,
    db: Database,
    tenant: Tenant,
    refunds_downgrade: bool,
    after_refund: str,
) -> None:
    shop = await TierShop.start(make_app, db, tenant, ladder(refundsDowngrade=refunds_downgrade))
    member = await shop.member()
    await shop.event(member, 6_000, external_id="p-1")
    await shop.event(member, 10_000, external_id="p-2")
    assert await shop.level(member) == "gold"

    await shop.refund(member, "p-2", 4_000)

    assert await shop.level(member) == after_refund
    progress = await shop.progress(member)
    assert progress["value"] == 12_000
    assert -4_000 in [c["amount"] for c in progress["contributions"]]
    if refunds_downgrade:
        assert (await shop.history(member))[0]["kind"] == "downgrade"
        assert await shop.outbox("tiers.downgraded") == 1


async def _months(db: Database, tenant: Tenant) -> dict[date, int]:
    from loyalty_tiers.tables import metrics
    from sqlalchemy import select

    async with db.tenant_transaction(tenant.id) as conn:
        rows = await conn.execute(
            select(metrics.c.month, metrics.c.value).where(metrics.c.tenant_id == tenant.id)
        )
        return {row.month: int(row.value) for row in rows}


async def test_a_member_at_risk_is_warned_once_before_the_window_ends(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await TierShop.start(make_app, db, tenant, ladder(), warning_days=14)
    member, safe = await shop.member(), await shop.member()
    await shop.event(member, 31_000, at="2025-05-01T12:00:00Z")
    await shop.event(safe, 31_000, at="2025-05-01T12:00:00Z")
    await shop.run_job(at("2026-01-02T00:00"))  # 2025 held platinum for both
    await shop.event(member, 6_000, at="2026-03-01T12:00:00Z")
    await shop.event(safe, 30_000, at="2026-03-01T12:00:00Z")

    assert await shop.run_job(at("2026-12-01T00:00")) == 0  # not yet within 14 days
    assert await shop.run_job(at("2026-12-20T00:00")) == 1
    assert await shop.run_job(at("2026-12-21T00:00")) == 0
    assert await shop.outbox("tiers.downgrade_warning") == 1
    progress = await shop.progress(member)
    assert progress["keep"] == 24_000  # "to keep platinum, earn 240.00 EUR more by 31 Dec"
