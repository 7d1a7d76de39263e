"""Attribution on purchases, in the writer's transaction: a budget exact under concurrency on
two gateways, terms frozen at activation, items by SKU and category, the minimum spend at its
edge, a partial refund reversing the right share, in the ledger and in clearing, and a full
refund giving the reward's claims back, exactly also with purchases at once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, graphql

from tests.api import pos_key
from tests.clearing import BLOCK_PURCHASE, INGEST, PARTNER_UPDATE, clearing_balances
from tests.partner_offers import (
    ACTIVATE,
    SYNC,
    Programme,
    day_used,
    offer_input,
    offer_transactions,
    rewards,
    used,
)

BLOCKS = "pointBlocks { remaining }"


async def test_a_budget_of_33_gives_exactly_33_rewards_to_100_concurrent_purchases_on_two_gateways(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Programme.start(make_app, db, tenant)
    second = await make_app()
    cinema = await town.partner("Cinema", issue="0.01")
    offer = await town.create(
        offer_input(value="50", budget=33, perMemberLimit=100), partnerId=cinema
    )
    members = [await town.member() for _ in range(5)]

    answers = await asyncio.gather(
        *(
            town.buy("Cinema", members[n % 5], 1_000, gateway=town.gateway if n % 2 else second)
            for n in range(100)
        )
    )

    assert all(answer["errors"] == [] for answer in answers)
    assert await used(db, tenant.id, offer["id"]) == 33
    assert await rewards(db, tenant.id, offer["id"]) == [(50, 0)] * 33
    assert await offer_transactions(db, tenant.id, offer["id"]) == 33
    # the partner pays for exactly those: 33 x 50 points x 0.01 EUR, beside its base earn
    balances = await clearing_balances(db, tenant.id)
    partner_position = balances["clearing_eur"][f"clearing:partner:{cinema}"]
    assert partner_position == -(100 * 10 + 33 * 50)  # base 10 points each, offer 50 x 33


async def test_terms_are_frozen_at_activation_until_the_members_window_ends(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Programme.start(make_app, db, tenant)
    await town.partner("Drugstore")
    ends = datetime.now(UTC) + timedelta(seconds=3)
    first = {"externalId": "welcome", "version": 1, "offer": offer_input(
        "Welcome bonus", value="100", activation="CLIP", ends=ends, perMemberLimit=5
    )}  # fmt: skip
    synced = await town.as_partner("Drugstore", SYNC, {"input": {"offers": [first]}})
    offer_id = synced["data"]["offerCatalogSync"]["results"][0]["offer"]["id"]
    member = await town.member()
    activated = await town.as_member(member, ACTIVATE, {"input": {"offerId": offer_id}})
    assert activated["data"]["offerActivate"]["memberOffer"]["state"] == "ACTIVATED"

    lower = {"externalId": "welcome", "version": 2, "offer": offer_input(
        "Welcome bonus", value="10", activation="CLIP", ends=ends, perMemberLimit=5
    )}  # fmt: skip
    retired = {"externalId": "welcome", "version": 3, "retire": True}
    for change in (lower, retired):
        body = await town.as_partner("Drugstore", SYNC, {"input": {"offers": [change]}})
        assert body["data"]["offerCatalogSync"]["results"][0]["written"] is True

    within = await town.buy("Drugstore", member, 2_000)
    await asyncio.sleep((ends - datetime.now(UTC)).total_seconds() + 0.1)  # the window ends
    after = await town.buy("Drugstore", member, 2_000)
    assert within["errors"] == after["errors"] == []
    assert await rewards(db, tenant.id, offer_id) == [(100, 0)]


async def test_items_by_sku_and_category_and_the_minimum_spend_at_its_edge(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Programme.start(make_app, db, tenant, with_clearing=False)
    shampoo = await town.create(
        offer_input(
            "Shampoo bonus",
            reward="PER_UNIT",
            value="10",
            perMemberLimit=100,
            requirements={"skus": ["SH-1"], "minimumSpend": 500},
        )
    )
    books = await town.create(
        offer_input("Books", value="25", perMemberLimit=100, requirements={"categories": ["books"]})
    )
    member = await town.member()
    key = await pos_key(town.gateway.client, tenant.id)
    shampoo_line = {"sku": "SH-1", "quantity": 2, "unitPrice": 250, "category": "care"}
    just_under = {"sku": "SH-1", "quantity": 1, "unitPrice": 499, "category": "care"}
    book = {"sku": "B-7", "quantity": 1, "unitPrice": 1_800, "category": "books"}
    other = {"sku": "X-1", "quantity": 1, "unitPrice": 9_000, "category": "food"}

    await town.till(key, member, 5_500, [shampoo_line, other])  # SKU at exactly 5.00 EUR
    await town.till(key, member, 9_499, [just_under, other])  # 4.99 EUR of it: no
    await town.till(key, member, 9_000, [other])  # without the SKU: no
    await town.till(key, member, 10_800, [book, other])  # a book: the category's offer

    assert await rewards(db, tenant.id, shampoo["id"]) == [(50, 0)]  # 5 EUR x 10
    assert await rewards(db, tenant.id, books["id"]) == [(25, 0)]


async def test_a_partial_refund_reverses_its_share_also_in_clearing(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Programme.start(make_app, db, tenant)
    cinema = await town.partner("Cinema", issue="0.02")
    offer = await town.create(offer_input(value="90"), partnerId=cinema)
    member = await town.member()
    bought = await town.purchase("Cinema", member, 3_000, datetime.now(UTC), external_id="ticket-1")
    assert bought["errors"] == []
    before = await clearing_balances(db, tenant.id)
    position = before["clearing_eur"][f"clearing:partner:{cinema}"]
    assert position == -(30 + 90) * 2  # base 30 and offer 90 points at 2 cents

    refunded = await town.refund("Cinema", member, "ticket-1", 1_000, datetime.now(UTC))
    assert refunded["errors"] == []
    # a third of the purchase: 30 of the 90 offer points and 10 of the 30 base points back
    assert await rewards(db, tenant.id, offer["id"]) == [(90, 30)]
    after = await clearing_balances(db, tenant.id)
    assert after["clearing_eur"][f"clearing:partner:{cinema}"] == -(20 + 60) * 2

    rest = await town.refund("Cinema", member, "ticket-1", 2_000, datetime.now(UTC))
    assert rest["errors"] == []
    assert await rewards(db, tenant.id, offer["id"]) == [(90, 90)]
    final = await clearing_balances(db, tenant.id)
    assert final["clearing_eur"][f"clearing:partner:{cinema}"] == 0


async def test_an_offer_its_partner_cannot_pay_for_is_skipped_and_the_purchase_goes_through(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Programme.start(make_app, db, tenant)
    cinema = await town.partner("Cinema")
    offer = await town.create(offer_input(value="40"), partnerId=cinema)
    suspended = await town.mutate(PARTNER_UPDATE, {"id": cinema, "status": "SUSPENDED"})
    assert suspended["errors"] == [], suspended
    member = await town.member()
    till = await pos_key(town.gateway.client, tenant.id)

    bought = await town.till(till, member, 2_000, [])

    assert len(bought["transactions"]) == 1  # the base earn only
    assert await rewards(db, tenant.id, offer["id"]) == []


async def test_rewards_beyond_a_prepaid_partners_blocks_are_skipped_and_purchases_go_through(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Programme.start(make_app, db, tenant)
    second = await make_app()
    cinema = await town.partner("Cinema", ("ISSUER",), billing="PREPAID")
    block = {"partnerId": cinema, "points": 100, "price": 100, "idempotencyKey": "block-1"}
    assert (await town.mutate(BLOCK_PURCHASE, block))["errors"] == []
    offer = await town.create(offer_input(value="40"), partnerId=cinema)
    members = [await town.member() for _ in range(4)]
    till = await pos_key(town.gateway.client, tenant.id)
    gateways = [town.gateway, second]

    answers = await asyncio.gather(
        *(
            Programme(gateways[n % 2], tenant, db).till(till, members[n % 4], 1_000, [])
            for n in range(8)
        )
    )

    assert all(answer["errors"] == [] for answer in answers)  # every purchase went through
    assert len(await rewards(db, tenant.id, offer["id"])) == 2  # 2 x 40 of the block's 100
    blocks = await town.admin(
        f"query($id: ID!) {{ partner(id: $id) {{ {BLOCKS} }} }}", {"id": cinema}
    )
    assert [b["remaining"] for b in blocks["data"]["partner"]["pointBlocks"]] == [20]
    assert sum((await clearing_balances(db, tenant.id))["clearing_eur"].values()) == 0


async def test_a_daily_cap_and_a_members_limit_hold_under_concurrency_on_two_gateways(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Programme.start(make_app, db, tenant, with_clearing=False)
    second = await make_app()
    capped = await town.create(offer_input("Capped", value="3", dailyCap=5, perMemberLimit=100))
    limited = await town.create(offer_input("Twice each", value="4", perMemberLimit=2))
    members = [await town.member() for _ in range(3)]
    till = await pos_key(town.gateway.client, tenant.id)
    gateways = [town.gateway, second]

    answers = await asyncio.gather(
        *(
            Programme(gateways[n % 2], tenant, db).till(till, members[n % 3], 1_000, [])
            for n in range(30)
        )
    )

    assert all(answer["errors"] == [] for answer in answers)
    assert len(await rewards(db, tenant.id, capped["id"])) == 5
    assert len(await rewards(db, tenant.id, limited["id"])) == 3 * 2


async def _refund(town: Programme, till: str, member: str, purchase: str, amount: int) -> None:
    body = await graphql(town.gateway.client, INGEST, {"input": {
        "type": "refund", "source": "till-1", "externalId": uuid.uuid4().hex,
        "memberId": member, "occurredAt": datetime.now(UTC).isoformat(),
        "payload": {"amount": amount, "currency": "EUR", "purchaseExternalId": purchase},
    }}, api_key=till)  # fmt: skip
    assert body["data"]["eventIngest"]["errors"] == [], body


async def _buy(town: Programme, till: str, member: str, external_id: str) -> None:
    body = await graphql(town.gateway.client, INGEST, {"input": {
        "type": "purchase", "source": "till-1", "externalId": external_id,
        "memberId": member, "occurredAt": datetime.now(UTC).isoformat(),
        "payload": {"amount": 1_000, "currency": "EUR"},
    }}, api_key=till)  # fmt: skip
    assert body["data"]["eventIngest"]["errors"] == [], body


async def test_a_full_refund_gives_the_budget_cap_and_members_limit_back_a_partial_one_keeps_them(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Programme.start(make_app, db, tenant, with_clearing=False)
    scarce = await town.create(offer_input("One only", value="30", budget=1, dailyCap=1))
    once = await town.create(offer_input("Once each", value="5"))
    mia, lukas, emma = [await town.member() for _ in range(3)]
    till = await pos_key(town.gateway.client, tenant.id)

    await _buy(town, till, mia, "mia-1")
    await _refund(town, till, mia, "mia-1", 400)  # partial: the claims are kept
    await _buy(town, till, lukas, "lukas-1")
    await _buy(town, till, mia, "mia-2")
    assert len(await rewards(db, tenant.id, scarce["id"])) == 1  # the budget is still used
    assert len(await rewards(db, tenant.id, once["id"])) == 2  # Mia's and Lukas's, once each

    await _refund(town, till, mia, "mia-1", 600)  # the rest: the reward is reversed in full
    assert await used(db, tenant.id, scarce["id"]) == 0
    await _buy(town, till, emma, "emma-1")  # another member takes the budget given back
    await _buy(town, till, mia, "mia-3")  # and Mia's limit of the other offer is hers again

    assert await rewards(db, tenant.id, scarce["id"]) == [(30, 30), (30, 0)]
    assert await used(db, tenant.id, scarce["id"]) == 1
    assert sorted(await rewards(db, tenant.id, once["id"])) == [(5, 0), (5, 0), (5, 0), (5, 5)]


async def test_claims_given_back_by_refunds_and_taken_by_purchases_at_once_add_up_exactly(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Programme.start(make_app, db, tenant, with_clearing=False)
    second = await make_app()
    offer = await town.create(
        offer_input("Three a day", value="20", budget=3, dailyCap=3, perMemberLimit=100)
    )
    first = [await town.member() for _ in range(3)]
    others = [await town.member() for _ in range(4)]
    till = await pos_key(town.gateway.client, tenant.id)
    for n, member in enumerate(first):
        await _buy(town, till, member, f"first-{n}")
    assert await used(db, tenant.id, offer["id"]) == 3

    gateways = [town.gateway, second]
    await asyncio.gather(
        *(
            _refund(Programme(gateways[n % 2], tenant, db), till, m, f"first-{n}", 1_000)
            for n, m in enumerate(first)
        ),
        *(
            _buy(Programme(gateways[n % 2], tenant, db), till, others[n % 4], f"later-{n}")
            for n in range(12)
        ),
    )

    held = [r for r in await rewards(db, tenant.id, offer["id"]) if r == (20, 0)]
    assert await used(db, tenant.id, offer["id"]) == len(held) <= 3
    assert await day_used(db, tenant.id, offer["id"]) == len(held)
    for n in range(3 - len(held)):  # what is left of the budget rewards exactly that many
        await _buy(town, till, others[0], f"last-{n}")
    await _buy(town, till, others[1], "one-too-many")
    assert await used(db, tenant.id, offer["id"]) == 3
    assert len([r for r in await rewards(db, tenant.id, offer["id"]) if r == (20, 0)]) == 3
