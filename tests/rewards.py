"""What the rewards tests share: a shop with rewards enabled, a till and a member with points,
and the operations as a till, a member and an admin send them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, RunningGateway, admin_token, enable_for, graphql

from tests.api import credit, enrol, pos_key
from tests.payments import ledger_reconciles

REDEMPTION = """
  redemption { id status fulfilment points spendTransactionId giveBackTransactionId }
  voucher { id lastFour status uses discount }
  code entitlement { name expiresAt } replayed errors { code field message }
"""
REWARD_CREATE = (
    "mutation($i: RewardCreateInput!) { rewardCreate(input: $i) "
    "{ reward { id kind stock points } errors { code field message } } }"
)
REWARD_REDEEM = "mutation($i: RewardRedeemInput!) { rewardRedeem(input: $i) {" + REDEMPTION + "} }"
REWARD_CANCEL = (
    "mutation($i: RewardRedemptionCancelInput!) { rewardRedemptionCancel(input: $i) {"
    + REDEMPTION
    + "} }"
)
VALIDATE = (
    "query($c: String!, $b: BasketInput!, $k: String) { voucherValidate(code: $c, basket: $b, "
    "checkoutId: $k) { valid discount refusal reason voucher { id status } } }"
)
VOUCHER_REDEEM = (
    "mutation($i: VoucherRedeemInput!) { voucherRedeem(input: $i) "
    "{ voucher { id status uses } discount replayed errors { code field message } } }"
)
VOUCHER_RESERVE = (
    "mutation($i: VoucherReserveInput!) { voucherReserve(input: $i) "
    "{ voucher { id } reservedUntil errors { code field message } } }"
)
COFFEE_BASKET = {
    "amount": 850,
    "currency": "EUR",
    "items": [{"sku": "FILTER-COFFEE", "unitPrice": 350}, {"sku": "CROISSANT", "unitPrice": 500}],
}


@dataclass(frozen=True)
class RewardShop:
    gateway: RunningGateway
    db: Database
    tenant: Tenant
    key: str
    member: str

    @classmethod
    async def open(
        cls,
        make_app: MakeApp,
        db: Database,
        tenant: Tenant,
        *,
        points: int = 1_000,
        settings: dict[str, Any] | None = None,
    ) -> RewardShop:
        gateway = await make_app()
        await enable_for(db, gateway.registry, tenant, "rewards", settings or {})
        member = await enrol(gateway.client, tenant.id, f"{uuid.uuid4().hex}@example.com")
        if points:
            await credit(gateway.client, tenant.id, member, points)
        return cls(gateway, db, tenant, await pos_key(gateway.client, tenant.id), member)

    async def admin(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        body = await graphql(
            self.gateway.client, query, variables, token=admin_token(self.tenant.id)
        )
        assert "errors" not in body, body
        return body["data"]

    async def till(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        body = await graphql(self.gateway.client, query, variables, api_key=self.key)
        assert "errors" not in body, body
        return body["data"]

    async def reward(self, **fields: Any) -> str:
        spec = {"name": "Free filter coffee", "kind": "VOUCHER", "points": 100} | fields
        if spec["kind"] == "VOUCHER" and "voucher" not in spec:
            spec["voucher"] = {"discount": "ITEM", "itemSku": "FILTER-COFFEE"}
        payload = (await self.admin(REWARD_CREATE, {"i": spec}))["rewardCreate"]
        assert payload["errors"] == [], payload
        return str(payload["reward"]["id"])

    async def redeem(self, reward_id: str, key: str | None = None, **extra: Any) -> Any:
        variables = {
            "i": {
                "rewardId": reward_id,
                "memberId": self.member,
                "idempotencyKey": key or uuid.uuid4().hex,
                **extra,
            }
        }
        return (await self.till(REWARD_REDEEM, variables))["rewardRedeem"]

    async def cancel(self, redemption_id: str) -> Any:
        return (await self.till(REWARD_CANCEL, {"i": {"id": redemption_id}}))[
            "rewardRedemptionCancel"
        ]

    async def validate(self, code: str, basket: dict[str, Any] | None = None) -> Any:
        variables = {"c": code, "b": basket or COFFEE_BASKET}
        return (await self.till(VALIDATE, variables))["voucherValidate"]

    async def use(self, code: str, key: str | None = None, **extra: Any) -> Any:
        variables = {
            "i": {"code": code, "basket": COFFEE_BASKET, "idempotencyKey": key or uuid.uuid4().hex}
            | extra
        }
        return (await self.till(VOUCHER_REDEEM, variables))["voucherRedeem"]

    async def reconciles(self) -> None:
        async with self.db.tenant_transaction(self.tenant.id) as conn:
            await ledger_reconciles(conn, self.tenant.id)
