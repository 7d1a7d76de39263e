"""The member dashboard (P2, P5, P6): the GraphQL query a till or app sends, and the same reads
done by hand with asyncpg for the baseline, answering byte-for-byte the same JSON.

What the dashboard shows: the member's name and status, identifiers, balance of every asset,
the last 20 ledger entries with their causes (and whether there are more), and the campaigns
running for the member (:func:`campaign_selection`).

The baseline does what a careful hand-written endpoint would: one transaction on one pooled
connection as the app role, scoped with ``set_config('loyalty.tenant_id', ..., true)`` so
row-level security applies, the API key checked (SHA-256 digest, unrevoked, ``members:read``)
and the same reads with the same ordering and limits as the gateway's resolvers. What it
leaves out is what the ratio measures: GraphQL, the gateway's separate authentication and
tenant transactions, DataLoaders, strawberry types. The bench's campaigns target no segment,
so neither side reads the member's aggregates and segments for them; the baseline refuses a
campaign that does rather than answer differently.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson

LEDGER_PAGE = 20


def campaign_selection() -> str:
    """The dashboard's active-campaign fields (``Member.activeCampaigns``)."""
    return "activeCampaigns { id name trigger endsAt } "


def dashboard_query() -> str:
    """The GraphQL document; the same text every time, so the gateway parses it once."""
    return (
        "query Dashboard($id: ID!) { member(id: $id) { id firstName lastName status "
        "identifiers { kind value } "
        "balances { asset { code } available pending } "
        f"ledger(first: {LEDGER_PAGE}) {{ edges {{ cursor node {{ id amount assetCode account "
        "kind reason cause { kind reference eventId } transactionId expiresAt createdAt } } "
        "pageInfo { hasNextPage endCursor } } "
        f"{campaign_selection()}}} }}"
    )


def dashboard_body(member_id: uuid.UUID) -> str:
    """The POST body for one member's dashboard."""
    document = {"query": dashboard_query(), "variables": {"id": str(member_id)}}
    return orjson.dumps(document).decode()


SET_TENANT = "SELECT set_config('loyalty.tenant_id', $1, true)"
API_KEY = "SELECT secret_hash, scopes, revoked_at FROM api_keys WHERE tenant_id = $1 AND id = $2"
MEMBER = "SELECT id, status, profile FROM members WHERE tenant_id = $1 AND id = $2"
IDENTIFIERS = (
    "SELECT kind, value FROM member_identifiers WHERE tenant_id = $1 AND member_id = $2 "
    "ORDER BY kind, value"
)
BALANCES = """
SELECT a.code, ac.purpose, ac.balance
FROM assets AS a
LEFT JOIN ledger_accounts AS ac
  ON ac.tenant_id = a.tenant_id AND ac.asset_id = a.id AND ac.member_id = $2
WHERE a.tenant_id = $1
ORDER BY a.code
"""
LEDGER = """
SELECT e.id, e.amount, e.created_at, a.code, ac.purpose, t.id AS transaction_id, t.kind,
       t.reason, t.cause_kind, t.cause_id, t.event_id, l.expires_at
FROM ledger_entries AS e
JOIN ledger_accounts AS ac ON ac.tenant_id = e.tenant_id AND ac.id = e.account_id
JOIN assets AS a ON a.tenant_id = e.tenant_id AND a.id = e.asset_id
JOIN ledger_transactions AS t ON t.tenant_id = e.tenant_id AND t.id = e.transaction_id
LEFT JOIN ledger_lots AS l ON l.tenant_id = e.tenant_id AND l.id = e.lot_id
WHERE e.tenant_id = $1 AND ac.member_id = $2
ORDER BY e.id DESC
LIMIT $3
"""

CAMPAIGNS = """
SELECT c.id, c.name, v.definition
FROM rule_campaign_versions AS v
JOIN rule_campaigns AS c
  ON c.tenant_id = v.tenant_id AND c.id = v.campaign_id AND c.current_version = v.version
WHERE v.tenant_id = $1 AND c.status = 'active'
ORDER BY c.name, c.id
"""


class Refused(Exception):
    """The key does not verify, or lacks ``members:read``: the baseline answers 401."""


async def dashboard_json(conn: Any, raw_key: str, member_id: uuid.UUID) -> bytes:
    """The dashboard response for ``member_id`` read on ``conn`` (an asyncpg connection),
    as the gateway answers it. Raises :class:`Refused` for a bad key."""
    tenant_id, key_id, secret = parse_key(raw_key)
    async with conn.transaction():
        await conn.execute(SET_TENANT, str(tenant_id))
        key = await conn.fetchrow(API_KEY, tenant_id, key_id)
        digest = hashlib.sha256(secret.encode()).hexdigest()
        if key is None or key["revoked_at"] is not None:
            raise Refused
        if not hmac.compare_digest(key["secret_hash"], digest):
            raise Refused
        if "members:read" not in key["scopes"]:
            raise Refused
        member = await conn.fetchrow(MEMBER, tenant_id, member_id)
        if member is None:
            return orjson.dumps({"data": {"member": None}})
        identifiers = await conn.fetch(IDENTIFIERS, tenant_id, member_id)
        balances = await conn.fetch(BALANCES, tenant_id, member_id)
        lines = await conn.fetch(LEDGER, tenant_id, member_id, LEDGER_PAGE + 1)
        campaigns = await conn.fetch(CAMPAIGNS, tenant_id)
    found = _member(member, identifiers, balances, lines)
    found["activeCampaigns"] = _running(campaigns, datetime.now(UTC))
    return orjson.dumps({"data": {"member": found}})


def _running(rows: Any, now: datetime) -> list[dict[str, Any]]:
    """The campaigns inside their dates, as ``Member.activeCampaigns`` lists them."""
    found = []
    for row in rows:
        definition = row["definition"]
        if isinstance(definition, str):
            definition = orjson.loads(definition)
        if definition.get("segments"):
            raise NotImplementedError("the baseline reads no segments")
        window = definition.get("window") or {}
        starts, ends = _instant(window.get("startsAt")), _instant(window.get("endsAt"))
        if (starts is None or starts <= now) and (ends is None or now < ends):
            found.append(
                {
                    "id": str(row["id"]),
                    "name": row["name"],
                    "trigger": definition["trigger"],
                    "endsAt": ends.isoformat() if ends else None,
                }
            )
    return found


def _instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _member(member: Any, identifiers: Any, balances: Any, lines: Any) -> dict[str, Any]:
    profile = member["profile"]
    if isinstance(profile, str):  # jsonb arrives as text unless a codec is set
        profile = orjson.loads(profile)
    page = lines[:LEDGER_PAGE]
    edges = [{"cursor": _cursor(line["id"]), "node": _entry(line)} for line in page]
    return {
        "id": str(member["id"]),
        "firstName": profile.get("firstName"),
        "lastName": profile.get("lastName"),
        "status": member["status"].upper(),
        "identifiers": [{"kind": i["kind"].upper(), "value": i["value"]} for i in identifiers],
        "balances": _balances(balances),
        "ledger": {
            "edges": edges,
            "pageInfo": {
                "hasNextPage": len(lines) > LEDGER_PAGE,
                "endCursor": edges[-1]["cursor"] if edges else None,
            },
        },
    }


def _balances(rows: Any) -> list[dict[str, Any]]:
    by_code: dict[str, dict[str, int]] = {}
    for row in rows:
        amounts = by_code.setdefault(row["code"], {})
        if row["purpose"] is not None:
            amounts[row["purpose"]] = int(row["balance"])
    return [
        {
            "asset": {"code": code},
            "available": amounts.get("available", 0),
            "pending": amounts.get("pending", 0),
        }
        for code, amounts in by_code.items()
    ]


def _entry(line: Any) -> dict[str, Any]:
    expires_at = line["expires_at"]
    return {
        "id": str(line["id"]),
        "amount": int(line["amount"]),
        "assetCode": line["code"],
        "account": line["purpose"].upper(),
        "kind": line["kind"].upper(),
        "reason": line["reason"],
        "cause": {
            "kind": line["cause_kind"],
            "reference": line["cause_id"],
            "eventId": str(line["event_id"]) if line["event_id"] else None,
        },
        "transactionId": str(line["transaction_id"]),
        "expiresAt": expires_at.isoformat() if expires_at else None,
        "createdAt": line["created_at"].isoformat(),
    }


def _cursor(entry_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(entry_id.bytes).decode().rstrip("=")


def parse_key(raw_key: str) -> tuple[uuid.UUID, uuid.UUID, str]:
    """``lk_<tenant>_<key id>_<secret>``: the tenant comes from the credential, as in the
    gateway, so the key lookup itself runs under row-level security."""
    parts = raw_key.split("_", 3)
    if len(parts) != 4 or parts[0] != "lk":
        raise Refused
    try:
        return uuid.UUID(hex=parts[1]), uuid.UUID(hex=parts[2]), parts[3]
    except ValueError as exc:
        raise Refused from exc


__all__ = [
    "LEDGER_PAGE",
    "Refused",
    "campaign_selection",
    "dashboard_body",
    "dashboard_json",
    "dashboard_query",
    "parse_key",
]
