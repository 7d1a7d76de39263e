"""Referral: a code per member, a referee linked when enrolling with it, both rewarded once
the referee's first qualifying event (a purchase by default) is ingested.

Rewarding happens in the ingesting transaction (an in-transaction handler of
``event.ingested``): the referral row is claimed with a conditional update from ``pending``
to ``rewarded``, so of two purchases ingested at once exactly one pays, and the ledger keys
``referral:<id>:referrer`` / ``:referee`` make a replay write nothing.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from loyalty_core.sdk import (
    DomainEvent,
    ErrorCode,
    HandlerContext,
    LoyaltyError,
    ValidationFailed,
    events,
    members,
    new_id,
)
from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_onboarding.bonuses import award
from loyalty_onboarding.models import Referral
from loyalty_onboarding.normalise import email_key, phone_key
from loyalty_onboarding.settings import OnboardingSettings
from loyalty_onboarding.tables import enrolments, referral_codes, referrals

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
PENDING = "pending"
REWARDED = "rewarded"


async def code_for(conn: AsyncConnection, tenant_id: uuid.UUID, member_id: uuid.UUID) -> str:
    """The member's referral code, made on first request (the same code ever after)."""
    await members.require_active(conn, tenant_id, member_id)
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        await conn.execute(
            pg_insert(referral_codes)
            .values(tenant_id=tenant_id, member_id=member_id, code=code)
            .on_conflict_do_nothing()
        )
        found = await conn.scalar(
            select(referral_codes.c.code).where(
                referral_codes.c.tenant_id == tenant_id, referral_codes.c.member_id == member_id
            )
        )
        if found is not None:
            return str(found)


async def referrer_for_code(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    code: str,
    settings: OnboardingSettings,
    *,
    email: str | None,
    phone: str | None,
) -> uuid.UUID:
    """The member whose code this is, after the self-referral and cap checks."""
    referrer_id = await conn.scalar(
        select(referral_codes.c.member_id)
        .where(referral_codes.c.tenant_id == tenant_id, referral_codes.c.code == code.upper())
        .with_for_update()
    )
    if referrer_id is None:
        raise ValidationFailed("unknown referral code", field="referralCode")
    if await _same_person(conn, tenant_id, referrer_id, email=email, phone=phone):
        raise LoyaltyError(
            "a member cannot refer themselves", code=ErrorCode.SELF_REFERRAL, field="referralCode"
        )
    if await _referred_count(conn, tenant_id, referrer_id) >= settings.referral_cap:
        raise LoyaltyError(
            "this referral code has reached its limit",
            code=ErrorCode.REFERRAL_CAP_REACHED,
            field="referralCode",
        )
    return uuid.UUID(str(referrer_id))


async def link(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    referrer_id: uuid.UUID,
    referee_id: uuid.UUID,
    settings: OnboardingSettings,
) -> None:
    """Link a new member to its referrer (the cap checked again under the code's lock)."""
    if referrer_id == referee_id:
        raise LoyaltyError(
            "a member cannot refer themselves", code=ErrorCode.SELF_REFERRAL, field="referralCode"
        )
    await conn.execute(
        select(referral_codes.c.code)
        .where(referral_codes.c.tenant_id == tenant_id, referral_codes.c.member_id == referrer_id)
        .with_for_update()
    )
    if await _referred_count(conn, tenant_id, referrer_id) >= settings.referral_cap:
        raise LoyaltyError(
            "this referral code has reached its limit",
            code=ErrorCode.REFERRAL_CAP_REACHED,
            field="referralCode",
        )
    await conn.execute(
        insert(referrals).values(
            tenant_id=tenant_id,
            id=new_id(),
            referrer_id=referrer_id,
            referee_id=referee_id,
            status=PENDING,
        )
    )


async def referrals_of(
    conn: AsyncConnection, tenant_id: uuid.UUID, referrer_id: uuid.UUID
) -> list[Referral]:
    rows = await conn.execute(
        select(referrals)
        .where(referrals.c.tenant_id == tenant_id, referrals.c.referrer_id == referrer_id)
        .order_by(referrals.c.id)
    )
    return [_referral(row) for row in rows]


async def on_event_ingested(event: DomainEvent, context: HandlerContext) -> None:
    """Count a referee's first qualifying event: funnel figure, then the referral reward."""
    settings = context.settings
    conn = context.conn
    if not isinstance(settings, OnboardingSettings) or conn is None:
        return
    ingested = events.EventIngested.of(event)
    if ingested.type != settings.qualifying_event:
        return
    tenant_id = event.tenant_id
    member_id = ingested.member_id
    event_id = ingested.event_id
    now = datetime.now(UTC)
    await conn.execute(
        update(enrolments)
        .where(
            enrolments.c.tenant_id == tenant_id,
            enrolments.c.member_id == member_id,
            enrolments.c.first_purchase_at.is_(None),
        )
        .values(first_purchase_at=now)
    )
    claimed = (
        await conn.execute(
            update(referrals)
            .where(
                referrals.c.tenant_id == tenant_id,
                referrals.c.referee_id == member_id,
                referrals.c.status == PENDING,
            )
            .values(status=REWARDED, rewarded_at=now)
            .returning(referrals.c.id, referrals.c.referrer_id)
        )
    ).first()
    if claimed is None:
        return
    for who, beneficiary, amount in (
        ("referrer", claimed.referrer_id, settings.referrer_reward),
        ("referee", member_id, settings.referee_reward),
    ):
        await award(
            conn,
            tenant_id,
            beneficiary,
            asset_code=settings.asset,
            amount=amount,
            key=f"referral:{claimed.id}:{who}",
            reason=f"referral reward ({who})",
            cause_id=str(claimed.id),
            now=now,
            event_id=event_id,
        )


async def _same_person(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    referrer_id: uuid.UUID,
    *,
    email: str | None,
    phone: str | None,
) -> bool:
    """Whether the enrolling contact reaches the referrer's own mailbox or phone."""
    keys = {email_key(email) if email else None, phone_key(phone) if phone else None} - {None}
    if not keys:
        return False
    held = (await members.identifiers_of(conn, tenant_id, [referrer_id]))[referrer_id]
    theirs = {
        email_key(i.value) if i.kind is members.IdentifierKind.EMAIL else phone_key(i.value)
        for i in held
        if i.kind in (members.IdentifierKind.EMAIL, members.IdentifierKind.PHONE)
    }
    enrolled = await conn.execute(
        select(enrolments.c.email_key, enrolments.c.phone_key).where(
            enrolments.c.tenant_id == tenant_id, enrolments.c.member_id == referrer_id
        )
    )
    for row in enrolled:
        theirs |= {row.email_key, row.phone_key} - {None}
    return bool(keys & theirs)


async def _referred_count(
    conn: AsyncConnection, tenant_id: uuid.UUID, referrer_id: uuid.UUID
) -> int:
    count = await conn.scalar(
        select(func.count())
        .select_from(referrals)
        .where(referrals.c.tenant_id == tenant_id, referrals.c.referrer_id == referrer_id)
    )
    return int(count or 0)


def _referral(row: Row[Any]) -> Referral:
    return Referral(
        id=row.id,
        referrer_id=row.referrer_id,
        referee_id=row.referee_id,
        status=row.status,
        created_at=row.created_at,
        rewarded_at=row.rewarded_at,
    )


__all__ = ["code_for", "link", "on_event_ingested", "referrals_of", "referrer_for_code"]
