"""The GraphQL operations and the NDJSON route of partner offers: sync replayed and out of
order, a partner's credential scoped to its own catalogue and performance, partner-funded
offers refused without clearing, members' offers, hiding, and unknown ids."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_partner_offers.tables import offers
from loyalty_testing import MakeApp, admin_token, create_test_tenant
from sqlalchemy import func, select

from tests.api import pos_key
from tests.partner_offers import (
    ACTIVATE,
    HIDE,
    MEMBER_OFFERS,
    OFFERS,
    ONE,
    PERFORMANCE,
    RETIRE,
    SYNC,
    UPDATE,
    Programme,
    offer_input,
    offers_seen,
    rewards,
)


def _item(version: int, value: str, external_id: str = "tue-2x") -> dict[str, Any]:
    return {
        "externalId": external_id,
        "version": version,
        "offer": offer_input("Double points on Tuesdays", value=value),
    }


async def _updated_at(db: Database, tenant: Tenant) -> list[tuple[str, int, object]]:
    async with db.tenant_transaction(tenant.id) as conn:
        rows = await conn.execute(
            select(offers.c.external_id, offers.c.version, offers.c.updated_at).order_by(
                offers.c.external_id
            )
        )
        return [(r.external_id, r.version, r.updated_at) for r in rows]


async def test_a_sync_replayed_or_out_of_order_keeps_the_newest_version_and_writes_nothing(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Programme.start(make_app, db, tenant)
    await town.partner("Cinema")
    newest = await town.as_partner("Cinema", SYNC, {"input": {"offers": [_item(5, "80")]}})
    [result] = newest["data"]["offerCatalogSync"]["results"]
    assert (result["written"], result["offer"]["version"]) == (True, 5)
    stored = await _updated_at(db, tenant)

    late = await town.as_partner("Cinema", SYNC, {"input": {"offers": [_item(3, "10")]}})
    replay = await town.as_partner("Cinema", SYNC, {"input": {"offers": [_item(5, "80")]}})
    for body in (late, replay):
        [again] = body["data"]["offerCatalogSync"]["results"]
        assert again["written"] is False
        assert (again["offer"]["version"], again["offer"]["terms"]["value"]) == (5, "80")
    assert await _updated_at(db, tenant) == stored  # not a row touched


async def test_a_partners_key_syncs_and_reads_only_its_own_catalogue_and_performance(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Programme.start(make_app, db, tenant)
    cinema = await town.partner("Cinema")
    await town.partner("Drugstore")
    await town.as_partner("Cinema", SYNC, {"input": {"offers": [_item(1, "30")]}})
    drug = await town.as_partner(
        "Drugstore", SYNC, {"input": {"offers": [_item(1, "50", "first-buy")]}}
    )
    drug_offer = drug["data"]["offerCatalogSync"]["results"][0]["offer"]
    # the same external id in two partners' catalogues are two offers
    other = await town.as_partner(
        "Drugstore", SYNC, {"input": {"offers": [_item(1, "50", "tue-2x")]}}
    )
    assert other["data"]["offerCatalogSync"]["results"][0]["written"] is True
    member = await town.member()
    await town.buy("Cinema", member, 1_000)
    await town.buy("Drugstore", member, 1_000)

    listed = await town.as_partner("Cinema", OFFERS, {"first": 10})
    nodes = [edge["node"] for edge in listed["data"]["offers"]["edges"]]
    assert {node["partnerId"] for node in nodes} == {cinema}
    assert (await town.as_partner("Cinema", ONE, {"id": drug_offer["id"]}))["data"] == {
        "offer": None
    }
    retire = await town.as_partner("Cinema", RETIRE, {"input": {"id": drug_offer["id"]}})
    assert [e["code"] for e in retire["data"]["offerRetire"]["errors"]] == ["NOT_FOUND"]
    on_behalf = await town.as_partner(
        "Cinema", SYNC, {"input": {"partnerId": drug_offer["partnerId"], "offers": []}}
    )
    assert [e["field"] for e in on_behalf["data"]["offerCatalogSync"]["errors"]] == ["partnerId"]

    today = datetime.now(UTC).date()
    span = {"since": (today - timedelta(days=1)).isoformat(), "until": today.isoformat()}
    own = (await town.as_partner("Cinema", PERFORMANCE, span))["data"]["offerPerformance"]
    everyone = (await town.admin(PERFORMANCE, span))["data"]["offerPerformance"]
    cinema_ids = {node["id"] for node in nodes}
    assert {row["offerId"] for row in own["rows"]} == cinema_ids
    assert [row["redemptions"] for row in own["rows"]] == [1]
    assert len({row["offerId"] for row in everyone["rows"]}) == 3
    assert own["csv"].splitlines()[0].startswith("day,offer_id,external_id,title")
    assert len(own["csv"].splitlines()) == 2


async def test_a_partner_funded_offer_without_clearing_is_module_not_enabled(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Programme.start(make_app, db, tenant, with_clearing=False)
    created = await town.mutate(
        "mutation($input: OfferCreateInput!) { offerCreate(input: $input) {"
        " offer { id } errors { code field } } }",
        {"offer": offer_input(), "partnerId": str(uuid.uuid4())},
    )
    assert created == {
        "offer": None,
        "errors": [{"code": "MODULE_NOT_ENABLED", "field": "partnerId"}],
    }
    synced = await town.mutate(SYNC, {"partnerId": str(uuid.uuid4()), "offers": [_item(1, "5")]})
    assert [e["code"] for e in synced["errors"]] == ["MODULE_NOT_ENABLED"]
    own = await town.create(offer_input("Our own: 20 points"))
    assert own["partnerId"] is None


PAGE = """query($id: ID!, $after: String, $state: MemberOfferState) { member(id: $id) {
  offers(first: 2, after: $after, state: $state) {
    edges { node { state offer { title } } } pageInfo { hasNextPage endCursor } } } }"""


async def test_a_members_offers_come_in_pages_and_by_state(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Programme.start(make_app, db, tenant, with_clearing=False)
    titles = [f"Offer {n}" for n in range(5)]
    made = [await town.create(offer_input(title, activation="CLIP")) for title in titles]
    member = await town.member()
    picked = await town.as_member(member, ACTIVATE, {"input": {"offerId": made[3]["id"]}})
    assert picked["data"]["offerActivate"]["errors"] == []

    pages: list[list[str]] = []
    after: str | None = None
    while True:
        body = await town.as_member(member, PAGE, {"id": member, "after": after})
        listed = body["data"]["member"]["offers"]
        pages.append([edge["node"]["offer"]["title"] for edge in listed["edges"]])
        if not listed["pageInfo"]["hasNextPage"]:
            break
        after = listed["pageInfo"]["endCursor"]
    assert pages == [titles[0:2], titles[2:4], titles[4:]]  # the catalogue's order

    activated = await town.as_member(member, PAGE, {"id": member, "state": "ACTIVATED"})
    nodes = [edge["node"] for edge in activated["data"]["member"]["offers"]["edges"]]
    assert nodes == [{"state": "ACTIVATED", "offer": {"title": "Offer 3"}}]
    other = await town.member()  # a cursor of one member's list is not another's
    foreign = await town.as_member(other, PAGE, {"id": other, "after": after})
    assert foreign["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_members_see_activate_and_hide_their_offers(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Programme.start(make_app, db, tenant, with_clearing=False)
    clip = await town.create(offer_input("Clip me", activation="CLIP", value="40"))
    auto = await town.create(offer_input("For everyone", value="5"))
    member = await town.member()

    seen = await town.as_member(member, MEMBER_OFFERS, {"id": member})
    states = {o["offer"]["title"]: o["state"] for o in offers_seen(seen)}
    assert states == {"Clip me": "AVAILABLE", "For everyone": "AVAILABLE"}

    activated = await town.as_member(member, ACTIVATE, {"input": {"offerId": clip["id"]}})
    assert activated["data"]["offerActivate"]["memberOffer"]["state"] == "ACTIVATED"
    hidden = await town.as_member(member, HIDE, {"input": {"offerId": auto["id"]}})
    assert hidden["data"]["offerHide"] == {"hidden": True, "errors": []}

    key_secret = await _till(town)
    await town.till(key_secret, member, 1_000, [])
    seen = await town.as_member(member, MEMBER_OFFERS, {"id": member})
    assert [(o["offer"]["title"], o["state"], o["redeemed"]) for o in offers_seen(seen)] == [
        ("Clip me", "REDEEMED", 1)
    ]
    assert await rewards(db, tenant.id, clip["id"]) == [(40, 0)]
    assert await rewards(db, tenant.id, auto["id"]) == []

    # another member may not act for this one, and reads nothing of it
    stranger = await town.member()
    foreign = await town.as_member(
        stranger, ACTIVATE, {"input": {"offerId": clip["id"], "memberId": member}}
    )
    assert [e["code"] for e in foreign["data"]["offerActivate"]["errors"]] == ["NOT_FOUND"]


async def test_unknown_and_other_tenants_ids_are_not_found(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Programme.start(make_app, db, tenant, with_clearing=False)
    other_tenant = await create_test_tenant(db)
    other = await Programme.start(make_app, db, other_tenant, with_clearing=False)
    theirs = await other.create(offer_input("Theirs"))
    member = await town.member()
    for offer_id in (theirs["id"], str(uuid.uuid4()), "not-an-id"):
        assert (await town.admin(ONE, {"id": offer_id}))["data"] == {"offer": None}
        updated = await town.mutate(UPDATE, {"id": offer_id, "offer": offer_input()})
        assert [e["code"] for e in updated["errors"]] == ["NOT_FOUND"]
        retired = await town.mutate(RETIRE, {"id": offer_id})
        assert [e["code"] for e in retired["errors"]] == ["NOT_FOUND"]
        activated = await town.mutate(ACTIVATE, {"offerId": offer_id, "memberId": member})
        assert [e["code"] for e in activated["errors"]] == ["NOT_FOUND"]
        hidden = await town.mutate(HIDE, {"offerId": offer_id, "memberId": member})
        assert [e["code"] for e in hidden["errors"]] == ["NOT_FOUND"]


async def test_bad_offers_are_refused_with_their_field_and_write_nothing(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Programme.start(make_app, db, tenant, with_clearing=False)
    bad = [
        (offer_input(title=""), "title"),
        (offer_input(value="0"), "value"),
        (offer_input(value="1.5"), "value"),
        (offer_input(reward="MULTIPLIER", value="1"), "value"),
        (offer_input(ends=datetime.now(UTC) - timedelta(days=2)), "endsAt"),
        (offer_input(budget=0), "budget"),
        (offer_input(segment="member.nope >"), "segment"),
        (offer_input(imageUrl="javascript:alert(1)"), "imageUrl"),
    ]
    for offer, field in bad:
        payload = await town.mutate(
            "mutation($input: OfferCreateInput!) { offerCreate(input: $input) {"
            " errors { code field } } }",
            {"offer": offer},
        )
        assert [e["field"] for e in payload["errors"]] == [field], (offer, payload)
    async with db.tenant_transaction(tenant.id) as conn:
        assert await conn.scalar(select(func.count()).select_from(offers)) == 0


async def test_the_catalogue_in_bulk_as_ndjson(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Programme.start(make_app, db, tenant)
    await town.partner("Cinema")
    lines = [
        {"externalId": f"o-{n}", "version": 1, "offer": offer_input(f"Offer {n}", value="10")}
        for n in range(20)
    ] + [{"externalId": "o-3", "version": 2, "retire": True}]
    body = "\n".join(json.dumps(line) for line in lines).encode()
    url = "/modules/partner_offers/catalog"
    client = town.gateway.client
    headers = {"X-Api-Key": town.keys["Cinema"]}
    sent = await client.post(url, content=body, headers=headers)
    assert (sent.status_code, sent.json()) == (200, {"synced": 21, "written": 21})
    again = await client.post(url, content=body, headers=headers)
    assert again.json() == {"synced": 21, "written": 0}
    broken = body + b'\n{"externalId": "o-99", "version": "one"}'
    refused = await client.post(url, content=broken, headers=headers)
    assert refused.status_code == 400
    assert refused.json()["field"] == "offers[21].version"
    anonymous = await client.post(url, content=body)
    assert anonymous.status_code in (401, 404)
    admin = await client.post(
        url, content=body, headers={"Authorization": f"Bearer {admin_token(tenant.id)}"}
    )
    assert admin.json() == {"synced": 21, "written": 21}  # the retailer's own catalogue
    listed = await town.as_partner("Cinema", OFFERS, {"first": 100})
    statuses = [edge["node"]["status"] for edge in listed["data"]["offers"]["edges"]]
    assert (statuses.count("LIVE"), statuses.count("RETIRED")) == (19, 1)


async def _till(town: Programme) -> str:
    return await pos_key(town.gateway.client, town.tenant.id)


async def test_an_offer_for_a_segment_is_seen_and_activated_only_by_the_members_it_holds_for(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Programme.start(make_app, db, tenant, with_clearing=False)
    regulars = await town.create(
        offer_input("Regulars", activation="CLIP", segment="member.purchaseCount >= 1")
    )
    member = await town.member()

    before = await town.as_member(member, MEMBER_OFFERS, {"id": member})
    refused = await town.as_member(member, ACTIVATE, {"input": {"offerId": regulars["id"]}})
    await town.till(await _till(town), member, 1_000, [])
    after = await town.as_member(member, MEMBER_OFFERS, {"id": member})
    activated = await town.as_member(member, ACTIVATE, {"input": {"offerId": regulars["id"]}})

    assert offers_seen(before) == []
    assert [e["code"] for e in refused["data"]["offerActivate"]["errors"]] == ["NOT_FOUND"]
    assert [o["offer"]["title"] for o in offers_seen(after)] == ["Regulars"]
    assert activated["data"]["offerActivate"]["errors"] == []
