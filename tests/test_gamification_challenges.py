"""Challenges: steps in any order or in order, automatic or opt-in (events before joining do
not count), targeted by segment, rewarded once (also under concurrency on two gateway
instances), outside their window nothing counts, and bad definitions are refused."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, enable_for, graphql, member_token

from tests.gamification import CHALLENGE_JOIN, Shop, reward_transactions


def counts(progress: dict[str, object]) -> list[object]:
    return [step["count"] for step in progress["steps"]]  # type: ignore[attr-defined]


async def test_steps_in_any_order_complete_the_challenge_and_pay_once(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    payload = await shop.challenge(rewardPoints=75)
    assert payload["errors"] == [], payload
    mia = await shop.member()
    await shop.ingest(mia, "book", store="bookshop")
    await shop.ingest(mia, "coffee-1", store="coffee-bar")
    mission = (await shop.member_challenges(mia))["Coffee and a book"]
    assert (counts(mission), mission["completedAt"]) == ([1, 1], None)
    for n in range(2, 5):
        await shop.ingest(mia, f"coffee-{n}", store="coffee-bar")
    mission = (await shop.member_challenges(mia))["Coffee and a book"]
    assert counts(mission) == [2, 1]
    assert [s["done"] for s in mission["steps"]] == [True, True]
    assert mission["completedAt"] is not None
    assert mission["transactionId"] is not None
    assert await reward_transactions(db, tenant) == {"earn": 1}


async def test_ordered_steps_count_one_after_the_other(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    await shop.challenge(ordered=True)
    mia = await shop.member()
    await shop.ingest(mia, "book-too-early", store="bookshop")
    await shop.ingest(mia, "coffee-1", store="coffee-bar")
    await shop.ingest(mia, "coffee-2", store="coffee-bar")
    assert counts((await shop.member_challenges(mia))["Coffee and a book"]) == [2, 0]
    await shop.ingest(mia, "book", store="bookshop")
    assert (await shop.member_challenges(mia))["Coffee and a book"]["completedAt"] is not None


async def test_an_opt_in_challenge_counts_from_the_join_on(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    challenge = (await shop.challenge(optIn=True))["challenge"]
    mia = await shop.member()
    await shop.ingest(mia, "before-joining", store="coffee-bar")
    mission = (await shop.member_challenges(mia))["Coffee and a book"]
    assert (mission["joined"], counts(mission)) == (False, [0, 0])
    token = member_token(tenant.id, uuid.UUID(mia))
    for _ in range(2):
        body = await graphql(
            shop.gateway.client,
            CHALLENGE_JOIN,
            {"input": {"challengeId": challenge["id"]}},
            token=token,
        )
        assert body["data"]["challengeJoin"]["errors"] == [], body
    await shop.ingest(mia, "after-joining", store="coffee-bar")
    mission = (await shop.member_challenges(mia))["Coffee and a book"]
    assert (mission["joined"], counts(mission)) == (True, [1, 0])


async def test_a_challenge_for_a_segment_counts_members_in_it_only(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    body = await graphql(
        shop.gateway.client,
        "mutation($i: SegmentCreateInput!) { segmentCreate(input: $i) { errors { code } } }",
        {"i": {"name": "regulars", "condition": "member.purchaseCount >= 3"}},
        token=shop.admin,
    )
    assert body["data"]["segmentCreate"]["errors"] == [], body
    await shop.challenge(segment="regulars")
    mia = await shop.member()
    for n in range(4):
        await shop.ingest(mia, f"coffee-{n}", store="coffee-bar")
    assert counts((await shop.member_challenges(mia))["Coffee and a book"]) == [2, 0]
    unknown = await shop.challenge(name="Other", segment="nobody")
    assert [(e["code"], e["field"]) for e in unknown["errors"]] == [("NOT_FOUND", "segment")]


async def test_concurrent_events_on_two_instances_complete_a_challenge_once(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    second = await make_app()
    steps = [{"name": "Visits", "eventType": "purchase", "target": 10}]
    await shop.challenge(name="Ten visits", steps=steps, rewardPoints=100)
    mia = await shop.member()
    await asyncio.gather(
        *(shop.ingest(mia, f"v-{n}", gateway=second if n % 2 else None) for n in range(25))
    )
    mission = (await shop.member_challenges(mia))["Ten visits"]
    assert (counts(mission), mission["completedAt"] is not None) == ([10], True)
    assert await reward_transactions(db, tenant) == {"earn": 1}


async def test_outside_its_window_nothing_counts_and_bad_challenges_are_refused(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    now = datetime.now(UTC)
    await shop.challenge(name="Last month", endsAt=(now - timedelta(days=1)).isoformat())
    mia = await shop.member()
    await shop.ingest(mia, "now", store="coffee-bar")
    assert counts((await shop.member_challenges(mia))["Last month"]) == [0, 0]
    for fields, code, field in (
        ({"endsAt": (now - timedelta(days=30)).isoformat()}, "INVALID_INPUT", "endsAt"),
        ({"steps": []}, "INVALID_INPUT", "steps"),
        (
            {"steps": [{"name": "x", "eventType": "teleport"}]},
            "UNKNOWN_EVENT_TYPE",
            "steps.0.eventType",
        ),
        (
            {"steps": [{"name": "x", "eventType": "purchase", "target": 0}]},
            "INVALID_INPUT",
            "steps.0.target",
        ),
        (
            {"steps": [{"name": "x", "eventType": "purchase", "condition": "event.amount >"}]},
            "INVALID_CONDITION",
            "steps.0.condition",
        ),
    ):
        payload = await shop.challenge(name="Bad", **fields)
        assert payload["challenge"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)]
    assert list(await shop.member_challenges(mia)) == ["Last month"]


async def test_a_challenge_update_is_checked_whole_and_archiving_hides_it(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    challenge = (await shop.challenge())["challenge"]
    update = """
    mutation($input: ChallengeUpdateInput!) {
      challengeUpdate(input: $input) { challenge { name status } errors { code field } }
    }
    """

    async def change(**fields: object) -> dict[str, object]:
        body = await graphql(
            shop.gateway.client,
            update,
            {"input": {"id": challenge["id"], **fields}},
            token=shop.admin,
        )
        payload: dict[str, object] = body["data"]["challengeUpdate"]
        return payload

    refused = await change(steps=[{"name": "Only one", "eventType": "purchase"}])
    assert refused["errors"] == [{"code": "INVALID_INPUT", "field": "steps"}]
    renamed = await change(name="Coffee, then a book")
    assert renamed["challenge"] == {"name": "Coffee, then a book", "status": "ACTIVE"}
    mia = await shop.member()
    assert list(await shop.member_challenges(mia)) == ["Coffee, then a book"]
    await change(status="ARCHIVED")
    assert await shop.member_challenges(mia) == {}


async def test_a_challenge_rewards_with_another_modules_rule_effect_once(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    settings = {"currencies": ["EUR"], "max_balance": 10_000}
    await enable_for(db, shop.gateway.registry, tenant, "giftcards", settings)
    unknown = await shop.challenge(rewardEffect={"effect": "nowhere.nothing"})
    assert [(e["code"], e["field"]) for e in unknown["errors"]] == [
        ("INVALID_INPUT", "rewardEffect.effect")
    ]
    effect = {"effect": "giftcards.issue_gift_card", "params": {"amount": 1500}}
    assert (await shop.challenge(rewardEffect=effect))["errors"] == []
    mia = await shop.member()
    for n, store in enumerate(["coffee-bar", "bookshop", "coffee-bar", "coffee-bar"]):
        await shop.ingest(mia, f"e-{n}", store=store)

    assert (await shop.member_challenges(mia))["Coffee and a book"]["completedAt"] is not None
    body = await graphql(
        shop.gateway.client,
        "query($id: ID!) { member(id: $id) { giftCards { balance } } }",
        {"id": mia},
        token=shop.admin,
    )
    assert [c["balance"] for c in body["data"]["member"]["giftCards"]] == [1500]
