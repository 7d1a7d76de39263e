"""Helpers of the ``test_tiers_*`` files: a shop with tiers enabled, its ladder, what a
member sees, and the window job run as the scheduler would."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Self

from loyalty_core.db.engine import Database
from loyalty_core.outbox.tables import outbox
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, RunningGateway, enable_for, graphql, member_token
from loyalty_tiers import jobs
from loyalty_tiers.settings import TierSettings
from loyalty_tiers.tables import history
from sqlalchemy import func, select

from tests.api import pos_key
from tests.jobs import job_context
from tests.test_rules_campaigns import Shop

LEVEL = "level { name threshold benefits invitationOnly }"
TIER = f"""
query($id: ID!) {{
  member(id: $id) {{
    tier {{ {LEVEL} source since until earnedLevel graceUntil
            override {{ level reason operator expiresAt }} }}
  }}
}}
"""
PROGRESS = """
query($id: ID!) {
  member(id: $id) {
    tierProgress {
      metric value windowStart windowEnd missing keep nextLevel { name threshold }
      contributions { eventId eventType amount occurredAt }
    }
  }
}
"""
HISTORY = """
query($id: ID!) {
  member(id: $id) {
    tierHistory(first: 50) { edges { node { kind fromLevel toLevel reason actor eventId metric } } }
  }
}
"""
LADDER_SET = """
mutation($input: TierLadderInput!) {
  tierLadderSet(input: $input) {
    ladder { version levels { name threshold benefits invitationOnly } metric window months
             downgrade graceDays refundsDowngrade }
    errors { code field message }
  }
}
"""
SIMULATE = """
mutation($input: TierLadderInput!) {
  tierLadderSimulate(input: $input) {
    simulation { up down skipped moves { memberId fromLevel toLevel metric atOnce } }
    errors { code field message }
  }
}
"""
OVERRIDE = f"""
mutation($input: TierOverrideInput!) {{
  tierOverride(input: $input) {{
    tier {{ {LEVEL} source until earnedLevel override {{ level reason operator expiresAt }} }}
    errors {{ code field message }}
  }}
}}
"""

SPEND_LADDER: dict[str, Any] = {
    "levels": [
        {"name": "bronze", "threshold": 0, "benefits": ["Birthday coffee"]},
        {"name": "silver", "threshold": 10_000, "benefits": ["Free refills"]},
        {"name": "gold", "threshold": 30_000, "benefits": ["Double points on books"]},
        {"name": "platinum", "invitationOnly": True, "benefits": ["Signed first editions"]},
    ],
    "metric": "SPEND",
    "window": "CALENDAR_YEAR",
}


class TierShop(Shop):
    """A tenant's admin and till on a gateway with tiers enabled."""

    gateway: RunningGateway
    tenant: Tenant
    db: Database

    @classmethod
    async def start(
        cls,
        make_app: MakeApp,
        db: Database,
        tenant: Tenant,
        ladder: dict[str, Any] | None = None,
        *,
        timezone: str | None = None,
        gateway: RunningGateway | None = None,
        **settings: object,
    ) -> Self:
        gateway = gateway or await make_app()
        await enable_for(db, gateway.registry, tenant, "tiers", dict(settings))
        shop = cls(gateway.client, tenant.id, await pos_key(gateway.client, tenant.id))
        await shop.admin_call(
            "mutation($r: JSON!) { tenantUpdate(input: {earnRates: $r}) { errors { code } } }",
            {"r": {"EUR": "1"}},
        )
        shop.gateway, shop.tenant, shop.db = gateway, tenant, db
        if timezone is not None:
            await shop.admin_call(
                "mutation($t: String!) { tenantUpdate(input: {timezone: $t}) { errors { code } } }",
                {"t": timezone},
            )
        if ladder is not None:
            payload = await shop.set_ladder(ladder)
            assert payload["errors"] == [], payload
        return shop

    async def set_ladder(self, ladder: dict[str, Any]) -> dict[str, Any]:
        data = await self.admin_call(LADDER_SET, {"input": ladder})
        payload: dict[str, Any] = data["tierLadderSet"]
        return payload

    async def simulate(self, ladder: dict[str, Any]) -> dict[str, Any]:
        data = await self.admin_call(SIMULATE, {"input": ladder})
        payload: dict[str, Any] = data["tierLadderSimulate"]
        return payload

    async def override(self, **values: Any) -> dict[str, Any]:
        data = await self.admin_call(OVERRIDE, {"input": values})
        payload: dict[str, Any] = data["tierOverride"]
        return payload

    async def tier(self, member_id: str) -> dict[str, Any] | None:
        data = await self.admin_call(TIER, {"id": member_id})
        found: dict[str, Any] | None = data["member"]["tier"]
        return found

    async def level(self, member_id: str) -> str | None:
        found = await self.tier(member_id)
        return None if found is None else str(found["level"]["name"])

    async def progress(self, member_id: str, *, as_member: bool = False) -> dict[str, Any]:
        if as_member:
            token = member_token(self.tenant_id, uuid.UUID(member_id))
            body = await graphql(self.client, PROGRESS, {"id": member_id}, token=token)
            assert "errors" not in body, body
            data = body["data"]
        else:
            data = await self.admin_call(PROGRESS, {"id": member_id})
        found: dict[str, Any] = data["member"]["tierProgress"]
        return found

    async def history(self, member_id: str) -> list[dict[str, Any]]:
        data = await self.admin_call(HISTORY, {"id": member_id})
        return [edge["node"] for edge in data["member"]["tierHistory"]["edges"]]

    async def run_job(self, now: datetime) -> int:
        settings = TierSettings()
        return await jobs.run(job_context(self.db, self.tenant, settings, now=now))

    async def outbox(self, topic: str) -> int:
        async with self.db.tenant_transaction(self.tenant_id) as conn:
            found = await conn.execute(
                select(func.count()).where(
                    outbox.c.tenant_id == self.tenant_id, outbox.c.topic == topic
                )
            )
            return int(found.scalar_one())

    async def history_rows(self, kind: str) -> int:
        async with self.db.tenant_transaction(self.tenant_id) as conn:
            found = await conn.execute(
                select(func.count()).where(
                    history.c.tenant_id == self.tenant_id, history.c.kind == kind
                )
            )
            return int(found.scalar_one())


def at(text: str) -> datetime:
    """A UTC moment from ``YYYY-MM-DDTHH:MM``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


__all__ = ["HISTORY", "PROGRESS", "SPEND_LADDER", "TIER", "TierShop", "at"]
