"""Periodic work: forget the contact data of enrolments nobody finished, and sign-in
attempts a day old.

A person who typed an address and never completed is not a member, so no erasure request
will ever reach them; after ``abandoned_after_days`` their enrolment keeps only its channel
and times (the funnel still counts it) and its messages and codes are deleted. Idempotent:
a second run, or another replica's, finds nothing left to blank.
"""

from __future__ import annotations

from datetime import timedelta

from loyalty_core.sdk import JobContext
from sqlalchemy import delete, or_, select, text, update

from loyalty_onboarding import signin
from loyalty_onboarding.models import EnrolmentStatus
from loyalty_onboarding.settings import OnboardingSettings
from loyalty_onboarding.tables import enrolments, messages, verifications


async def forget_abandoned(context: JobContext) -> int:
    """Blank unfinished enrolments older than the tenant's limit; how many were blanked."""
    database, tenant, settings = context.database, context.tenant, context.settings
    days = settings.abandoned_after_days if isinstance(settings, OnboardingSettings) else 30
    cutoff = context.now - timedelta(days=days)
    async with database.tenant_transaction(tenant.id) as conn:
        await signin.forget_old(conn, tenant.id, now=context.now)
        stale = (
            select(enrolments.c.id)
            .where(
                enrolments.c.tenant_id == tenant.id,
                enrolments.c.status != EnrolmentStatus.COMPLETED.value,
                enrolments.c.created_at < cutoff,
            )
            .scalar_subquery()
        )
        await conn.execute(
            delete(messages).where(
                messages.c.tenant_id == tenant.id, messages.c.enrolment_id.in_(stale)
            )
        )
        await conn.execute(
            delete(verifications).where(
                verifications.c.tenant_id == tenant.id, verifications.c.enrolment_id.in_(stale)
            )
        )
        blanked = await conn.execute(
            update(enrolments)
            .where(
                enrolments.c.tenant_id == tenant.id,
                enrolments.c.id.in_(stale),
                or_(
                    enrolments.c.email.is_not(None),
                    enrolments.c.phone.is_not(None),
                    enrolments.c.card_number.is_not(None),
                    enrolments.c.profile != text("'{}'::jsonb"),
                ),
            )
            .values(
                email=None,
                phone=None,
                email_key=None,
                phone_key=None,
                card_number=None,
                referral_code=None,
                review_reason=None,
                profile=text("'{}'::jsonb"),
            )
        )
    return blanked.rowcount


__all__ = ["forget_abandoned"]
