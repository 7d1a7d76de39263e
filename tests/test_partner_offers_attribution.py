"""Attribution on purchases, in the writer's transaction: a budget exact under concurrency on
two gateways, terms frozen at activation, items by SKU and category, the minimum spend at its
edge, and a partial refund reversing the right share, in the ledger and in clearing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp

from tests.api import pos_key
from tests.clearing import BLOCK_PURCHASE, PARTNER_UPDATE, clearing_balances
from tests.partner_offers import (
    ACTIVATE,
    SYNC,
    Programme,
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
