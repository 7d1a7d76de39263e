"""Gamification on the ingest path: twenty live badges, as a busy coffee-and-books retailer
runs them. Fourteen count purchases (all time, per week, per month, three capped at one a
day, two with a condition on the amount, one repeatable), four sum the amount, two count a
custom event type the purchases never touch. One rewards the first purchase, so the check
before measuring sees the module post (a third ledger transaction)."""

from __future__ import annotations

from datetime import UTC, datetime

from loyalty_core.db.engine import Database
from loyalty_core.events.service import save_event_type
from loyalty_core.modules.manager import build_registry
from loyalty_core.modules.service import enable_module
from loyalty_core.tenants.service import get_tenant
from loyalty_gamification import badges
from loyalty_gamification.models import Measure, Period

from bench.loads import LoadSetup, ModuleLoad
from bench.seed import SEED_ACTOR, BenchTenant

PERIODS = (Period.ALL_TIME, Period.WEEK, Period.MONTH)


def specs() -> list[badges.BadgeSpec]:
    found = [badges.BadgeSpec(name="Welcome", event_type="purchase", target=1, reward_points=5)]
    for n in range(13):
        found.append(
            badges.BadgeSpec(
                name=f"Visits {n}",
                event_type="purchase",
                target=5 + n,
                period=PERIODS[n % 3],
                daily_cap=1 if n < 3 else None,
                condition="event.amount >= 500" if n in (4, 5) else "",
                repeatable=n == 6,
                reward_points=10 * (n + 1),
            )
        )
    for n in range(4):
        found.append(
            badges.BadgeSpec(
                name=f"Spend {n}",
                event_type="purchase",
                target=100_000 * (n + 1),
                measure=Measure.SUM,
                sum_field="amount",
                period=PERIODS[n % 3],
                revoke_on_refund=n % 2 == 0,
                reward_points=100,
            )
        )
    for n in range(2):
        found.append(
            badges.BadgeSpec(
                name=f"App fan {n}",
                event_type="app_open",
                target=10 * (n + 1),
                condition='event.payload.screen == "menu"' if n else "",
                period=Period.WEEK,
            )
        )
    return found


async def configure(database: Database, tenant: BenchTenant) -> LoadSetup:
    async with database.tenant_transaction(tenant.tenant_id) as conn:
        found = await get_tenant(conn, tenant.tenant_id)
        await enable_module(conn, found, build_registry(), "gamification", {}, actor=SEED_ACTOR)
        now = datetime.now(UTC)
        await save_event_type(
            conn,
            tenant.tenant_id,
            name="app_open",
            json_schema={"type": "object", "properties": {"screen": {"type": "string"}}},
            description="The member opened the app.",
            module_types={},
            actor=SEED_ACTOR,
        )
        for spec in specs():
            await badges.create(conn, tenant.tenant_id, spec, {}, now=now)
    return LoadSetup(
        "gamification: 20 live badges on purchases (counts, sums, weekly and monthly periods, "
        "daily caps, conditions); the first purchase of a member completes one",
        transactions=3,
    )


LOAD = ModuleLoad("gamification", configure)
