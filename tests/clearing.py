"""Helpers for the clearing tests: a coalition (a gateway with clearing enabled for a
tenant), partners with keys and rate cards made through the API, purchases, refunds and
redemptions sent with a partner's key, and the ledger's side read straight from the
database to check the statements against."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from loyalty_clearing.tables import movements, statements
from loyalty_core.db.engine import Database
from loyalty_core.ledger.tables import assets, ledger_accounts, ledger_entries
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, RunningGateway, admin_token, enable_for, graphql
from sqlalchemy import func, select

from tests.api import credit, enrol

PARTNER = "id name roles currency status billing creditLimit position"
STATEMENT = (
    "id partnerId periodStartsOn periodEndsOn currency opening pointsIssued issuedAmount "
    "pointsRedeemed redeemedAmount pointsReversed reversalsAmount feesAmount adjustmentsAmount "
    "blocksAmount roundingAmount closing residue lineCount direction netDue"
)
ERRORS = "errors { code field message }"

PARTNER_CREATE = f"""mutation($input: PartnerCreateInput!) {{
  partnerCreate(input: $input) {{ partner {{ {PARTNER} }} {ERRORS} }} }}"""
PARTNER_UPDATE = f"""mutation($input: PartnerUpdateInput!) {{
  partnerUpdate(input: $input) {{ partner {{ {PARTNER} }} {ERRORS} }} }}"""
KEY_CREATE = f"""mutation($input: PartnerApiKeyCreateInput!) {{
  partnerApiKeyCreate(input: $input) {{ apiKeyId secret {ERRORS} }} }}"""
RATE_CARD_SET = f"""mutation($input: PartnerRateCardSetInput!) {{
  partnerRateCardSet(input: $input) {{
    rateCard {{ id version effectiveFrom issuePrice redeemReimbursement }} {ERRORS} }} }}"""
BLOCK_PURCHASE = f"""mutation($input: PartnerPointBlockPurchaseInput!) {{
  partnerPointBlockPurchase(input: $input) {{
    pointBlock {{ id points remaining price }} replayed {ERRORS} }} }}"""
CLOSE = f"""mutation($input: SettlementCloseInput!) {{
  settlementClose(input: $input) {{
    periodStartsOn periodEndsOn replayed statements {{ {STATEMENT} }} {ERRORS} }} }}"""
ADJUST = f"""mutation($input: SettlementAdjustInput!) {{
  settlementAdjust(input: $input) {{ movement {{ id kind amount reason actor }} {ERRORS} }} }}"""
STATEMENTS = f"""query($period: Date, $partnerId: ID) {{
  settlementStatements(period: $period, partnerId: $partnerId, first: 20) {{
    edges {{ node {{ {STATEMENT}
      lines {{ kind points amount rate occurredAt carriedForwardFrom reason }} }} }} }} }}"""
STATEMENT_ONE = (
    f"""query($id: ID!) {{ settlementStatement(id: $id) {{ {STATEMENT} csv json html }} }}"""
)
INGEST = """mutation($input: EventIngestInput!) {
  eventIngest(input: $input) { event { id } transactions { id } errors { code field message } } }"""
REDEEM = """mutation($input: PointsRedeemInput!) {
  pointsRedeem(input: $input) { transaction { id } errors { code field message } } }"""


@dataclass
class Coalition:
    """A tenant running clearing, through one gateway (``gateway``)."""

    gateway: RunningGateway
    tenant: Tenant
    db: Database
    keys: dict[str, str] = field(default_factory=dict)

    @classmethod
    async def open(
        cls, make_app: MakeApp, db: Database, tenant: Tenant, **settings: object
    ) -> Coalition:
        gateway = await make_app()
        await enable_for(
            db, gateway.registry, tenant, "clearing", {"period": "monthly", **settings}
        )
        return cls(gateway, tenant, db)

    async def admin(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return await graphql(
            self.gateway.client, query, variables, token=admin_token(self.tenant.id)
        )

    async def mutate(self, query: str, input: dict[str, Any]) -> dict[str, Any]:
        """An admin's mutation; its payload (whatever its errors)."""
        body = await self.admin(query, {"input": input})
        assert "errors" not in body, body
        [payload] = body["data"].values()
        result: dict[str, Any] = payload
        return result

    async def partner(
        self,
        name: str,
        roles: tuple[str, ...] = ("ISSUER", "ACCEPTOR"),
        *,
        issue: str = "0.01",
        redeem: str = "0.009",
        effective_from: datetime | None = None,
        **extra: object,
    ) -> str:
        """A partner with a key (kept in ``keys`` by name) and a rate card; its id."""
        created = await self.mutate(
            PARTNER_CREATE, {"name": name, "roles": list(roles), "currency": "EUR", **extra}
        )
        assert created["errors"] == [], created
        partner_id: str = created["partner"]["id"]
        key = await self.mutate(
            KEY_CREATE,
            {
                "partnerId": partner_id,
                "name": f"{name} till",
                "scopes": ["EVENTS_WRITE", "MEMBERS_READ", "MEMBERS_WRITE", "POINTS_REDEEM"],
            },
        )
        assert key["errors"] == [], key
        self.keys[name] = key["secret"]
        await self.rate(partner_id, issue, redeem, effective_from=effective_from)
        return partner_id

    async def rate(
        self,
        partner_id: str,
        issue: str,
        redeem: str,
        *,
        effective_from: datetime | None = None,
        **extra: object,
    ) -> dict[str, Any]:
        card = await self.mutate(
            RATE_CARD_SET,
            {
                "partnerId": partner_id,
                "issuePrice": issue,
                "redeemReimbursement": redeem,
                "effectiveFrom": (effective_from or datetime(2020, 1, 1, tzinfo=UTC)).isoformat(),
                **extra,
            },
        )
        assert card["errors"] == [], card
        return card

    async def member(self, points: int = 0) -> str:
        member = await enrol(
            self.gateway.client, self.tenant.id, f"{uuid.uuid4().hex}@example.test"
        )
        if points:
            await credit(self.gateway.client, self.tenant.id, member, points)
        return member

    async def purchase(
        self,
        partner: str,
        member: str,
        amount: int,
        at: datetime,
        *,
        external_id: str | None = None,
        gateway: RunningGateway | None = None,
    ) -> dict[str, Any]:
        return await self.event(
            partner,
            {
                "type": "purchase",
                "source": _source(partner),
                "externalId": external_id or uuid.uuid4().hex,
                "memberId": member,
                "occurredAt": at.isoformat(),
                "payload": {"amount": amount, "currency": "EUR"},
            },
            gateway=gateway,
        )

    async def refund(
        self, partner: str, member: str, purchase_external_id: str, amount: int, at: datetime
    ) -> dict[str, Any]:
        return await self.event(
            partner,
            {
                "type": "refund",
                "source": _source(partner),
                "externalId": uuid.uuid4().hex,
                "memberId": member,
                "occurredAt": at.isoformat(),
                "payload": {
                    "amount": amount,
                    "currency": "EUR",
                    "purchaseExternalId": purchase_external_id,
                },
            },
        )

    async def event(
        self, partner: str, event: dict[str, Any], *, gateway: RunningGateway | None = None
    ) -> dict[str, Any]:
        client = (gateway or self.gateway).client
        body = await graphql(client, INGEST, {"input": event}, api_key=self.keys[partner])
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]["eventIngest"]
        return result

    async def redeem(self, partner: str, member: str, points: int) -> dict[str, Any]:
        body = await graphql(
            self.gateway.client,
            REDEEM,
            {"input": {"memberId": member, "amount": points, "idempotencyKey": uuid.uuid4().hex}},
            api_key=self.keys[partner],
        )
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]["pointsRedeem"]
        return result

    async def close(self, day: str) -> dict[str, Any]:
        return await self.mutate(CLOSE, {"period": day})

    async def statements(self, period: str | None = None) -> list[dict[str, Any]]:
        body = await self.admin(STATEMENTS, {"period": period})
        assert "errors" not in body, body
        return [edge["node"] for edge in body["data"]["settlementStatements"]["edges"]]


def _source(partner: str) -> str:
    """The partner's till as an event's source (letters and digits of its name)."""
    return "till-" + re.sub(r"[^A-Za-z0-9]", "", partner)


async def clearing_balances(db: Database, tenant_id: uuid.UUID) -> dict[str, dict[str, int]]:
    """Per clearing asset, each account's balance as the sum of its entries (owner or
    purpose as the key): the ledger's side of every statement."""
    async with db.tenant_transaction(tenant_id) as conn:
        rows = await conn.execute(
            select(
                assets.c.code,
                func.coalesce(ledger_accounts.c.owner_ref, ledger_accounts.c.purpose),
                func.sum(ledger_entries.c.amount),
            )
            .select_from(ledger_entries)
            .join(
                ledger_accounts,
                (ledger_accounts.c.tenant_id == ledger_entries.c.tenant_id)
                & (ledger_accounts.c.id == ledger_entries.c.account_id),
            )
            .join(
                assets,
                (assets.c.tenant_id == ledger_entries.c.tenant_id)
                & (assets.c.id == ledger_entries.c.asset_id),
            )
            .where(ledger_entries.c.tenant_id == tenant_id, assets.c.code.like("clearing_%"))
            .group_by(assets.c.code, ledger_accounts.c.owner_ref, ledger_accounts.c.purpose)
        )
        found: dict[str, dict[str, int]] = {}
        for code, owner, amount in rows:
            found.setdefault(code, {})[owner] = int(amount)
    return found


async def unclaimed(db: Database, tenant_id: uuid.UUID) -> int:
    """Movements in no statement yet."""
    async with db.tenant_transaction(tenant_id) as conn:
        return int(
            await conn.scalar(
                select(func.count()).where(
                    movements.c.tenant_id == tenant_id, movements.c.statement_id.is_(None)
                )
            )
            or 0
        )


async def statement_count(db: Database, tenant_id: uuid.UUID) -> int:
    async with db.tenant_transaction(tenant_id) as conn:
        return int(
            await conn.scalar(select(func.count()).where(statements.c.tenant_id == tenant_id)) or 0
        )


__all__ = ["Coalition", "clearing_balances", "statement_count", "unclaimed"]
