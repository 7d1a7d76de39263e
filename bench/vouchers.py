"""A voucher checked at the till (P10): the GraphQL query a till sends, and the same answer
computed by hand with asyncpg for the baseline, the same JSON.

The answer: whether a code takes something off a basket, and how much (``valid discount
refusal reason``). The baseline does what a careful hand-written endpoint doing the same
look-up must: the API key checked, then in one transaction as the app role under row-level
security the attempt reserved against the caller's lock-out row (the guessing protection
counts every look-up before it looks), the voucher found by the keyed hash of its
normalised code (the tenant's key read once per process, as the gateway caches it), the
reservation given back, and the discount worked out from the voucher and the basket.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from loyalty_core import codes

from bench.dashboard import API_KEY, SET_TENANT, Refused, parse_key

VALIDATE = "valid discount refusal reason"
HASHING = b"loyalty-rewards/code-hmac/v1"
"""The purpose the rewards module derives its code-hashing key for (``keys._HASHING``)."""
LOCKOUT_MINUTES = 15
MAX_FAILED_ATTEMPTS = 10


def validate_query() -> str:
    return (
        "query Validate($code: String!, $basket: BasketInput!) { "
        f"voucherValidate(code: $code, basket: $basket) {{ {VALIDATE} }} }}"
    )


def validate_body(code: str, basket: dict[str, Any]) -> str:
    variables = {"code": code, "basket": basket}
    return orjson.dumps({"query": validate_query(), "variables": variables}).decode()


KEY_ROW = "SELECT secret FROM rewards_keys WHERE tenant_id = $1"
RESERVE = """
INSERT INTO rewards_lockouts (tenant_id, subject, failures, last_failure_at)
VALUES ($1, $2, 1, $3)
ON CONFLICT (tenant_id, subject) DO UPDATE SET
  failures = CASE WHEN rewards_lockouts.locked_until <= $3
                    OR rewards_lockouts.last_failure_at <= $4
               THEN 1 ELSE rewards_lockouts.failures + 1 END,
  last_failure_at = $3,
  locked_until = CASE WHEN rewards_lockouts.locked_until <= $3 THEN NULL
                      ELSE rewards_lockouts.locked_until END
WHERE rewards_lockouts.locked_until IS NULL OR rewards_lockouts.locked_until <= $3
RETURNING failures
"""
GIVE_BACK = """
UPDATE rewards_lockouts SET failures = greatest(failures - 1, 0)
WHERE tenant_id = $1 AND subject = $2
"""
VOUCHER = """
SELECT discount_kind, amount, percent, item_sku, currency, min_basket, max_uses, uses, status,
       expires_at, reserved_until
FROM rewards_vouchers WHERE tenant_id = $1 AND code_hash = $2 AND status <> 'available'
"""

_KEYS: dict[uuid.UUID, bytes] = {}


async def validate_json(conn: Any, raw_key: str, code: str, basket: dict[str, Any]) -> bytes:
    """The validation of ``code`` for ``basket`` read on ``conn`` (an asyncpg connection), as
    the gateway answers it for a voucher that is valid. Raises :class:`Refused` for a bad
    key."""
    tenant_id, key_id, secret = parse_key(raw_key)
    now = datetime.now(UTC)
    subject = f"credential:touchpoint:{key_id}"
    async with conn.transaction():
        await conn.execute(SET_TENANT, str(tenant_id))
        key = await conn.fetchrow(API_KEY, tenant_id, key_id)
        digest = hashlib.sha256(secret.encode()).hexdigest()
        if key is None or key["revoked_at"] is not None:
            raise Refused
        if not hmac.compare_digest(key["secret_hash"], digest):
            raise Refused
        if "points:redeem" not in key["scopes"]:
            raise Refused
        failures = await conn.fetchval(
            RESERVE, tenant_id, subject, now, now - timedelta(minutes=LOCKOUT_MINUTES)
        )
        if failures is None or failures > MAX_FAILED_ATTEMPTS:
            raise Refused
        hashing = _KEYS.get(tenant_id)
        if hashing is None:
            stored = await conn.fetchval(KEY_ROW, tenant_id)
            hashing = _KEYS[tenant_id] = codes.derive_key(bytes(stored), HASHING)
        typed = codes.normalise(code) or code.upper().replace("-", "").replace(" ", "")
        voucher = await conn.fetchrow(VOUCHER, tenant_id, codes.digest(hashing, typed))
        if voucher is None:
            raise Refused  # the bench validates a real code; a wrong one is not measured
        await conn.execute(GIVE_BACK, tenant_id, subject)
    answer = {"valid": True, "discount": _discount(voucher, basket), "refusal": None}
    return orjson.dumps({"data": {"voucherValidate": answer | {"reason": None}}})


def _discount(voucher: Any, basket: dict[str, Any]) -> int:
    total = int(basket["amount"])
    if voucher["discount_kind"] == "amount":
        return min(int(voucher["amount"]), total)
    if voucher["discount_kind"] == "percent":
        return total * int(voucher["percent"]) // 100
    prices = [i["unitPrice"] for i in basket["items"] if i["sku"] == voucher["item_sku"]]
    return min(int(max(prices)), total)


__all__ = ["validate_body", "validate_json", "validate_query"]
