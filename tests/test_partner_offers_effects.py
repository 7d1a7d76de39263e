"""An offer whose reward is another module's rule effect (a gift card of the giftcards
module): checked when saved (an unknown effect, a module not enabled, bad parameters, a
partner funding it: refused, nothing saved), paid once per qualifying purchase within the
member's limit (a replayed purchase pays nothing twice), and, when the effect fails at run
time, undone with its claims, counted on the offer, and the purchase goes through. Checked
on update and sync too, and frozen at activation like the other terms."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, enable_for, graphql

from tests.api import pos_key
from tests.clearing import INGEST
from tests.partner_offers import (
    ACTIVATE,
    CREATE,
    OFFERS,
    SYNC,
    UPDATE,
    Programme,
    offer_input,
    rewards,
    used,
)

GIFT = {"kind": "giftcards.issue_gift_card", "params": {"amount": 1500}}
CARDS = "query($id: ID!) { member(id: $id) { giftCards { balance currency } } }"
EFFECT_TERMS = "terms { reward value effect { kind params } }"


def _gift(title: str, **extra: Any) -> dict[str, Any]:
    offer = offer_input(title, reward="EFFECT", **extra)
    del offer["value"]
    return {"effect": GIFT, **offer}


async def _refused(town: Programme, offer: dict[str, Any], **extra: Any) -> list[tuple[str, str]]:
    payload = await town.mutate(CREATE, {"offer": offer, **extra})
    return [(e["code"], e["field"]) for e in payload["errors"]]


NOW = datetime.now(UTC)


async def _buy(
    town: Programme, till: str, member: str, external_id: str, at: datetime = NOW
) -> dict[str, Any]:
    event = {
        "type": "purchase",
        "source": "till-1",
        "externalId": external_id,
        "memberId": member,
        "occurredAt": at.isoformat(),
        "payload": {"amount": 2_000, "currency": "EUR"},
    }
    body = await graphql(town.gateway.client, INGEST, {"input": event}, api_key=till)
    assert body["data"]["eventIngest"]["errors"] == [], body
    answer: dict[str, Any] = body["data"]["eventIngest"]
    return answer


async def test_an_offer_paying_a_gift_card_is_checked_when_saved_and_pays_it_once(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Programme.start(make_app, db, tenant)
    cinema = await town.partner("Cinema")

    # giftcards is installed but not enabled, then an unknown effect, then bad parameters
    assert await _refused(town, _gift("Gift")) == [("MODULE_NOT_ENABLED", "effect.kind")]
    settings = {"currencies": ["EUR"], "max_balance": 10_000}
    await enable_for(db, town.gateway.registry, tenant, "giftcards", settings)
    unknown = {**_gift("Gift"), "effect": {"kind": "nowhere.nothing"}}
    assert await _refused(town, unknown) == [("UNKNOWN_EFFECT", "effect.kind")]
    zero = {**_gift("Gift"), "effect": {"kind": GIFT["kind"], "params": {"amount": 0}}}
    assert await _refused(town, zero) == [("INVALID_INPUT", "effect.params.amount")]
    assert await _refused(town, {**_gift("Gift"), "value": "5"}) == [("INVALID_INPUT", "value")]
    assert await _refused(town, _gift("Gift"), partnerId=cinema) == [("INVALID_INPUT", "reward")]
    no_effect = offer_input("Gift", reward="EFFECT")
    del no_effect["value"]
    assert await _refused(town, no_effect) == [("INVALID_INPUT", "effect")]
    listed = await town.admin(OFFERS, {"first": 10})
    assert listed["data"]["offers"]["edges"] == []  # nothing saved

    offer = await town.create(_gift("A gift card on your next purchase", budget=10))
    shown = await town.admin(f"query($id: ID!) {{ offer(id: $id) {{ {EFFECT_TERMS} }} }}", {
        "id": offer["id"]
    })  # fmt: skip
    assert shown["data"]["offer"]["terms"] == {
        "reward": "EFFECT",
        "value": None,
        "effect": {"kind": GIFT["kind"], "params": {"amount": 1500, "currency": "EUR"}},
    }
    member = await town.member()
    till = await pos_key(town.gateway.client, tenant.id)

    first = await _buy(town, till, member, "ticket-1")
    replayed = await _buy(town, till, member, "ticket-1")
    second = await _buy(town, till, member, "ticket-2")  # beyond the member's limit of 1

    assert replayed["event"]["id"] == first["event"]["id"]
    assert second["errors"] == []
    cards = await town.admin(CARDS, {"id": member})
    assert cards["data"]["member"]["giftCards"] == [{"balance": 1500, "currency": "EUR"}]
    assert await rewards(db, tenant.id, offer["id"]) == [(0, 0)]
    assert await used(db, tenant.id, offer["id"]) == 1


async def test_an_effect_that_fails_at_run_time_is_undone_counted_and_the_purchase_goes_through(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Programme.start(make_app, db, tenant, with_clearing=False)
    settings = {"currencies": ["EUR"], "max_balance": 10_000}
    await enable_for(db, town.gateway.registry, tenant, "giftcards", settings)
    too_much = {"kind": GIFT["kind"], "params": {"amount": 99_999}}  # above the max balance
    offer = await town.create({**_gift("Too generous", budget=5), "effect": too_much})
    member = await town.member()
    till = await pos_key(town.gateway.client, tenant.id)

    bought = await _buy(town, till, member, uuid.uuid4().hex)

    assert len(bought["transactions"]) == 1  # the base earn, and nothing of the offer
    assert await rewards(db, tenant.id, offer["id"]) == []
    assert await used(db, tenant.id, offer["id"]) == 0  # the budget's claim was undone too
    failures = await town.admin(
        "query($id: ID!) { offer(id: $id) { effectFailures } }", {"id": offer["id"]}
    )
    assert failures["data"]["offer"]["effectFailures"] == 1
    cards = await town.admin(CARDS, {"id": member})
    assert cards["data"]["member"]["giftCards"] == []


async def test_an_effect_is_frozen_at_activation_and_checked_on_update_and_sync(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Programme.start(make_app, db, tenant, with_clearing=False)
    settings = {"currencies": ["EUR"], "max_balance": 10_000}
    await enable_for(db, town.gateway.registry, tenant, "giftcards", settings)
    offer = await town.create(_gift("Clip a gift card", activation="CLIP"))
    member = await town.member()
    activated = await town.as_member(member, ACTIVATE, {"input": {"offerId": offer["id"]}})
    assert activated["data"]["offerActivate"]["errors"] == []

    smaller = {**_gift("Clip a gift card", activation="CLIP"),
               "effect": {"kind": GIFT["kind"], "params": {"amount": 500}}}  # fmt: skip
    bad = {**smaller, "effect": {"kind": "nowhere.nothing"}}
    refused = await town.mutate(UPDATE, {"id": offer["id"], "offer": bad})
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [
        ("UNKNOWN_EFFECT", "effect.kind")
    ]
    changed = await town.mutate(UPDATE, {"id": offer["id"], "offer": smaller})
    assert changed["errors"] == []
    synced = await town.mutate(SYNC, {"offers": [
        {"externalId": "gift", "version": 1, "offer": bad}
    ]})  # fmt: skip
    assert [(e["code"], e["field"]) for e in synced["errors"]] == [
        ("UNKNOWN_EFFECT", "offers[0].effect.kind")
    ]
    till = await pos_key(town.gateway.client, tenant.id)

    await _buy(town, till, member, uuid.uuid4().hex, datetime.now(UTC))

    cards = await town.admin(CARDS, {"id": member})  # the terms it activated: 15.00 EUR
    assert cards["data"]["member"]["giftCards"] == [{"balance": 1500, "currency": "EUR"}]
    listed = await town.admin(OFFERS, {"first": 10})
    assert len(listed["data"]["offers"]["edges"]) == 1  # the refused sync saved nothing

    # in bulk (NDJSON), the operator's own catalogue: the same check, the same effect
    url = "/modules/partner_offers/catalog"
    auth = {"Authorization": f"Bearer {admin_token(tenant.id)}"}
    line = {"externalId": "gift", "version": 1, "offer": bad}
    refused_bulk = await town.gateway.client.post(url, content=json.dumps(line), headers=auth)
    assert refused_bulk.status_code == 400
    assert (refused_bulk.json()["code"], refused_bulk.json()["field"]) == (
        "UNKNOWN_EFFECT",
        "offers[0].effect.kind",
    )
    line = {"externalId": "gift", "version": 1, "offer": smaller}
    bulk = await town.gateway.client.post(url, content=json.dumps(line), headers=auth)
    assert bulk.json() == {"synced": 1, "written": 1}
    shown = await town.admin(f"{{ offers(first: 10) {{ edges {{ node {{ {EFFECT_TERMS} }} }} }} }}")
    params = [e["node"]["terms"]["effect"]["params"] for e in shown["data"]["offers"]["edges"]]
    assert params == [{"amount": 500, "currency": "EUR"}] * 2


async def test_an_effect_offers_budget_holds_under_concurrent_purchases_on_two_gateways(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    town = await Programme.start(make_app, db, tenant, with_clearing=False)
    second = await make_app()
    settings = {"currencies": ["EUR"], "max_balance": 10_000}
    await enable_for(db, town.gateway.registry, tenant, "giftcards", settings)
    offer = await town.create(_gift("Three cards", budget=3, perMemberLimit=100))
    members = [await town.member() for _ in range(4)]
    till = await pos_key(town.gateway.client, tenant.id)
    gateways = [town.gateway, second]

    await asyncio.gather(
        *(
            _buy(Programme(gateways[n % 2], tenant, db), till, members[n % 4], f"c-{n}")
            for n in range(12)
        )
    )

    assert await rewards(db, tenant.id, offer["id"]) == [(0, 0)] * 3
    assert await used(db, tenant.id, offer["id"]) == 3
    cards = [
        card
        for member in members
        for card in (await town.admin(CARDS, {"id": member}))["data"]["member"]["giftCards"]
    ]
    assert len(cards) == 3
