"""Entitlements: unlocked services (free delivery, early access) a member holds for a while.

Granted by a reward's redemption or by a campaign; revoked when the redemption is cancelled.
Touchpoints ask ``Member.entitlements`` what is unlocked now; nothing is swept, since an
entitlement past its ``expires_at`` simply stops answering.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from loyalty_core.sdk import new_id
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_rewards import repository as repo
from loyalty_rewards.kinds import EntitlementTemplate
from loyalty_rewards.models import Entitlement
from loyalty_rewards.tables import entitlements


async def grant(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    template: EntitlementTemplate,
    *,
    member_id: uuid.UUID,
    redemption_id: uuid.UUID | None,
    source: str,
    now: datetime,
) -> Entitlement:
    expires_at = None if template.days is None else now + timedelta(days=template.days)
    row = await conn.execute(
        insert(entitlements)
        .values(
            tenant_id=tenant_id,
            id=new_id(),
            member_id=member_id,
            name=template.name,
            starts_at=now,
            expires_at=expires_at,
            redemption_id=redemption_id,
            source=source[:200],
            created_at=now,
        )
        .returning(entitlements)
    )
    return repo.entitlement_from_row(row.one())


async def revoke(
    conn: AsyncConnection, tenant_id: uuid.UUID, redemption_id: uuid.UUID, now: datetime
) -> None:
    """End what a cancelled redemption granted, from now."""
    await conn.execute(
        update(entitlements)
        .where(
            entitlements.c.tenant_id == tenant_id,
            entitlements.c.redemption_id == redemption_id,
            entitlements.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )


__all__ = ["grant", "revoke"]
