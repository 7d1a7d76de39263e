"""Welcome, profile-completion and referral points, through the SDK's ledger.

Every award carries an idempotency key derived from what earned it (the member, the
referral), so a retried request or a replayed event never pays twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from loyalty_core.sdk import ValidationFailed, ledger
from sqlalchemy.ext.asyncio import AsyncConnection

ACTOR = "module:onboarding"


async def award(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    asset_code: str,
    amount: int,
    key: str,
    reason: str,
    cause_id: str,
    now: datetime,
    event_id: uuid.UUID | None = None,
) -> None:
    """Credit ``amount`` points (nothing when zero) under the idempotency key ``key``."""
    if amount <= 0:
        return
    asset = await ledger.get_asset(conn, tenant_id, asset_code)
    if asset is None:
        raise ValidationFailed(
            f"unknown asset {asset_code!r} in onboarding settings", field="asset"
        )
    posting = ledger.Posting(
        tenant_id=tenant_id,
        idempotency_key=f"onboarding:{key}",
        reason=reason,
        cause=ledger.Cause(kind="onboarding", id=cause_id, event_id=event_id),
        actor=ACTOR,
        now=now,
    )
    await ledger.earn(conn, posting, member_id=member_id, asset=asset, amount=amount)


__all__ = ["ACTOR", "award"]
