"""Onboarding's part of privacy requests (``loyalty_member_data()``).

Export hands out every row about the member. Erasure deletes what only describes the
person (consents, cards, the referral code, messages and verifications of their
enrolments, sign-in attempts and the codes sent to it) and blanks the contact data of
their enrolments; the enrolments themselves stay, without anything personal, so the funnel
figures do not change after the fact. Referral links stay: two ids, and the referrer's
reward history depends on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loyalty_core.sdk import MemberData, MemberDataContext
from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_onboarding.tables import (
    cards,
    consents,
    enrolments,
    messages,
    referral_codes,
    referrals,
    sign_ins,
    verifications,
)


async def export_member(ctx: MemberDataContext) -> Mapping[str, Any]:
    conn, tenant_id, member_id = ctx.conn, ctx.tenant_id, ctx.member_id
    enrolment_ids = await _enrolment_ids(ctx)
    return {
        "enrolments": await _rows(
            conn,
            select(enrolments).where(
                enrolments.c.tenant_id == tenant_id, enrolments.c.member_id == member_id
            ),
        ),
        "consents": await _rows(
            conn,
            select(consents)
            .where(consents.c.tenant_id == tenant_id, consents.c.member_id == member_id)
            .order_by(consents.c.id),
        ),
        "cards": await _rows(
            conn,
            select(cards).where(cards.c.tenant_id == tenant_id, cards.c.member_id == member_id),
        ),
        "referralCode": await conn.scalar(
            select(referral_codes.c.code).where(
                referral_codes.c.tenant_id == tenant_id, referral_codes.c.member_id == member_id
            )
        ),
        "referrals": await _rows(
            conn,
            select(referrals).where(
                referrals.c.tenant_id == tenant_id,
                or_(referrals.c.referrer_id == member_id, referrals.c.referee_id == member_id),
            ),
        ),
        "messages": await _rows(
            conn,
            select(messages).where(
                messages.c.tenant_id == tenant_id,
                or_(messages.c.enrolment_id.in_(enrolment_ids), messages.c.member_id == member_id),
            ),
        ),
        "signIns": await _rows(
            conn,
            select(sign_ins.c.id, sign_ins.c.created_at, sign_ins.c.consumed_at)
            .where(sign_ins.c.tenant_id == tenant_id, sign_ins.c.member_id == member_id)
            .order_by(sign_ins.c.id),
        ),
    }


async def erase_member(ctx: MemberDataContext) -> int:
    conn, tenant_id, member_id = ctx.conn, ctx.tenant_id, ctx.member_id
    enrolment_ids = await _enrolment_ids(ctx)
    changed = 0
    for statement in (
        delete(messages).where(
            messages.c.tenant_id == tenant_id,
            or_(messages.c.enrolment_id.in_(enrolment_ids), messages.c.member_id == member_id),
        ),
        delete(sign_ins).where(
            sign_ins.c.tenant_id == tenant_id, sign_ins.c.member_id == member_id
        ),
        delete(verifications).where(
            verifications.c.tenant_id == tenant_id,
            verifications.c.enrolment_id.in_(enrolment_ids),
        ),
        delete(consents).where(
            consents.c.tenant_id == tenant_id, consents.c.member_id == member_id
        ),
        delete(cards).where(cards.c.tenant_id == tenant_id, cards.c.member_id == member_id),
        delete(referral_codes).where(
            referral_codes.c.tenant_id == tenant_id, referral_codes.c.member_id == member_id
        ),
        update(enrolments)
        .where(enrolments.c.tenant_id == tenant_id, enrolments.c.id.in_(enrolment_ids))
        .values(
            email=None,
            phone=None,
            email_key=None,
            phone_key=None,
            card_number=None,
            referral_code=None,
            review_reason=None,
            profile=text("'{}'::jsonb"),
        ),
    ):
        changed += (await conn.execute(statement)).rowcount
    return changed


async def _enrolment_ids(ctx: MemberDataContext) -> list[Any]:
    rows = await ctx.conn.execute(
        select(enrolments.c.id).where(
            enrolments.c.tenant_id == ctx.tenant_id, enrolments.c.member_id == ctx.member_id
        )
    )
    return [row.id for row in rows]


async def _rows(conn: AsyncConnection, query: Any) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in row._mapping.items() if k != "tenant_id"}
        for row in await conn.execute(query)
    ]


MEMBER_DATA = MemberData(export=export_member, erase=erase_member)

__all__ = ["MEMBER_DATA", "erase_member", "export_member"]
