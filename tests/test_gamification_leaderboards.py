"""Leaderboards: live scores, the tie rule (same score, same rank; the earlier first), a
member not ranked yet, neighbours at the top and bottom edges, names and opting out, and
prizes paid once at a window's end even with two job runs at once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_gamification.leaderboards import pay_prizes
from loyalty_testing import MakeApp, graphql, member_token
from pydantic import BaseModel

from tests.api import available
from tests.gamification import PLAYER_SET, Shop, reward_transactions
from tests.jobs import job_context


def ranks(entries: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(e["rank"], e["score"]) for e in entries]


async def _board_with_scores(shop: Shop, amounts: list[int]) -> tuple[str, list[str]]:
    """A monthly spend board and members who spent ``amounts`` in that order (so among
    equal scores the earlier member reached it first)."""
    board = (await shop.leaderboard_create())["leaderboard"]["id"]
    members = []
    for n, amount in enumerate(amounts):
        member = await shop.member()
        await shop.ingest(member, f"p-{n}", amount=amount)
        members.append(member)
    return board, members


async def test_ties_share_a_rank_and_the_earlier_is_listed_first(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    board, members = await _board_with_scores(shop, [3000, 5000, 3000, 5000, 1000])
    found = await shop.standings(board, first=10)
    assert ranks(found["top"]) == [(1, 5000), (1, 5000), (3, 3000), (3, 3000), (5, 1000)]
    assert [e["memberId"] for e in found["top"]] == [
        members[1],
        members[3],
        members[0],
        members[2],
        members[4],
    ]
    assert found["windowKey"].startswith("month:")


async def test_a_member_not_ranked_yet_has_no_entry_and_refunds_lower_a_score(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    board, members = await _board_with_scores(shop, [3000, 2000])
    newcomer = await shop.member()
    found = await shop.standings(board, member=newcomer)
    assert (found["member"], found["above"], found["below"]) == (None, [], [])
    await shop.refund(members[0], "p-0", "r-0", 1500)
    found = await shop.standings(board, member=members[0])
    assert found["member"]["rank"] == 2
    assert ranks(found["above"]) == [(1, 2000)]


async def test_neighbours_stop_at_the_top_and_bottom_edges(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    amounts = [9000, 8000, 7000, 7000, 6000, 5000, 4000]
    board, members = await _board_with_scores(shop, amounts)

    top = await shop.standings(board, member=members[0], neighbours=2, first=0)
    assert top["top"] == []
    assert (top["member"]["rank"], top["above"]) == (1, [])
    assert ranks(top["below"]) == [(2, 8000), (3, 7000)]

    bottom = await shop.standings(board, member=members[6], neighbours=2)
    assert bottom["member"]["rank"] == 7
    assert ranks(bottom["above"]) == [(5, 6000), (6, 5000)]
    assert bottom["below"] == []

    tied = await shop.standings(board, member=members[3], neighbours=3)
    assert tied["member"]["rank"] == 3
    assert ranks(tied["above"]) == [(1, 9000), (2, 8000), (3, 7000)]
    assert ranks(tied["below"]) == [(5, 6000), (6, 5000), (7, 4000)]


async def test_members_show_under_a_chosen_name_see_only_their_own_ids_and_may_opt_out(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    board, (mia, lukas) = await _board_with_scores(shop, [3000, 2000])
    token = member_token(tenant.id, uuid.UUID(mia))
    body = await graphql(
        shop.gateway.client, PLAYER_SET, {"input": {"displayName": "Coffee Queen"}}, token=token
    )
    assert body["data"]["leaderboardPlayerSet"]["errors"] == []
    seen = await shop.standings(board, token=token)
    assert [(e["displayName"], e["memberId"]) for e in seen["top"]] == [
        ("Coffee Queen", mia),
        (seen["top"][1]["displayName"], None),
    ]
    assert seen["top"][1]["displayName"].startswith("Player ")
    assert seen["member"]["memberId"] == mia

    lukas_token = member_token(tenant.id, uuid.UUID(lukas))
    body = await graphql(
        shop.gateway.client, PLAYER_SET, {"input": {"hidden": True}}, token=lukas_token
    )
    assert body["data"]["leaderboardPlayerSet"]["hidden"] is True
    await shop.ingest(lukas, "after-opt-out", amount=9000)
    assert [e["memberId"] for e in (await shop.standings(board))["top"]] == [mia]


async def test_prizes_are_paid_once_with_two_job_runs_at_once(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    created = await shop.leaderboard_create(
        prizes=[
            {"fromRank": 1, "toRank": 1, "points": 100},
            {"fromRank": 2, "toRank": 3, "points": 20},
        ]
    )
    assert created["errors"] == [], created
    board = created["leaderboard"]["id"]
    now = datetime.now(UTC)
    last_month = now.replace(day=1) - timedelta(days=2)
    for n, amount in enumerate([5000, 4000, 4000, 4000, 1000]):
        member = await shop.member()
        await shop.ingest(member, f"old-{n}", amount=amount, at=last_month)
    await shop.ingest(await shop.member(), "this-month", amount=9000)

    class Settings(BaseModel):
        pass

    context = job_context(db, tenant, Settings(), now=now)
    paid = await asyncio.gather(pay_prizes(context), pay_prizes(context))
    assert sorted(paid) == [0, 4]  # the winner, and three tied at rank 2
    assert await pay_prizes(context) == 0
    assert await reward_transactions(db, tenant) == {"earn": 4}
    window = f"month:{last_month.year}-{last_month.month:02d}"
    old = await shop.standings(board, window=window)
    assert ranks(old["top"]) == [(1, 5000), (2, 4000), (2, 4000), (2, 4000), (5, 1000)]
    assert ranks((await shop.standings(board))["top"]) == [(1, 9000)]


async def test_bad_leaderboards_are_refused(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    for fields, code, field in (
        ({"metric": "EVENT_FIELD"}, "INVALID_INPUT", "field"),
        (
            {"metric": "EVENT_FIELD", "eventType": "teleport", "field": "payload.x"},
            "UNKNOWN_EVENT_TYPE",
            "eventType",
        ),
        ({"period": "WINDOW"}, "INVALID_INPUT", "period"),
        (
            {"period": "ALL_TIME", "prizes": [{"fromRank": 1, "toRank": 1, "points": 5}]},
            "INVALID_INPUT",
            "prizes",
        ),
        ({"prizes": [{"fromRank": 3, "toRank": 1, "points": 5}]}, "INVALID_INPUT", "prizes"),
    ):
        payload = await shop.leaderboard_create(**fields)
        assert payload["leaderboard"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)]


async def test_a_board_for_a_segment_ranks_its_members_only(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    body = await graphql(
        shop.gateway.client,
        "mutation($i: SegmentCreateInput!) { segmentCreate(input: $i) { errors { code } } }",
        {"i": {"name": "big-spenders", "condition": "member.totalSpend >= 5000"}},
        token=shop.admin,
    )
    assert body["data"]["segmentCreate"]["errors"] == [], body
    unknown = await shop.leaderboard_create(name="Nobody's", segment="nobody")
    assert [(e["code"], e["field"]) for e in unknown["errors"]] == [("NOT_FOUND", "segment")]
    payload = await shop.leaderboard_create(name="Big spenders", segment="big-spenders")
    assert payload["errors"] == [], payload
    board = payload["leaderboard"]["id"]
    everyone = (await shop.leaderboard_create(name="Everyone"))["leaderboard"]["id"]
    mia, noah = await shop.member(), await shop.member()
    await shop.ingest(mia, "mia-big", amount=6000)
    await shop.ingest(mia, "mia-more", amount=1000)
    await shop.ingest(noah, "noah-small", amount=1000)

    assert ranks((await shop.standings(everyone, first=10))["top"]) == [(1, 7000), (2, 1000)]
    top = (await shop.standings(board, first=10))["top"]
    assert [(e["memberId"], e["score"]) for e in top] == [(mia, 7000)]


async def test_a_points_board_ranks_what_the_ledger_paid_and_a_refund_takes_back(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    board = (await shop.leaderboard_create(name="Top earners", metric="POINTS"))["leaderboard"]
    first, second = await shop.member(), await shop.member()
    await shop.ingest(first, "p-1", amount=3000)
    await shop.ingest(second, "p-2", amount=2000)
    client = shop.gateway.client
    earned = [await available(client, tenant.id, m) for m in (first, second)]
    assert earned[0] > earned[1] > 0

    found = await shop.standings(board["id"], first=10)
    assert [(e["memberId"], e["score"]) for e in found["top"]] == [
        (first, earned[0]),
        (second, earned[1]),
    ]
    await shop.refund(first, "p-1", "r-1", 3000)  # all of it: its points go back too
    found = await shop.standings(board["id"], first=10)
    assert [(e["memberId"], e["score"]) for e in found["top"]] == [
        (second, earned[1]),
        (first, await available(client, tenant.id, first)),
    ]
    assert found["top"][1]["score"] == 0
