"""Consents per purpose, each given and withdrawn on its own, with its full history.

Every change is a new row (purpose, given or withdrawn, the version of the text the person
saw, when, on which channel, from which source, by whom), so the history is the audit
trail and the current state is the latest row per purpose. Nothing here touches points or
discounts: withdrawing a marketing consent changes what may be sent, not what is owed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from loyalty_core.sdk import ValidationFailed, new_id
from sqlalchemy import Row, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_onboarding.models import ConsentPurpose, ConsentRecord
from loyalty_onboarding.tables import consents

MAX_SOURCE = 200


async def record_consent(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    purpose: ConsentPurpose,
    granted: bool,
    text_version: str | None,
    channel: str,
    source: str,
    actor: str,
    now: datetime,
) -> ConsentRecord:
    """Append one consent change; giving needs the version of the text that was shown."""
    version = (text_version or "").strip() or None
    if granted and version is None:
        raise ValidationFailed("giving consent needs the text version shown", field="textVersion")
    if version is not None and len(version) > 64:
        raise ValidationFailed("textVersion is at most 64 characters", field="textVersion")
    source = source.strip()[:MAX_SOURCE] or channel
    await conn.execute(
        insert(consents).values(
            tenant_id=tenant_id,
            id=new_id(),
            member_id=member_id,
            purpose=purpose.value,
            granted=granted,
            text_version=version,
            channel=channel,
            source=source,
            actor=actor,
            created_at=now,
        )
    )
    return ConsentRecord(purpose, granted, version, channel, source, now)


async def current_consents(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_id: uuid.UUID
) -> list[ConsentRecord]:
    """The latest change per purpose (a purpose never given is absent: not consented)."""
    latest = {c.purpose: c for c in await consent_history(conn, tenant_id, member_id)}
    return sorted(latest.values(), key=lambda c: c.purpose.value)


async def consent_history(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_id: uuid.UUID
) -> list[ConsentRecord]:
    """Every change, oldest first."""
    rows = await conn.execute(
        select(consents)
        .where(consents.c.tenant_id == tenant_id, consents.c.member_id == member_id)
        .order_by(consents.c.id)
    )
    return [_record(row) for row in rows]


def require_terms(
    given: Sequence[tuple[ConsentPurpose, str | None]], terms_version: str | None
) -> None:
    """Completing needs the current terms when the tenant set a version; marketing never."""
    if terms_version is None:
        return
    if (ConsentPurpose.TERMS, terms_version) not in given:
        raise ValidationFailed(
            f"consent to the terms version {terms_version} is required", field="consents"
        )


def _record(row: Row[Any]) -> ConsentRecord:
    return ConsentRecord(
        purpose=ConsentPurpose(row.purpose),
        granted=row.granted,
        text_version=row.text_version,
        channel=row.channel,
        source=row.source,
        recorded_at=row.created_at,
    )


__all__ = ["consent_history", "current_consents", "record_consent", "require_terms"]
