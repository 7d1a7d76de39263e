"""Helpers for the partner offers tests: a coalition (clearing) whose tenant also enabled
partner offers, the offers' GraphQL and reads of the module's tables."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.ledger.tables import ledger_transactions
from loyalty_core.tenants.models import Tenant
from loyalty_partner_offers.tables import daily, offers, redemptions
from loyalty_testing import MakeApp, RunningGateway, enable_for, graphql, member_token
from sqlalchemy import func, select

from tests.clearing import ERRORS, INGEST, Coalition

OFFER = (
    "id partnerId externalId version status title activation used budget dailyCap "
    "terms { reward value perMemberLimit requirements { minimumSpend skus categories } }"
)
CREATE = f"""mutation($input: OfferCreateInput!) {{
  offerCreate(input: $input) {{ offer {{ {OFFER} }} {ERRORS} }} }}"""
UPDATE = f"""mutation($input: OfferUpdateInput!) {{
  offerUpdate(input: $input) {{ offer {{ {OFFER} }} {ERRORS} }} }}"""
RETIRE = f"""mutation($input: OfferRetireInput!) {{
  offerRetire(input: $input) {{ offer {{ {OFFER} }} {ERRORS} }} }}"""
SYNC = f"""mutation($input: OfferCatalogSyncInput!) {{
  offerCatalogSync(input: $input) {{
    results {{ externalId written offer {{ {OFFER} }} }} {ERRORS} }} }}"""
ACTIVATE = f"""mutation($input: OfferMemberInput!) {{
  offerActivate(input: $input) {{
    memberOffer {{ state redeemed terms {{ value }} offer {{ id }} }} {ERRORS} }} }}"""
HIDE = f"""mutation($input: OfferMemberInput!) {{
  offerHide(input: $input) {{ hidden {ERRORS} }} }}"""
OFFERS = f"""query($first: Int, $after: String) {{
  offers(first: $first, after: $after) {{ edges {{ node {{ {OFFER} }} }}
    pageInfo {{ hasNextPage endCursor }} }} }}"""
ONE = f"query($id: ID!) {{ offer(id: $id) {{ {OFFER} }} }}"
PERFORMANCE = """query($since: Date!, $until: Date!) {
  offerPerformance(since: $since, until: $until) {
    rows { offerId day activations redemptions pointsAwarded pointsReversed } csv } }"""
MEMBER_OFFERS = """query($id: ID!) { member(id: $id) {
  offers(first: 100) { edges { node { state redeemed terms { value } offer { id title } } } }
} }"""


def offers_seen(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The member's offers a ``MEMBER_OFFERS`` answer lists."""
    return [edge["node"] for edge in body["data"]["member"]["offers"]["edges"]]


NOW = datetime.now(UTC)


def offer_input(
    title: str = "Double points",
    *,
    reward: str = "FIXED",
    value: str = "50",
    activation: str = "AUTO",
    starts: datetime | None = None,
    ends: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "title": title,
        "startsAt": (starts or NOW - timedelta(days=1)).isoformat(),
        "endsAt": (ends or NOW + timedelta(days=30)).isoformat(),
        "reward": reward,
        "value": value,
        "activation": activation,
        **extra,
    }


@dataclass
class Programme(Coalition):
    """A coalition whose tenant runs partner offers (``with_clearing`` False: offers only)."""

    @classmethod
    async def start(
        cls, make_app: MakeApp, db: Database, tenant: Tenant, *, with_clearing: bool = True
    ) -> Programme:
        gateway = await make_app()
        if with_clearing:
            await enable_for(db, gateway.registry, tenant, "clearing", {"period": "monthly"})
        await enable_for(db, gateway.registry, tenant, "partner_offers", {})
        return cls(gateway, tenant, db)

    async def create(self, offer: dict[str, Any], **extra: Any) -> dict[str, Any]:
        payload = await self.mutate(CREATE, {"offer": offer, **extra})
        assert payload["errors"] == [], payload
        created: dict[str, Any] = payload["offer"]
        return created

    async def as_partner(
        self, partner: str, query: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        return await graphql(self.gateway.client, query, variables, api_key=self.keys[partner])

    async def as_member(self, member: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        return await graphql(
            self.gateway.client,
            query,
            variables,
            token=member_token(self.tenant.id, uuid.UUID(member)),
        )

    async def buy(
        self,
        partner: str,
        member: str,
        amount: int,
        *,
        at: datetime | None = None,
        items: list[dict[str, Any]] | None = None,
        external_id: str | None = None,
        gateway: RunningGateway | None = None,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {"amount": amount, "currency": "EUR"}
        if items is not None:
            payload["items"] = items
        return await self.event(
            partner,
            {
                "type": "purchase",
                "source": "till-1",
                "externalId": external_id or uuid.uuid4().hex,
                "memberId": member,
                "occurredAt": (at or datetime.now(UTC)).isoformat(),
                "payload": payload,
            },
            gateway=gateway,
        )

    async def till(
        self, key: str, member: str, amount: int, items: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """A purchase at the retailer's own till (a key of no partner)."""
        body = await graphql(
            self.gateway.client,
            INGEST,
            {
                "input": {
                    "type": "purchase",
                    "source": "till-1",
                    "externalId": uuid.uuid4().hex,
                    "memberId": member,
                    "occurredAt": datetime.now(UTC).isoformat(),
                    "payload": {"amount": amount, "currency": "EUR", "items": items},
                }
            },
            api_key=key,
        )
        assert body["data"]["eventIngest"]["errors"] == [], body
        result: dict[str, Any] = body["data"]["eventIngest"]
        return result


async def rewards(db: Database, tenant_id: uuid.UUID, offer_id: str) -> list[tuple[int, int]]:
    """(points, reversed) of each redemption of an offer."""
    async with db.tenant_transaction(tenant_id) as conn:
        rows = await conn.execute(
            select(redemptions.c.points, redemptions.c.reversed)
            .where(
                redemptions.c.tenant_id == tenant_id,
                redemptions.c.offer_id == uuid.UUID(offer_id),
            )
            .order_by(redemptions.c.id)
        )
        return [(row.points, row.reversed) for row in rows]


async def used(db: Database, tenant_id: uuid.UUID, offer_id: str) -> int:
    async with db.tenant_transaction(tenant_id) as conn:
        found = await conn.scalar(
            select(offers.c.used).where(
                offers.c.tenant_id == tenant_id, offers.c.id == uuid.UUID(offer_id)
            )
        )
        return int(found or 0)


async def offer_transactions(db: Database, tenant_id: uuid.UUID, offer_id: str) -> int:
    """Ledger transactions caused by the offer (rewards and their reversals)."""
    async with db.tenant_transaction(tenant_id) as conn:
        found = await conn.scalar(
            select(func.count()).where(
                ledger_transactions.c.tenant_id == tenant_id,
                ledger_transactions.c.cause_kind == "partner_offers",
                ledger_transactions.c.cause_id == offer_id,
            )
        )
        return int(found or 0)


async def day_used(db: Database, tenant_id: uuid.UUID, offer_id: str) -> int:
    """Rewards counted against the offer's daily cap, over all its days."""
    async with db.tenant_transaction(tenant_id) as conn:
        found = await conn.scalar(
            select(func.sum(daily.c.used)).where(
                daily.c.tenant_id == tenant_id, daily.c.offer_id == uuid.UUID(offer_id)
            )
        )
        return int(found or 0)
