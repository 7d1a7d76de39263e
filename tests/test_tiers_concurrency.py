"""Tiers under concurrency on real PostgreSQL: purchases of one member at once through two
gateway instances upgrade exactly once per level, and two runs of the window job at once
end each window once."""

from __future__ import annotations

import asyncio
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp

from tests.tiers import TierShop, at

LADDER: dict[str, Any] = {
    "levels": [
        {"name": "silver", "threshold": 5_000},
        {"name": "gold", "threshold": 15_000},
    ],
    "metric": "SPEND",
    "window": "CALENDAR_YEAR",
}


async def test_concurrent_purchases_on_two_gateways_upgrade_once_per_level(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    first = await TierShop.start(make_app, db, tenant, LADDER)
    second = await TierShop.start(make_app, db, tenant, gateway=await make_app())
    member = await first.member()

    shops = [first, second] * 4
    # Each in a month of its own, so no month row orders them (the base earn's lock on the
    # member's points account does; the visits test below has no such lock).
    await asyncio.gather(
        *(
            shop.event(member, 2_000, external_id=f"r-{i}", at=f"2026-{i + 1:02d}-10T12:00:00Z")
            for i, shop in enumerate(shops)
        )
    )

    history = await first.history(member)
    assert [(h["kind"], h["toLevel"]) for h in history] == [
        ("upgrade", "gold"),
        ("upgrade", "silver"),
    ]
    # Each upgrade happened on the purchase that crossed its threshold, whatever the order.
    assert [h["metric"] for h in history] == [16_000, 6_000]
    assert await first.outbox("tiers.upgraded") == 2
    progress = await first.progress(member)
    assert progress["value"] == 16_000
    assert len(progress["contributions"]) == 8


async def test_concurrent_visits_upgrade_once_where_no_ledger_lock_orders_them(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    """Visits earn nothing, so the core takes no lock of the member's for them: only the
    member's standing row orders the module's decisions."""
    visits = {**LADDER, "metric": "VISITS"}
    visits["levels"] = [{"name": "regular", "threshold": 3}, {"name": "local", "threshold": 6}]
    first = await TierShop.start(make_app, db, tenant, visits)
    second = await TierShop.start(make_app, db, tenant, gateway=await make_app())
    saved = await first.admin_call(
        "mutation($i: EventTypeSaveInput!) { eventTypeSave(input: $i) { errors { code } } }",
        {"i": {"name": "visit", "jsonSchema": {"type": "object"}}},
    )
    assert saved["eventTypeSave"]["errors"] == []
    member = await first.member()

    await asyncio.gather(
        *(
            shop.event(member, type_="visit", payload={}, at=f"2026-{i + 1:02d}-10T12:00:00Z")
            for i, shop in enumerate([first, second] * 4)
        )
    )

    history = await first.history(member)
    assert [(h["kind"], h["toLevel"], h["metric"]) for h in history] == [
        ("upgrade", "local", 6),
        ("upgrade", "regular", 3),
    ]
    assert (await first.progress(member))["value"] == 8


async def test_two_window_job_runs_at_once_end_each_window_once(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await TierShop.start(make_app, db, tenant, LADDER)
    members = [await shop.member() for _ in range(5)]
    this_year = [0, 1_000, 2_000, 3_000, 6_000]
    for member, spend in zip(members, this_year, strict=True):
        await shop.event(member, 16_000, at="2025-06-01T12:00:00Z")
        if spend:
            await shop.event(member, spend, at="2026-02-01T12:00:00Z")

    runs = await asyncio.gather(*(shop.run_job(at("2026-01-02T09:00")) for _ in range(2)))
    assert sum(runs) == 5  # ended once each (the 2026 purchases are in the next window)
    for member in members:
        assert await shop.level(member) == "gold"  # kept: 2025 held gold

    runs = await asyncio.gather(*(shop.run_job(at("2027-01-02T09:00")) for _ in range(2)))
    assert sum(runs) == 5
    assert await shop.history_rows("downgrade") == 5
    assert await shop.outbox("tiers.downgraded") == 5
    assert [await shop.level(member) for member in members] == [None, None, None, None, "silver"]
    assert await shop.run_job(at("2027-01-02T09:00")) == 0
