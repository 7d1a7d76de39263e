"""Helpers for the gamification tests: a gateway with the module enabled, badges defined and
events ingested through the public API, progress read back as members see it."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.ledger.tables import ledger_transactions
from loyalty_core.tenants.models import Tenant
from loyalty_core.tenants.service import create_tenant
from loyalty_testing import MakeApp, RunningGateway, admin_token, enable_for, graphql
from sqlalchemy import func, select

from tests.api import enrol, pos_key

BADGE = """
id name eventType condition measure sumField target period startsAt endsAt repeatable secret
revokeOnRefund dailyCap reward { points asset effect params } status health { failures lastError }
"""

BADGE_CREATE = f"""
mutation($input: BadgeCreateInput!) {{
  badgeCreate(input: $input) {{ badge {{ {BADGE} }} errors {{ code field message }} }}
}}
"""

BADGE_UPDATE = f"""
mutation($input: BadgeUpdateInput!) {{
  badgeUpdate(input: $input) {{ badge {{ {BADGE} }} errors {{ code field message }} }}
}}
"""

BADGES = f"query {{ badges(first: 50) {{ edges {{ node {{ {BADGE} }} }} }} }}"

MEMBER_BADGES = """
query($id: ID!) { member(id: $id) { badges {
  badge { id name } periodKey progress target earned
  awards { periodKey earnedAt eventId transactionId revokedAt revokedBy }
  contributions { eventId amount offered refundOf }
} } }
"""

INGEST = """
mutation($input: EventIngestInput!) {
  eventIngest(input: $input) { event { id } errors { code field message } }
}
"""


@dataclass
class Shop:
    """A tenant with the module enabled, a till's key and an admin's token."""

    gateway: RunningGateway
    tenant: Tenant
    key: str

    @classmethod
    async def open(cls, make_app: MakeApp, db: Database, tenant: Tenant) -> Shop:
        gateway = await make_app()
        await enable_for(db, gateway.registry, tenant, "gamification", {})
        return cls(gateway, tenant, await pos_key(gateway.client, tenant.id))

    @property
    def admin(self) -> str:
        return admin_token(self.tenant.id)

    async def member(self) -> str:
        return await enrol(self.gateway.client, self.tenant.id, f"{uuid.uuid4().hex}@example.com")

    async def badge(self, **fields: Any) -> dict[str, Any]:
        """A new badge (fields over a 'count purchases to 3' default); fails on errors."""
        payload = await self.badge_create(**fields)
        assert payload["errors"] == [], payload
        badge: dict[str, Any] = payload["badge"]
        return badge

    async def badge_create(self, **fields: Any) -> dict[str, Any]:
        spec = {"name": "Regular", "eventType": "purchase", "target": 3, **fields}
        body = await graphql(self.gateway.client, BADGE_CREATE, {"input": spec}, token=self.admin)
        assert "errors" not in body, body
        payload: dict[str, Any] = body["data"]["badgeCreate"]
        return payload

    async def badge_update(self, **fields: Any) -> dict[str, Any]:
        body = await graphql(self.gateway.client, BADGE_UPDATE, {"input": fields}, token=self.admin)
        assert "errors" not in body, body
        payload: dict[str, Any] = body["data"]["badgeUpdate"]
        return payload

    async def badges(self) -> list[dict[str, Any]]:
        body = await graphql(self.gateway.client, BADGES, {}, token=self.admin)
        return [edge["node"] for edge in body["data"]["badges"]["edges"]]

    async def ingest(
        self,
        member: str,
        external_id: str,
        *,
        type: str = "purchase",
        amount: int | None = 1000,
        at: datetime | None = None,
        gateway: RunningGateway | None = None,
        **payload: Any,
    ) -> str:
        """The id of a new event (a purchase of ``amount`` by default)."""
        if amount is not None:
            payload = {"amount": amount, "currency": "EUR", **payload}
        event: dict[str, Any] = {
            "type": type,
            "source": "till-1",
            "externalId": external_id,
            "memberId": member,
            "payload": payload,
        }
        if at is not None:
            event["occurredAt"] = at.isoformat()
        client = (gateway or self.gateway).client
        body = await graphql(client, INGEST, {"input": event}, api_key=self.key)
        assert "errors" not in body, body
        answer = body["data"]["eventIngest"]
        assert answer["errors"] == [], answer
        return str(answer["event"]["id"])

    async def refund(self, member: str, purchase: str, external_id: str, amount: int) -> str:
        return await self.ingest(
            member, external_id, type="refund", amount=amount, purchaseExternalId=purchase
        )

    async def streak(self, **fields: Any) -> dict[str, Any]:
        spec = {"name": "Daily", "eventType": "purchase", **fields}
        body = await graphql(self.gateway.client, STREAK_CREATE, {"input": spec}, token=self.admin)
        assert "errors" not in body, body
        payload: dict[str, Any] = body["data"]["streakCreate"]
        return payload

    async def member_streaks(self, member: str) -> dict[str, dict[str, Any]]:
        body = await graphql(self.gateway.client, MEMBER_STREAKS, {"id": member}, token=self.admin)
        assert "errors" not in body, body
        return {item["streak"]["name"]: item for item in body["data"]["member"]["streaks"]}

    async def leaderboard_create(self, **fields: Any) -> dict[str, Any]:
        spec = {"name": "Top spenders", "metric": "SPEND", **fields}
        body = await graphql(
            self.gateway.client, LEADERBOARD_CREATE, {"input": spec}, token=self.admin
        )
        assert "errors" not in body, body
        payload: dict[str, Any] = body["data"]["leaderboardCreate"]
        return payload

    async def standings(self, board: str, token: str | None = None, **args: Any) -> dict[str, Any]:
        variables = {"id": board, **args}
        body = await graphql(self.gateway.client, LEADERBOARD, variables, token=token or self.admin)
        assert "errors" not in body, body
        standings: dict[str, Any] = body["data"]["leaderboard"]
        return standings

    async def challenge(self, **fields: Any) -> dict[str, Any]:
        now = datetime.now(UTC)
        spec = {
            "name": "Coffee and a book",
            "startsAt": (now - timedelta(days=7)).isoformat(),
            "endsAt": (now + timedelta(days=7)).isoformat(),
            "steps": [
                {
                    "name": "A coffee",
                    "eventType": "purchase",
                    "target": 2,
                    "condition": 'event.payload.store == "coffee-bar"',
                },
                {
                    "name": "A book",
                    "eventType": "purchase",
                    "target": 1,
                    "condition": 'event.payload.store == "bookshop"',
                },
            ],
            **fields,
        }
        body = await graphql(
            self.gateway.client, CHALLENGE_CREATE, {"input": spec}, token=self.admin
        )
        assert "errors" not in body, body
        payload: dict[str, Any] = body["data"]["challengeCreate"]
        return payload

    async def member_challenges(self, member: str) -> dict[str, dict[str, Any]]:
        body = await graphql(
            self.gateway.client, MEMBER_CHALLENGES, {"id": member}, token=self.admin
        )
        assert "errors" not in body, body
        return {item["challenge"]["name"]: item for item in body["data"]["member"]["challenges"]}

    async def member_badges(self, member: str) -> dict[str, dict[str, Any]]:
        """The member's badges by name, as an admin reads them."""
        body = await graphql(self.gateway.client, MEMBER_BADGES, {"id": member}, token=self.admin)
        assert "errors" not in body, body
        return {item["badge"]["name"]: item for item in body["data"]["member"]["badges"]}


async def reward_transactions(db: Database, tenant: Tenant) -> dict[str, int]:
    """How many ledger transactions the module posted, by kind (earn, reversal)."""
    async with db.tenant_transaction(tenant.id) as conn:
        rows = await conn.execute(
            select(ledger_transactions.c.kind, func.count())
            .where(
                ledger_transactions.c.tenant_id == tenant.id,
                ledger_transactions.c.cause_kind == "gamification",
            )
            .group_by(ledger_transactions.c.kind)
        )
        return {str(kind): int(count) for kind, count in rows}


STREAK_CREATE = """
mutation($input: StreakCreateInput!) {
  streakCreate(input: $input) {
    streak { id name unit freezeEvery maxFreezes milestones { length points } }
    errors { code field message }
  }
}
"""

MEMBER_STREAKS = """
query($id: ID!) { member(id: $id) { streaks {
  streak { name } length best freezes freezesSpent lastActiveOn
} } }
"""


async def zoned_tenant(db: Database, timezone: str) -> Tenant:
    """A tenant of its own in ``timezone``."""
    async with db.platform_transaction() as conn:
        return await create_tenant(
            conn, slug=f"test-{secrets.token_hex(6)}", name="Zoned tenant", timezone=timezone
        )


LEADERBOARD_CREATE = """
mutation($input: LeaderboardCreateInput!) {
  leaderboardCreate(input: $input) {
    leaderboard { id name metric period prizes { fromRank toRank points } }
    errors { code field message }
  }
}
"""

ENTRY = "rank score displayName memberId"
LEADERBOARD = f"""
query($id: ID!, $member: ID, $first: Int, $neighbours: Int, $window: String) {{
  leaderboard(id: $id, memberId: $member, first: $first, neighbours: $neighbours,
              windowKey: $window) {{
    windowKey top {{ {ENTRY} }} member {{ {ENTRY} }} above {{ {ENTRY} }} below {{ {ENTRY} }}
  }}
}}
"""

PLAYER_SET = """
mutation($input: LeaderboardPlayerSetInput!) {
  leaderboardPlayerSet(input: $input) { displayName hidden errors { code field } }
}
"""


CHALLENGE = "id name ordered optIn segment steps { name eventType target } status"
CHALLENGE_CREATE = f"""
mutation($input: ChallengeCreateInput!) {{
  challengeCreate(input: $input) {{ challenge {{ {CHALLENGE} }} errors {{ code field message }} }}
}}
"""
CHALLENGE_JOIN = """
mutation($input: ChallengeJoinInput!) {
  challengeJoin(input: $input) { challenge { id } errors { code field message } }
}
"""
MEMBER_CHALLENGES = """
query($id: ID!) { member(id: $id) { challenges {
  challenge { name } joined steps { name count target done } completedAt transactionId
} } }
"""
