"""tierLadderSimulate against what setting the ladder then does (a property test): the
members it says rise at once are exactly those the change raises, and those it says drop
at the window's end are exactly those the window's end lowers, to the levels it said. And
a ladder change works batch by batch, across the batches' boundaries."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyalty_core.db.engine import Database
from loyalty_testing import MakeApp, RunningGateway, create_test_tenant
from loyalty_tiers import schema, service

from tests.tiers import TierShop, at

OLD = {
    "levels": [{"name": "silver", "threshold": 5_000}, {"name": "gold", "threshold": 15_000}],
    "metric": "SPEND",
    "window": "CALENDAR_YEAR",
}
_gateway: list[RunningGateway] = []

spends = st.lists(st.integers(min_value=0, max_value=30_000), min_size=1, max_size=4)
thresholds = st.tuples(
    st.integers(min_value=0, max_value=20_000), st.integers(min_value=1, max_value=20_000)
).map(lambda pair: (pair[0], pair[0] + pair[1]))


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spent=spends, new=thresholds, policy=st.sampled_from(["QUALIFYING", "ONE_LEVEL"]))
async def test_simulation_equals_what_applying_the_ladder_does(
    make_app: MakeApp, db: Database, spent: list[int], new: tuple[int, int], policy: str
) -> None:
    if not _gateway:
        _gateway.append(await make_app())
    tenant = await create_test_tenant(db)
    shop = await TierShop.start(make_app, db, tenant, OLD, gateway=_gateway[0])
    members = [await shop.member() for _ in spent]
    for member, amount in zip(members, spent, strict=True):
        if amount:
            await shop.event(member, amount, at="2026-06-01T12:00:00Z")
    before = {member: await shop.level(member) for member in members}
    ladder: dict[str, Any] = {
        **OLD,
        "levels": [
            {"name": "silver", "threshold": new[0]},
            {"name": "gold", "threshold": new[1]},
        ],
        "downgrade": policy,
    }

    simulation = (await shop.simulate(ladder))["simulation"]
    assert await shop.level(members[0]) == before[members[0]]  # simulating wrote nothing
    assert (await shop.set_ladder(ladder))["errors"] == []
    after_set = {member: await shop.level(member) for member in members}
    await shop.run_job(at("2027-01-02T00:00"))
    after_window = {member: await shop.level(member) for member in members}

    moves = {m["memberId"]: m for m in simulation["moves"]}
    assert simulation["up"] + simulation["down"] == len(moves)
    for member in members:
        move = moves.get(member)
        if move is not None and move["atOnce"]:
            assert after_set[member] == move["toLevel"] != before[member]
        else:
            assert after_set[member] == before[member]
        if move is not None and not move["atOnce"]:
            assert after_window[member] == move["toLevel"] != after_set[member]
        else:
            assert after_window[member] == after_set[member]


async def test_a_ladder_change_moves_members_batch_by_batch(
    make_app: MakeApp, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ladder change reads, decides and moves members a batch at a time (here of 3, as of
    10,000 for a million members): every member is simulated and moved across the batches'
    boundaries, the simulation lists at most its limit and counts the rest, and each move
    has its history row."""
    monkeypatch.setattr(service, "BATCH", 3)
    monkeypatch.setattr(schema, "MAX_MOVES", 3)
    tenant = await create_test_tenant(db)
    shop = await TierShop.start(make_app, db, tenant, OLD)
    spent = [1_000, 6_000, 16_000, 2_000, 7_000, 20_000, 500]
    members = [await shop.member() for _ in spent]
    for member, amount in zip(members, spent, strict=True):
        await shop.event(member, amount, at="2026-06-01T12:00:00Z")
    lower: dict[str, Any] = {
        **OLD,
        "levels": [{"name": "silver", "threshold": 1_000}, {"name": "gold", "threshold": 6_000}],
    }

    simulation = (await shop.simulate(lower))["simulation"]
    assert (simulation["up"], simulation["down"]) == (4, 0)
    assert len(simulation["moves"]) == 3
    assert (await shop.set_ladder(lower))["errors"] == []

    levels = [await shop.level(member) for member in members]
    assert levels == ["silver", "gold", "gold", "silver", "gold", "gold", None]
    assert await shop.history_rows("ladder") == 4
    [row] = [h for h in await shop.history(members[1]) if h["kind"] == "ladder"]
    assert (row["fromLevel"], row["toLevel"], row["metric"]) == ("silver", "gold", 6_000)
    assert row["reason"] == "ladder changed: 6000 now reaches gold"
