"""Campaigns through the HTTP API on real PostgreSQL: each trigger, condition feature, effect,
window, stacking mode, budget and limit; versioning; refunds; bad definitions."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, graphql, member_token

from tests.api import enrol, pos_key

CAMPAIGN_CREATE = """
mutation($input: CampaignCreateInput!) {
  campaignCreate(input: $input) {
    campaign { id name status version trigger budgetSpent definition }
    errors { code field message }
  }
}
"""
CAMPAIGN_UPDATE = """
mutation($input: CampaignUpdateInput!) {
  campaignUpdate(input: $input) { campaign { id version status } errors { code field message } }
}
"""
CAMPAIGN_ACTIVATE = """
mutation($id: ID!) { campaignActivate(id: $id) { campaign { status } errors { code } } }
"""
CAMPAIGN_DEACTIVATE = """
mutation($id: ID!) { campaignDeactivate(id: $id) { campaign { status } errors { code } } }
"""
INGEST = """
mutation($input: EventIngestInput!) {
  eventIngest(input: $input) {
    transactions { kind reason cause { kind ruleId ruleVersion } }
    errors { code field message }
  }
}
"""
SATURDAY = "2026-11-21T12:00:00Z"
MONDAY = "2026-11-16T12:00:00Z"


class Shop:
    """A tenant's admin and till, talking to one gateway."""

    def __init__(self, client: httpx.AsyncClient, tenant_id: uuid.UUID, key: str) -> None:
        self.client, self.tenant_id, self.key = client, tenant_id, key
        self.admin = admin_token(tenant_id)

    @classmethod
    async def open(cls, client: httpx.AsyncClient, tenant: Tenant, rate: str = "1") -> Shop:
        shop = cls(client, tenant.id, await pos_key(client, tenant.id))
        await shop.admin_call(
            "mutation($r: JSON!) { tenantUpdate(input: {earnRates: $r}) { errors { code } } }",
            {"r": {"EUR": rate}},
        )
        return shop

    async def admin_call(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        body = await graphql(self.client, query, variables, token=self.admin)
        assert "errors" not in body, body
        return body["data"]

    async def campaign(self, name: str = "Campaign", *, activate: bool = True, **spec: Any) -> str:
        data = await self.admin_call(
            CAMPAIGN_CREATE, {"input": {"name": name, "definition": definition(**spec)}}
        )
        payload = data["campaignCreate"]
        assert payload["errors"] == [], payload
        campaign_id = str(payload["campaign"]["id"])
        if activate:
            await self.admin_call(CAMPAIGN_ACTIVATE, {"id": campaign_id})
        return campaign_id

    async def try_campaign(self, **spec: Any) -> list[dict[str, Any]]:
        data = await self.admin_call(
            CAMPAIGN_CREATE, {"input": {"name": "Bad", "definition": definition(**spec)}}
        )
        errors: list[dict[str, Any]] = data["campaignCreate"]["errors"]
        assert data["campaignCreate"]["campaign"] is None or errors == []
        return errors

    async def member(self, email: str | None = None) -> str:
        return await enrol(self.client, self.tenant_id, email or f"{uuid.uuid4().hex}@example.com")

    async def event(
        self,
        member_id: str,
        amount: int = 1000,
        *,
        at: str | None = None,
        type_: str = "purchase",
        payload: dict[str, Any] | None = None,
        external_id: str | None = None,
    ) -> dict[str, Any]:
        body = await graphql(
            self.client,
            INGEST,
            {
                "input": {
                    "type": type_,
                    "source": "till",
                    "externalId": external_id or uuid.uuid4().hex,
                    "memberId": member_id,
                    "payload": payload
                    if payload is not None
                    else {"amount": amount, "currency": "EUR", "orderReference": "r-17"},
                    **({"occurredAt": at} if at else {}),
                }
            },
            api_key=self.key,
        )
        result: dict[str, Any] = body["data"]["eventIngest"]
        assert result["errors"] == [], result
        return result

    async def refund(self, member_id: str, purchase_id: str, amount: int) -> dict[str, Any]:
        payload = {"amount": amount, "currency": "EUR", "purchaseExternalId": purchase_id}
        return await self.event(member_id, type_="refund", payload=payload)

    async def balance(self, member_id: str, asset: str = "points") -> int:
        data = await self.admin_call(
            "query($id: ID!) { member(id: $id) { balances { asset { code } available } } }",
            {"id": member_id},
        )
        found = [b for b in data["member"]["balances"] if b["asset"]["code"] == asset]
        return int(found[0]["available"]) if found else 0

    async def campaigns(self) -> list[dict[str, Any]]:
        data = await self.admin_call(
            "{ campaigns(first: 100) { edges { node { id name version budgetSpent } } } }"
        )
        return [e["node"] for e in data["campaigns"]["edges"]]


def definition(
    *,
    points: int | None = 30,
    effects: list[dict[str, Any]] | None = None,
    trigger: str = "purchase",
    **rest: Any,
) -> dict[str, Any]:
    """A campaign definition; by default 30 points on every purchase."""
    return {
        "trigger": trigger,
        "effects": effects or [{"kind": "points", "params": {"points": points}}],
        **rest,
    }


def campaign_points(result: dict[str, Any]) -> list[str]:
    """Reasons of the campaign transactions an ingestion posted."""
    return [t["reason"] for t in result["transactions"] if t["cause"]["ruleId"]]


async def test_fixed_points_when_the_condition_holds_with_campaign_and_version(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    campaign_id = await shop.campaign("Big basket", condition="event.amount >= 5000")
    member = await shop.member()

    small = await shop.event(member, 1000)
    big = await shop.event(member, 6000)

    assert campaign_points(small) == []
    [cause] = [t["cause"] for t in big["transactions"] if t["cause"]["ruleId"]]
    assert cause == {"kind": "rule", "ruleId": campaign_id, "ruleVersion": 1}
    assert campaign_points(big) == ["Big basket (v1): 30 points on purchase r-17"]
    assert await shop.balance(member) == 10 + 60 + 30


async def test_a_draft_or_deactivated_campaign_awards_nothing(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant, rate="0")
    draft = await shop.campaign(activate=False)
    member = await shop.member()
    await shop.event(member)
    await shop.admin_call(CAMPAIGN_ACTIVATE, {"id": draft})
    await shop.event(member)
    data = await shop.admin_call(CAMPAIGN_DEACTIVATE, {"id": draft})
    await shop.event(member)
    assert data["campaignDeactivate"]["campaign"]["status"] == "INACTIVE"
    assert await shop.balance(member) == 30


async def test_multiplier_on_weekends_only(make_app: MakeApp, tenant: Tenant) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    await shop.campaign(
        "Double weekend",
        effects=[{"kind": "multiplier", "params": {"factor": "2"}}],
        window={"daysOfWeek": [6, 7]},
    )
    member = await shop.member()
    weekend = await shop.event(member, 2550, at=SATURDAY)
    await shop.event(member, 2550, at=MONDAY)
    assert campaign_points(weekend) == ["Double weekend (v1): 2x base on purchase r-17"]
    assert await shop.balance(member) == 25 * 2 + 25


async def test_points_per_currency_unit_round_as_configured(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant, rate="0")
    await shop.campaign(effects=[{"kind": "pointsPerUnit", "params": {"points": "1.5"}}])
    await shop.campaign(
        effects=[{"kind": "pointsPerUnit", "params": {"points": "0.1", "rounding": "up"}}]
    )
    member = await shop.member()
    await shop.event(member, 1099)  # 10.99 EUR: 16.485 down -> 16, 1.099 up -> 2
    assert await shop.balance(member) == 16 + 2


async def test_award_to_another_asset(make_app: MakeApp, tenant: Tenant) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant, rate="0")
    await shop.admin_call(
        'mutation { assetCreate(input: {code: "stamps", name: "Stamps"}) { errors { code } } }'
    )
    await shop.campaign(
        effects=[{"kind": "assetAward", "params": {"asset": "stamps", "amount": 1}}]
    )
    member = await shop.member()
    await shop.event(member)
    await shop.event(member)
    assert await shop.balance(member, "stamps") == 2
    assert await shop.balance(member) == 0


async def test_hours_window_in_the_tenant_time_zone(make_app: MakeApp, tenant: Tenant) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant, rate="0")
    await shop.campaign(window={"hoursFrom": 8, "hoursTo": 10})
    await shop.campaign(
        points=5,
        window={"startsAt": "2026-11-20T00:00:00Z", "endsAt": "2026-11-22T00:00:00Z"},
    )
    member = await shop.member()
    await shop.event(member, at="2026-11-16T09:30:00Z")
    await shop.event(member, at="2026-11-16T10:00:00Z")
    await shop.event(member, at=SATURDAY)
    assert await shop.balance(member) == 30 + 5


async def test_exclusive_campaign_excludes_the_others_and_stacking_ones_add_up(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant, rate="0")
    await shop.campaign(
        points=100, priority=10, stacking="EXCLUSIVE", condition="event.amount > 5000"
    )
    await shop.campaign(points=7, priority=1)
    await shop.campaign(points=3, priority=0)
    member = await shop.member()
    await shop.event(member, 9000)
    assert await shop.balance(member) == 100
    await shop.event(member, 1000)
    assert await shop.balance(member) == 100 + 7 + 3


async def test_fifth_purchase_and_member_attributes_in_conditions(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant, rate="0")
    await shop.campaign(points=500, condition="member.purchaseCount == 5")
    await shop.campaign(
        points=1,
        condition='event.payload.orderReference.startsWith("r-") && member.totalSpend > 2500',
    )
    member = await shop.member()
    for _ in range(6):
        await shop.event(member)
    assert await shop.balance(member) == 500 + 4


async def test_custom_event_type_triggers_a_campaign_on_its_payload(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant, rate="0")
    schema = {"type": "object", "properties": {"stars": {"type": "integer"}}}
    await shop.admin_call(
        'mutation($s: JSON!) { eventTypeSave(input: {name: "review", jsonSchema: $s})'
        " { errors { code } } }",
        {"s": schema},
    )
    await shop.campaign(trigger="review", points=20, condition="event.payload.stars >= 4")
    member = await shop.member()
    await shop.event(member, type_="review", payload={"stars": 5})
    await shop.event(member, type_="review", payload={"stars": 2})
    await shop.event(member, type_="review", payload={})
    assert await shop.balance(member) == 20


async def test_editing_an_active_campaign_makes_a_new_version_named_by_its_awards(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant, rate="0")
    campaign_id = await shop.campaign("Welcome")
    member = await shop.member()
    first = await shop.event(member)
    data = await shop.admin_call(
        CAMPAIGN_UPDATE, {"input": {"id": campaign_id, "definition": definition(points=40)}}
    )
    second = await shop.event(member)
    assert data["campaignUpdate"]["campaign"]["version"] == 2
    assert campaign_points(first) == ["Welcome (v1): 30 points on purchase r-17"]
    assert campaign_points(second) == ["Welcome (v2): 40 points on purchase r-17"]
    assert [t["cause"]["ruleVersion"] for t in second["transactions"]] == [2]


async def test_budget_stops_awards_and_a_refund_credits_it_back(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant, rate="0")
    await shop.campaign(points=60, budget=100)
    member = await shop.member()
    await shop.event(member, external_id="p-1")
    refused = await shop.event(member, external_id="p-2")
    assert campaign_points(refused) == []
    assert (await shop.campaigns())[0]["budgetSpent"] == 60

    await shop.refund(member, "p-1", 500)  # half: 30 points back to the budget
    assert (await shop.campaigns())[0]["budgetSpent"] == 30
    await shop.refund(member, "p-1", 500)
    assert (await shop.campaigns())[0]["budgetSpent"] == 0
    again = await shop.event(member, external_id="p-3")
    assert len(campaign_points(again)) == 1
    assert await shop.balance(member) == 60


async def test_per_member_limits_by_count_and_points_and_refunds_give_them_back(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant, rate="0")
    await shop.campaign(points=10, limits=[{"period": "DAY", "maxAwards": 2}])
    await shop.campaign(points=25, limits=[{"period": "CAMPAIGN", "maxPoints": 50}])
    ada, bob = await shop.member(), await shop.member()
    for n in range(3):
        await shop.event(ada, at="2026-11-16T10:00:00Z", external_id=f"ada-{n}")
    await shop.event(ada, at="2026-11-17T10:00:00Z")
    await shop.event(bob, at="2026-11-16T10:00:00Z")
    assert await shop.balance(ada) == 10 * 3 + 25 * 2
    assert await shop.balance(bob) == 10 + 25

    await shop.refund(ada, "ada-0", 1000)  # the award is given back: one more is allowed
    await shop.event(ada, at="2026-11-16T11:00:00Z")
    assert await shop.balance(ada) == 10 * 3 + 25 * 2


async def test_bad_definitions_are_refused_with_clear_errors_and_nothing_saved(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    cases: dict[str, tuple[dict[str, Any], str, str]] = {
        "invalid CEL": ({"condition": "event.amount >"}, "INVALID_CONDITION", "condition"),
        "unknown field": (
            {"condition": "event.amount > 1 &&\n  event.payload.amont > 3"},
            "INVALID_CONDITION",
            "condition",
        ),
        "unknown effect": ({"effects": [{"kind": "teleport"}]}, "UNKNOWN_EFFECT", "effects.0.kind"),
        "negative points": ({"points": -5}, "INVALID_INPUT", "effects.0.params.points"),
        "empty window": ({"window": {"daysOfWeek": []}}, "INVALID_INPUT", "window.daysOfWeek"),
        "reversed window": (
            {"window": {"startsAt": SATURDAY, "endsAt": MONDAY}},
            "INVALID_INPUT",
            "window.endsAt",
        ),
        "budget below zero": ({"budget": -1}, "INVALID_INPUT", "budget"),
        "unknown trigger": ({"trigger": "teleport"}, "UNKNOWN_EVENT_TYPE", "trigger"),
        "unknown asset": (
            {"effects": [{"kind": "assetAward", "params": {"asset": "gold", "amount": 1}}]},
            "INVALID_INPUT",
            "effects.params.asset",
        ),
    }
    for name, (spec, code, field) in cases.items():
        [error] = await shop.try_campaign(**spec)
        assert (error["code"], error["field"]) == (code, field), name
    [syntax] = await shop.try_campaign(condition="event.amount >")
    [unknown] = await shop.try_campaign(condition="event.amount > 1 &&\n  event.payload.amont > 3")
    assert "line 1, column 15" in syntax["message"]
    assert unknown["message"] == "unknown field 'amont' at line 2, column 17"
    assert await shop.campaigns() == []


async def test_campaigns_are_for_tenant_admins_and_other_tenants_see_nothing(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    campaign_id = await shop.campaign()
    await shop.campaign("Second")
    await shop.campaign("Third")
    page = (
        "query($after: String) { campaigns(first: 2, after: $after) "
        "{ edges { node { name } } pageInfo { hasNextPage endCursor } } }"
    )
    first = (await shop.admin_call(page))["campaigns"]
    rest = (await shop.admin_call(page, {"after": first["pageInfo"]["endCursor"]}))["campaigns"]
    assert [e["node"]["name"] for e in first["edges"] + rest["edges"]] == [
        "Campaign",
        "Second",
        "Third",
    ]
    assert (first["pageInfo"]["hasNextPage"], rest["pageInfo"]["hasNextPage"]) == (True, False)
    body = await graphql(gateway.client, "{ campaigns { edges { cursor } } }", api_key=shop.key)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    other = admin_token(uuid.uuid4())
    body = await graphql(
        gateway.client,
        "query($id: ID!) { campaign(id: $id) { id } }",
        {"id": campaign_id},
        token=other,
    )
    assert body.get("data") in (None, {"campaign": None})


async def test_explain_balance_gives_each_entry_its_cause_in_words(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    campaign_id = await shop.campaign(
        "Double points weekend", effects=[{"kind": "multiplier", "params": {"factor": "2"}}]
    )
    await shop.admin_call(
        CAMPAIGN_UPDATE,
        {
            "input": {
                "id": campaign_id,
                "definition": definition(
                    effects=[{"kind": "multiplier", "params": {"factor": "2"}}]
                ),
            }
        },
    )
    member = await shop.member()
    await shop.event(member, 1700, at=SATURDAY)
    query = (
        "query($id: ID!) { explainBalance(memberId: $id) "
        "{ amount asset kind cause campaignId campaignVersion } }"
    )
    body = await graphql(
        gateway.client, query, {"id": member}, token=member_token(tenant.id, uuid.UUID(member))
    )
    assert body["data"]["explainBalance"] == [
        {
            "amount": 17,
            "asset": "points",
            "kind": "EARN",
            "cause": "Double points weekend (v2): 2x base on purchase r-17",
            "campaignId": campaign_id,
            "campaignVersion": 2,
        },
        {
            "amount": 17,
            "asset": "points",
            "kind": "EARN",
            "cause": "purchase r-17",
            "campaignId": None,
            "campaignVersion": None,
        },
    ]
    other = await shop.member()
    body = await graphql(
        gateway.client, query, {"id": member}, token=member_token(tenant.id, uuid.UUID(other))
    )
    assert body["data"]["explainBalance"] is None


async def test_campaign_points_may_stay_pending(make_app: MakeApp, tenant: Tenant) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant, rate="0")
    await shop.campaign(points=30, pendingDays=14)
    member = await shop.member()
    await shop.event(member)
    data = await shop.admin_call(
        "query($id: ID!) { member(id: $id) { balances { available pending } } }", {"id": member}
    )
    assert data["member"]["balances"] == [{"available": 0, "pending": 30}]
