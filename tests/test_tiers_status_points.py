"""Status points only count: the tiers module's status asset is not spendable, and the
core's ledger refuses every way of spending it (a redemption, a transfer, a hold for a
payment) with ASSET_NOT_SPENDABLE, writing nothing, while an operator's adjustment and a
refund's reversal still lower it. A property test drives random sequences of these calls
through the API and checks the balance never falls but by an adjustment."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, RunningGateway, create_test_tenant, enable_for, graphql

from tests.api import POINTS_ADJUST
from tests.payments import authorize
from tests.rewards import REWARD_CREATE
from tests.tiers import SPEND_LADDER, TierShop

REDEEM = """
mutation($input: PointsRedeemInput!) {
  pointsRedeem(input: $input) { transaction { id } errors { code field message } }
}
"""
TRANSFER = """
mutation($input: PointsTransferInput!) {
  pointsTransfer(input: $input) { transaction { id } errors { code field message } }
}
"""
ASSETS = "{ tenant { assets { code kind spendable } } }"
STATUS_LADDER: dict[str, Any] = {
    **SPEND_LADDER,
    "metric": "STATUS_POINTS",
    "levels": [{"name": "silver", "threshold": 100}, {"name": "gold", "threshold": 300}],
}
STATUS_VALUE: dict[str, object] = {
    "point_values": [{"asset": "status", "currency": "EUR", "value": "1"}]
}


class StatusShop(TierShop):
    """A tiers shop whose till also takes payments, with calls on the status asset."""

    async def adjust(self, member: str, amount: int) -> dict[str, Any]:
        data = await self.admin_call(
            POINTS_ADJUST,
            {
                "input": {
                    "memberId": member,
                    "assetCode": "status",
                    "amount": amount,
                    "reason": "goodwill",
                    "idempotencyKey": str(uuid.uuid4()),
                }
            },
        )
        payload: dict[str, Any] = data["pointsAdjust"]
        return payload

    async def redeem(self, member: str, amount: int, asset: str = "status") -> dict[str, Any]:
        body = await graphql(
            self.client,
            REDEEM,
            {
                "input": {
                    "memberId": member,
                    "assetCode": asset,
                    "amount": amount,
                    "reason": "a coffee",
                    "idempotencyKey": str(uuid.uuid4()),
                }
            },
            api_key=self.key,
        )
        payload: dict[str, Any] = body["data"]["pointsRedeem"]
        return payload

    async def transfer(self, sender: str, recipient: str, amount: int) -> dict[str, Any]:
        body = await graphql(
            self.client,
            TRANSFER,
            {
                "input": {
                    "senderId": sender,
                    "recipientId": recipient,
                    "assetCode": "status",
                    "amount": amount,
                    "reason": "a gift",
                    "idempotencyKey": str(uuid.uuid4()),
                }
            },
            api_key=self.key,
        )
        payload: dict[str, Any] = body["data"]["pointsTransfer"]
        return payload

    async def pay(self, member: str, amount: int) -> dict[str, Any]:
        return await authorize(
            self.gateway,
            self.key,
            amount=amount,
            memberId=member,
            tenders=[{"tender": "POINTS", "asset": "status"}],
        )

    async def status(self, member: str) -> tuple[int, int]:
        """(available, held) of the member's status points."""
        data = await self.admin_call(
            "query($id: ID!) { member(id: $id) { balances { asset { code } available held } } }",
            {"id": member},
        )
        found = [b for b in data["member"]["balances"] if b["asset"]["code"] == "status"]
        return (int(found[0]["available"]), int(found[0]["held"])) if found else (0, 0)


async def _shop(make_app: MakeApp, db: Database, tenant: Tenant, **kw: Any) -> StatusShop:
    shop = await StatusShop.start(make_app, db, tenant, STATUS_LADDER, **kw)
    await enable_for(db, shop.gateway.registry, tenant, "payment", STATUS_VALUE)
    return shop


def _codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["errors"]]


async def test_the_status_asset_is_not_spendable_and_every_spend_path_refuses_it(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await _shop(make_app, db, tenant)
    assets = {a["code"]: a for a in (await shop.admin_call(ASSETS))["tenant"]["assets"]}
    assert assets["status"]["spendable"] is False
    assert assets["points"]["spendable"] is True
    await shop.campaign(
        "Status on every purchase",
        effects=[{"kind": "assetAward", "params": {"asset": "status", "amount": 120}}],
    )
    mia, lukas = await shop.member(), await shop.member()
    await shop.event(mia, 1_000, external_id="p-1")
    await shop.event(mia, 1_000, external_id="p-2")
    assert await shop.status(mia) == (240, 0)
    assert await shop.level(mia) == "silver"

    redeemed = await shop.redeem(mia, 100)
    assert redeemed["transaction"] is None
    assert redeemed["errors"][0]["code"] == "ASSET_NOT_SPENDABLE"
    assert redeemed["errors"][0]["field"] == "assetCode"
    assert _codes(await shop.transfer(mia, lukas, 100)) == ["ASSET_NOT_SPENDABLE"]
    assert _codes(await shop.pay(mia, 100)) == ["ASSET_NOT_SPENDABLE"]
    assert await shop.status(mia) == (240, 0)
    assert await shop.status(lukas) == (0, 0)

    # What may still lower it: a refund's reversal and an operator's adjustment.
    await shop.refund(mia, "p-2", 1_000)
    assert await shop.status(mia) == (120, 0)
    assert (await shop.adjust(mia, -20))["errors"] == []
    assert await shop.status(mia) == (100, 0)
    # The spendable points the purchases earned beside them are spent as always.
    points = await shop.balance(mia)
    assert points > 0
    assert _codes(await shop.redeem(mia, points, asset="points")) == []


async def test_an_admin_makes_an_asset_not_spendable_only_for_points(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await _shop(make_app, db, tenant)
    created = await shop.admin_call(
        'mutation { assetCreate(input: {code: "miles", name: "Status miles", spendable: false})'
        " { asset { code spendable } errors { code field } } }"
    )
    assert created["assetCreate"] == {
        "asset": {"code": "miles", "spendable": False},
        "errors": [],
    }
    money = await shop.admin_call(
        'mutation { assetCreate(input: {code: "eur", name: "Euro", kind: MONEY, scale: 2,'
        " spendable: false}) { asset { code } errors { code field } } }"
    )
    assert money["assetCreate"] == {
        "asset": None,
        "errors": [{"code": "INVALID_INPUT", "field": "spendable"}],
    }
    member = await shop.member()
    adjusted = await shop.admin_call(
        POINTS_ADJUST,
        {
            "input": {
                "memberId": member,
                "assetCode": "miles",
                "amount": 50,
                "reason": "welcome",
                "idempotencyKey": "miles-1",
            }
        },
    )
    assert adjusted["pointsAdjust"]["errors"] == []
    spend = {
        "input": {
            "memberId": member,
            "assetCode": "miles",
            "amount": 10,
            "reason": "coffee",
            "idempotencyKey": "spend-1",
        }
    }
    refused = await graphql(shop.client, REDEEM, spend, api_key=shop.key)
    assert _codes(refused["data"]["pointsRedeem"]) == ["ASSET_NOT_SPENDABLE"]
    updated = await shop.admin_call(
        'mutation { assetUpdate(input: {code: "miles", spendable: true})'
        " { asset { spendable } errors { code } } }"
    )
    assert updated["assetUpdate"] == {"asset": {"spendable": True}, "errors": []}
    spent = await graphql(shop.client, REDEEM, spend, api_key=shop.key)
    assert spent["data"]["pointsRedeem"]["errors"] == []


async def test_enabling_tiers_makes_an_existing_status_asset_not_spendable(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await StatusShop.open(gateway.client, tenant)
    created = await shop.admin_call(
        'mutation { assetCreate(input: {code: "status", name: "Status"}) { errors { code } } }'
    )
    assert created["assetCreate"]["errors"] == []
    await enable_for(db, gateway.registry, tenant, "tiers", {})
    assets = {a["code"]: a for a in (await shop.admin_call(ASSETS))["tenant"]["assets"]}
    assert assets["status"]["spendable"] is False
    refused = await graphql(
        gateway.client,
        'mutation { moduleEnable(input: {name: "tiers", settings: {status_asset: "points"}})'
        " { errors { code field } } }",
        token=shop.admin,
    )
    assert refused["data"]["moduleEnable"]["errors"][0]["code"] == "INVALID_SETTINGS"


_gateway: list[RunningGateway] = []
calls = st.lists(
    st.tuples(
        st.sampled_from(["credit", "debit", "redeem", "transfer", "pay"]),
        st.integers(min_value=1, max_value=300),
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=calls)
async def test_no_api_call_but_an_adjustment_lowers_status_points(
    make_app: MakeApp, db: Database, steps: list[tuple[str, int]]
) -> None:
    if not _gateway:
        _gateway.append(await make_app())
    tenant = await create_test_tenant(db)
    shop = await _shop(make_app, db, tenant, gateway=_gateway[0])
    member, other = await shop.member(), await shop.member()
    assert (await shop.adjust(member, 200))["errors"] == []
    expected = 200
    for call, amount in steps:
        if call == "credit":
            assert (await shop.adjust(member, amount))["errors"] == []
            expected += amount
        elif call == "debit":
            found = _codes(await shop.adjust(member, -amount))
            if amount <= expected:
                assert found == []
                expected -= amount
            else:
                assert found == ["INSUFFICIENT_BALANCE"]
        elif call == "redeem":
            assert _codes(await shop.redeem(member, amount)) == ["ASSET_NOT_SPENDABLE"]
        elif call == "transfer":
            assert _codes(await shop.transfer(member, other, amount)) == ["ASSET_NOT_SPENDABLE"]
        else:
            assert _codes(await shop.pay(member, amount)) == (
                ["ASSET_NOT_SPENDABLE"] if expected else []
            )
        assert await shop.status(member) == (expected, 0)
    assert await shop.status(other) == (0, 0)


async def test_a_reward_cannot_be_priced_in_status_points(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await _shop(make_app, db, tenant)
    await enable_for(db, shop.gateway.registry, tenant, "rewards", {})
    priced = {"name": "A tote bag", "kind": "PHYSICAL", "points": 100}

    refused = await shop.admin_call(REWARD_CREATE, {"i": {**priced, "asset": "status"}})
    assert [(e["code"], e["field"]) for e in refused["rewardCreate"]["errors"]] == [
        ("ASSET_NOT_SPENDABLE", "asset")
    ]
    made = await shop.admin_call(REWARD_CREATE, {"i": priced})
    assert made["rewardCreate"]["errors"] == []
