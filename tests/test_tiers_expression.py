"""A CEL expression as the qualifying metric: over the member's aggregates in the window
(spend, purchases, visits, status points), raising a member on the event that qualifies,
explained by the aggregates and each event's part, decided at the window's end; refused on
tierLadderSet with a clear error when it cannot be one; and when it fails for a member at
run time (a division by zero), skipped, counted and shown, never failing an event, a
simulation or the window job."""

from __future__ import annotations

from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant

from tests.tiers import SPEND_LADDER, TierShop, at

AGGREGATES = "aggregates { spend purchases visits statusPoints }"
PROGRESS = f"""
query($id: ID!) {{
  member(id: $id) {{
    tierProgress {{ metric value missing error {AGGREGATES}
                    contributions {{ eventType amount {AGGREGATES} }} }}
  }}
}}
"""
HEALTH = "{ tierLadder { metric expression health { failures lastError lastFailedAt } } }"
LADDER: dict[str, Any] = {
    **SPEND_LADDER,
    "metric": "EXPRESSION",
    "expression": "window.spend / 100 + window.visits * 50",
    "levels": [{"name": "silver", "threshold": 100}, {"name": "gold", "threshold": 300}],
}


async def _shop(make_app: Any, db: Database, tenant: Tenant, ladder: dict[str, Any]) -> TierShop:
    shop = await TierShop.start(make_app, db, tenant, ladder)
    saved = await shop.admin_call(
        "mutation($i: EventTypeSaveInput!) { eventTypeSave(input: $i) { errors { code } } }",
        {"i": {"name": "visit", "jsonSchema": {"type": "object"}}},
    )
    assert saved["eventTypeSave"]["errors"] == []
    return shop


async def _visit(shop: TierShop, member: str, when: str) -> None:
    await shop.event(member, type_="visit", payload={}, at=when)


async def test_an_expression_over_the_window_ranks_members_and_explains_itself(
    make_app: Any, db: Database, tenant: Tenant
) -> None:
    shop = await _shop(make_app, db, tenant, LADDER)
    mia = await shop.member()
    await shop.event(mia, 6_000, at="2026-03-01T10:00:00Z")
    assert await shop.level(mia) is None  # 60
    await _visit(shop, mia, "2026-03-02T10:00:00Z")
    assert await shop.level(mia) == "silver"  # 60 + 50 on the visit that qualified
    await shop.event(mia, 20_000, at="2026-04-01T10:00:00Z", external_id="book")
    assert await shop.level(mia) == "gold"  # 260 + 50

    progress = (await shop.admin_call(PROGRESS, {"id": mia}))["member"]["tierProgress"]
    assert (progress["metric"], progress["value"], progress["error"]) == ("EXPRESSION", 310, None)
    assert progress["aggregates"] == {
        "spend": 26_000,
        "purchases": 2,
        "visits": 1,
        "statusPoints": 0,
    }
    parts = [c["aggregates"] for c in progress["contributions"]]
    assert sum(p["spend"] for p in parts) == 26_000
    assert sum(p["visits"] for p in parts) == 1
    # A refund lowers the aggregates of its purchase's window, and with them the metric.
    await shop.refund(mia, "book", 20_000)
    progress = (await shop.admin_call(PROGRESS, {"id": mia}))["member"]["tierProgress"]
    assert (progress["value"], progress["aggregates"]["purchases"]) == (110, 1)

    # The window's end decides by the same expression, in the job's set-based path.
    lukas, emma = await shop.member(), await shop.member()
    await shop.event(lukas, 40_000, at="2025-05-01T10:00:00Z")
    await shop.event(emma, 25_000, at="2025-05-01T10:00:00Z")
    assert (await shop.level(lukas), await shop.level(emma)) == ("gold", "silver")
    await _visit(shop, lukas, "2026-02-01T10:00:00Z")  # 50 in the new window
    await shop.run_job(at("2026-01-02T00:00"))
    assert await shop.level(lukas) == "gold"  # 400 in 2025
    assert await shop.level(emma) == "silver"  # 250 in 2025
    await shop.run_job(at("2027-01-02T00:00"))
    assert await shop.level(mia) == "silver"  # 110 in 2026
    assert await shop.level(lukas) is None  # 50 in 2026
    assert await shop.level(emma) is None  # nothing in 2026
    health = (await shop.admin_call(HEALTH))["tierLadder"]["health"]
    assert health["failures"] == 0


async def test_a_bad_expression_is_refused_on_set_with_a_clear_error(
    make_app: Any, db: Database, tenant: Tenant
) -> None:
    shop = await _shop(make_app, db, tenant, SPEND_LADDER)
    cases = [
        ("window.spent / 100", "INVALID_CONDITION", "unknown field 'spent' at line 1, column 8"),
        ("member.totalSpend", "INVALID_CONDITION", "unknown field 'member'"),
        ("window.spend / ", "INVALID_CONDITION", "does not compile"),
        ("window.spend > 100", "INVALID_CONDITION", "a bool, not a number"),
        ("window.spend / (window.visits - 1)", "INVALID_CONDITION", "1 of everything"),
        ("", "INVALID_INPUT", "an expression goes with the EXPRESSION metric"),
    ]
    for text, code, message in cases:
        payload = await shop.set_ladder({**LADDER, "expression": text})
        assert payload["ladder"] is None
        [error] = payload["errors"]
        assert error["code"] == code, (text, error)
        assert message in error["message"], (text, error)
        if code == "INVALID_CONDITION":
            assert error["field"] == "expression"
    misplaced = await shop.set_ladder({**SPEND_LADDER, "expression": "window.spend"})
    assert misplaced["errors"][0]["code"] == "INVALID_INPUT"
    ladder = (await shop.admin_call(HEALTH))["tierLadder"]
    assert (ladder["metric"], ladder["expression"]) == ("SPEND", None)  # nothing written


async def test_an_expression_failing_for_a_member_is_skipped_counted_and_shown(
    make_app: Any, db: Database, tenant: Tenant
) -> None:
    average: dict[str, Any] = {
        **LADDER,
        "expression": "window.spend / window.purchases",
        "levels": [{"name": "silver", "threshold": 1_000}, {"name": "gold", "threshold": 5_000}],
    }
    shop = await _shop(make_app, db, tenant, average)
    buyer, visitor, other = await shop.member(), await shop.member(), await shop.member()
    await shop.event(buyer, 6_000, at="2026-03-01T10:00:00Z")
    assert await shop.level(buyer) == "gold"
    await shop.event(other, 2_000, at="2025-03-01T10:00:00Z")
    assert await shop.level(other) == "silver"
    await shop.event(visitor, 6_000, at="2025-03-01T10:00:00Z", external_id="v-1")
    assert await shop.level(visitor) == "gold"
    await shop.refund(visitor, "v-1", 6_000)  # 0 / 0: ingested all the same
    assert await shop.level(visitor) == "gold"
    health = (await shop.admin_call(HEALTH))["tierLadder"]["health"]
    assert health["failures"] == 1
    assert "ZeroDivisionError" in health["lastError"]
    progress = (await shop.admin_call(PROGRESS, {"id": visitor}))["member"]["tierProgress"]
    assert progress["value"] == 0
    assert "ZeroDivisionError" in progress["error"]

    # Nobody bought in 2026 but the buyer: the others cannot be decided, and are skipped.
    only_silver = {**average, "levels": [{"name": "silver", "threshold": 1}]}
    simulation = (await shop.simulate(only_silver))["simulation"]
    assert simulation["skipped"] == 2
    assert [m["memberId"] for m in simulation["moves"]] == [buyer]

    # The window job decides the others and leaves the visitor's window open, counted.
    await shop.run_job(at("2026-01-02T00:00"))
    other_tier, visitor_tier = await shop.tier(other), await shop.tier(visitor)
    assert other_tier is not None
    assert visitor_tier is not None
    assert (other_tier["level"]["name"], other_tier["until"]) == ("silver", "2026-12-31")
    assert (visitor_tier["level"]["name"], visitor_tier["until"]) == ("gold", "2025-12-31")
    health = (await shop.admin_call(HEALTH))["tierLadder"]["health"]
    assert health["failures"] == 2
    fixed = {**average, "expression": "window.purchases == 0 ? 0 : window.spend / window.purchases"}
    assert (await shop.set_ladder(fixed))["errors"] == []
    await shop.run_job(at("2026-01-02T00:00"))
    assert await shop.level(visitor) is None
    progress = (await shop.admin_call(PROGRESS, {"id": visitor}))["member"]["tierProgress"]
    assert progress["error"] is None
