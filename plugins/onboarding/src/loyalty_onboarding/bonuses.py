"""Welcome, profile-completion and referral points, through the SDK's ledger.

Every award carries an idempotency key derived from what earned it (the member, the
referral), so a retried request or a replayed event never pays twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

from loyalty_core.sdk import (
    Conflict,
    DomainEvent,
    HandlerContext,
    ValidationFailed,
    events,
    ledger,
    members,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_onboarding.settings import EnrolmentField, OnboardingSettings

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


def profile_complete(
    settings: OnboardingSettings, *, email: object, phone: object, profile: Mapping[str, object]
) -> bool:
    """Whether every field of the tenant's ``profile_fields`` is given."""
    contact = {EnrolmentField.EMAIL: email, EnrolmentField.PHONE: phone}
    return all(contact.get(f) or profile.get(f.value) for f in settings.profile_fields)


async def award_profile_bonus(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: OnboardingSettings,
    member_id: uuid.UUID,
    *,
    cause_id: str,
    now: datetime,
) -> None:
    """The profile-completion bonus, once per member whenever it is earned (at enrolment or
    on a later profile change): the ledger key ``onboarding:profile:<member>``."""
    await award(
        conn,
        tenant_id,
        member_id,
        asset_code=settings.asset,
        amount=settings.profile_bonus,
        key=f"profile:{member_id}",
        reason="profile completion bonus",
        cause_id=cause_id,
        now=now,
    )


async def on_member_updated(event: DomainEvent, context: HandlerContext) -> None:
    """Pay the profile bonus when a change completes the profile after enrolment.

    Only a change that *added* one of the ``profile_fields`` can complete a profile, so
    editing a name that was complete already never pays a member who had no bonus (one who
    joined before the tenant offered it, say)."""
    settings = context.settings
    conn = context.conn
    if not isinstance(settings, OnboardingSettings) or conn is None:
        return
    if settings.profile_bonus <= 0:
        return
    updated = events.MemberUpdated.of(event)
    if not set(updated.added) & {f.value for f in settings.profile_fields}:
        return
    member_id = updated.member_id
    member = await members.get_member(conn, event.tenant_id, member_id)
    if member.status is not members.MemberStatus.ACTIVE:
        return
    found = await members.identifiers_of(conn, event.tenant_id, [member_id])
    held = {i.kind.value: i.value for i in found[member_id]}
    profile = member.profile.model_dump(by_alias=True, exclude_none=True)
    if not profile_complete(
        settings,
        email=held.get(members.IdentifierKind.EMAIL.value),
        phone=held.get(members.IdentifierKind.PHONE.value),
        profile=profile,
    ):
        return
    try:
        async with conn.begin_nested():
            await award_profile_bonus(
                conn,
                event.tenant_id,
                settings,
                member_id,
                cause_id=f"member:{member_id}",
                now=datetime.now(UTC),
            )
    except Conflict:
        # The key is taken: the bonus was paid already (at enrolment, or before the tenant
        # changed the amount). The member's change must go through all the same.
        return


__all__ = ["ACTOR", "award", "award_profile_bonus", "on_member_updated", "profile_complete"]
