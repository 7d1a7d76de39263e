"""Enrolment, on every channel: start (contact data, verification sent), verify (the code or
the double opt-in link), complete (the member, its card, consents, referral, bonuses).

Web and app callers hold a public key with the ``enrolment`` scope, so the tenant comes
from a credential even for an anonymous person; tills call with ``members:write``. A
suspicious enrolment (its normalised e-mail or phone matches another enrolment's) goes to
the review queue and cannot complete until an admin approves it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from loyalty_core.sdk import ErrorCode, LoyaltyError, NotFound, ValidationFailed, members, new_id
from sqlalchemy import Row, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_onboarding import codes, referrals
from loyalty_onboarding.bonuses import award, award_profile_bonus, profile_complete
from loyalty_onboarding.consents import record_consent, require_terms
from loyalty_onboarding.issuing import clean_number, free_card_number, number_taken
from loyalty_onboarding.models import (
    CardKind,
    Channel,
    ConsentPurpose,
    Enrolment,
    EnrolmentStatus,
    Review,
)
from loyalty_onboarding.normalise import email_key, phone_key
from loyalty_onboarding.senders import Message
from loyalty_onboarding.settings import EnrolmentField, OnboardingSettings, VerificationMethod
from loyalty_onboarding.tables import cards, enrolments, verifications

PROFILE_FIELDS = ("firstName", "lastName", "birthDate", "locale")


@dataclass(frozen=True)
class StartRequest:
    channel: Channel
    email: str | None
    phone: str | None
    card_number: str | None
    profile: dict[str, Any]
    referral_code: str | None
    method: VerificationMethod | None


@dataclass(frozen=True)
class Started:
    enrolment: Enrolment
    message: Message | None


@dataclass(frozen=True)
class Completed:
    enrolment: Enrolment
    member_id: uuid.UUID
    card_number: str


async def start(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: OnboardingSettings,
    request: StartRequest,
    *,
    now: datetime,
) -> Started:
    """Record an enrolment and issue its verification (none when there is nothing to verify,
    as at a till enrolling a physical card alone). An open enrolment for the same address is
    reused, so asking for a new code never looks like a second person."""
    email = _contact(members.IdentifierKind.EMAIL, request.email, "email")
    phone = _contact(members.IdentifierKind.PHONE, request.phone, "phone")
    card = _card(request.card_number)
    _require_fields(settings, email=email, phone=phone, profile=request.profile)
    if request.channel is not Channel.POS and not (email or phone):
        raise ValidationFailed("web and app enrolments need an e-mail or a phone", field="email")
    await _refuse_taken(conn, tenant_id, email=email, phone=phone, card=card)
    referrer_id = None
    if request.referral_code:
        referrer_id = await referrals.referrer_for_code(
            conn, tenant_id, request.referral_code, settings, email=email, phone=phone
        )
    values: dict[str, Any] = {
        "channel": request.channel.value,
        "email": email,
        "phone": phone,
        "email_key": email_key(email) if email else None,
        "phone_key": phone_key(phone) if phone else None,
        "card_number": card,
        "profile": request.profile,
        "referral_code": request.referral_code.upper() if request.referral_code else None,
        "referrer_id": referrer_id,
    }
    enrolment_id = await _open_enrolment(conn, tenant_id, email=email, phone=phone)
    if enrolment_id is None:
        enrolment_id = new_id()
        await conn.execute(
            insert(enrolments).values(
                tenant_id=tenant_id, id=enrolment_id, status=EnrolmentStatus.STARTED.value, **values
            )
        )
    else:
        # Whoever starts again must verify again: otherwise anyone knowing an address could
        # take over an enrolment its owner had verified but not completed.
        await _limit_codes(conn, tenant_id, settings, enrolment_id, now)
        await conn.execute(
            update(enrolments)
            .where(enrolments.c.tenant_id == tenant_id, enrolments.c.id == enrolment_id)
            .values(**values, status=EnrolmentStatus.STARTED.value, verified_at=None)
        )
    await _flag_duplicates(conn, tenant_id, enrolment_id, values)
    message = None
    if email or phone:
        method = request.method or settings.verification
        message = await _issue_verification(
            conn, tenant_id, settings, enrolment_id, method, email=email, phone=phone, now=now
        )
    else:
        await _mark_verified(conn, tenant_id, enrolment_id, now)
    return Started(await get_enrolment(conn, tenant_id, enrolment_id), message)


async def verify(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: OnboardingSettings,
    enrolment_id: uuid.UUID,
    secret: str,
    *,
    now: datetime,
) -> Enrolment | LoyaltyError:
    """Check a code or link token against the enrolment's latest verification.

    A wrong guess is returned, not raised: the attempt it counted must commit, or the limit
    would never bite. The row is locked, so parallel guesses are counted one by one.
    """
    row = (
        await conn.execute(
            select(verifications)
            .where(
                verifications.c.tenant_id == tenant_id,
                verifications.c.enrolment_id == enrolment_id,
            )
            .order_by(verifications.c.id.desc())
            .limit(1)
            .with_for_update()
        )
    ).first()
    if row is None or row.consumed_at is not None:
        return LoyaltyError(
            "nothing to verify: the code was used or never sent",
            code=ErrorCode.VERIFICATION_FAILED,
            field="code",
        )
    refused = codes.refusal(row.attempts, row.expires_at, limit=settings.max_code_attempts, now=now)
    if refused is not None:
        return refused
    if not codes.matches(row.id, secret, row.secret_hash):
        await conn.execute(
            update(verifications)
            .where(verifications.c.tenant_id == tenant_id, verifications.c.id == row.id)
            .values(attempts=verifications.c.attempts + 1)
        )
        return LoyaltyError("wrong code", code=ErrorCode.VERIFICATION_FAILED, field="code")
    await conn.execute(
        update(verifications)
        .where(verifications.c.tenant_id == tenant_id, verifications.c.id == row.id)
        .values(consumed_at=now)
    )
    await _mark_verified(conn, tenant_id, enrolment_id, now)
    return await get_enrolment(conn, tenant_id, enrolment_id)


async def complete(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: OnboardingSettings,
    enrolment_id: uuid.UUID,
    *,
    profile: dict[str, Any],
    consents: list[tuple[ConsentPurpose, str | None]],
    source: str,
    actor: str,
    now: datetime,
) -> Completed:
    """Turn a verified enrolment into a member: identifiers, card, consents, referral link,
    welcome and profile bonuses, all in one transaction."""
    enrolment = await _lock_enrolment(conn, tenant_id, enrolment_id)
    _require_completable(enrolment)
    merged = {**enrolment.profile, **profile}
    _require_fields(settings, email=enrolment.email, phone=enrolment.phone, profile=merged)
    require_terms(consents, settings.terms_version)
    card_kind = CardKind.PHYSICAL if enrolment.card_number else CardKind.DIGITAL
    card_number = enrolment.card_number or await free_card_number(conn, tenant_id, settings)
    identifiers = [(members.IdentifierKind.CARD_NUMBER.value, card_number)]
    if enrolment.email:
        identifiers.append((members.IdentifierKind.EMAIL.value, enrolment.email))
    if enrolment.phone:
        identifiers.append((members.IdentifierKind.PHONE.value, enrolment.phone))
    member = await members.create_member(
        conn,
        tenant_id,
        identifiers=identifiers,
        profile={k: v for k, v in merged.items() if v is not None},
        channel=enrolment.channel.value,
        actor=actor,
    )
    await conn.execute(
        insert(cards).values(
            tenant_id=tenant_id,
            id=new_id(),
            member_id=member.id,
            number=card_number,
            kind=card_kind.value,
        )
    )
    for purpose, version in consents:
        await record_consent(
            conn,
            tenant_id,
            member.id,
            purpose=purpose,
            granted=True,
            text_version=version,
            channel=enrolment.channel.value,
            source=source,
            actor=actor,
            now=now,
        )
    if enrolment.referrer_id is not None:
        await referrals.link(conn, tenant_id, enrolment.referrer_id, member.id, settings)
    await _award_bonuses(conn, tenant_id, settings, member.id, merged, enrolment, now)
    await conn.execute(
        update(enrolments)
        .where(enrolments.c.tenant_id == tenant_id, enrolments.c.id == enrolment_id)
        .values(
            status=EnrolmentStatus.COMPLETED.value,
            completed_at=now,
            member_id=member.id,
            profile=merged,
            card_number=card_number,
        )
    )
    return Completed(await get_enrolment(conn, tenant_id, enrolment_id), member.id, card_number)


async def decide_review(
    conn: AsyncConnection, tenant_id: uuid.UUID, enrolment_id: uuid.UUID, *, approve: bool
) -> Enrolment:
    """An admin's decision on a queued enrolment (only pending ones can be decided)."""
    enrolment = await _lock_enrolment(conn, tenant_id, enrolment_id)
    if enrolment.review is not Review.PENDING:
        raise ValidationFailed("this enrolment is not waiting for review", field="enrolmentId")
    decision = Review.APPROVED if approve else Review.REJECTED
    await conn.execute(
        update(enrolments)
        .where(enrolments.c.tenant_id == tenant_id, enrolments.c.id == enrolment_id)
        .values(review=decision.value)
    )
    return await get_enrolment(conn, tenant_id, enrolment_id)


async def get_enrolment(
    conn: AsyncConnection, tenant_id: uuid.UUID, enrolment_id: uuid.UUID
) -> Enrolment:
    row = (
        await conn.execute(
            select(enrolments).where(
                enrolments.c.tenant_id == tenant_id, enrolments.c.id == enrolment_id
            )
        )
    ).first()
    if row is None:
        raise NotFound("enrolment not found", field="enrolmentId")
    return enrolment_of(row)


def enrolment_of(row: Row[Any]) -> Enrolment:
    return Enrolment(
        id=row.id,
        channel=Channel(row.channel),
        status=EnrolmentStatus(row.status),
        review=Review(row.review) if row.review else None,
        review_reason=row.review_reason,
        email=row.email,
        phone=row.phone,
        card_number=row.card_number,
        profile=dict(row.profile),
        referrer_id=row.referrer_id,
        member_id=row.member_id,
        created_at=row.created_at,
        verified_at=row.verified_at,
        completed_at=row.completed_at,
    )


def _contact(kind: members.IdentifierKind, value: str | None, field: str) -> str | None:
    if value is None or not value.strip():
        return None
    normalised = members.normalise_identifier(kind, value)
    if normalised is None:
        raise ValidationFailed(f"not a valid {field}", field=field)
    return normalised


def _card(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return clean_number(value, "cardNumber")


def _require_fields(
    settings: OnboardingSettings,
    *,
    email: str | None,
    phone: str | None,
    profile: dict[str, Any],
) -> None:
    present = {
        EnrolmentField.EMAIL: email,
        EnrolmentField.PHONE: phone,
        EnrolmentField.FIRST_NAME: profile.get("firstName"),
        EnrolmentField.LAST_NAME: profile.get("lastName"),
        EnrolmentField.BIRTH_DATE: profile.get("birthDate"),
    }
    for field in settings.required_fields:
        if not present[field]:
            raise ValidationFailed(f"{field.value} is required", field=field.value)


async def _refuse_taken(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    email: str | None,
    phone: str | None,
    card: str | None,
) -> None:
    """An identifier a member already holds is DUPLICATE_IDENTIFIER on its field."""
    for kind, value, field in (
        (members.IdentifierKind.EMAIL, email, "email"),
        (members.IdentifierKind.PHONE, phone, "phone"),
        (members.IdentifierKind.CARD_NUMBER, card, "cardNumber"),
    ):
        if value and await members.find_member(conn, tenant_id, kind.value, value) is not None:
            raise LoyaltyError(
                f"this {field} belongs to a member already",
                code=ErrorCode.DUPLICATE_IDENTIFIER,
                field=field,
            )
    if card and await number_taken(conn, tenant_id, card):
        # A blocked card (replaced, reported lost) is never enrolled again by whoever has it.
        raise LoyaltyError(
            "this card number was issued already",
            code=ErrorCode.DUPLICATE_IDENTIFIER,
            field="cardNumber",
        )


async def _open_enrolment(
    conn: AsyncConnection, tenant_id: uuid.UUID, *, email: str | None, phone: str | None
) -> uuid.UUID | None:
    """An enrolment for exactly this address that has not completed yet."""
    if not (email or phone):
        return None
    same = enrolments.c.email == email if email else enrolments.c.phone == phone
    found = await conn.scalar(
        select(enrolments.c.id)
        .where(
            enrolments.c.tenant_id == tenant_id,
            enrolments.c.status != EnrolmentStatus.COMPLETED.value,
            same,
        )
        .order_by(enrolments.c.id.desc())
        .limit(1)
        .with_for_update()
    )
    return None if found is None else uuid.UUID(str(found))


async def _flag_duplicates(
    conn: AsyncConnection, tenant_id: uuid.UUID, enrolment_id: uuid.UUID, values: dict[str, Any]
) -> None:
    """Queue the enrolment for review when its normalised contact matches another one's:
    one mailbox or phone opening several accounts is the sign-up bonus abuse pattern."""
    matches = []
    if values["email_key"]:
        matches.append(enrolments.c.email_key == values["email_key"])
    if values["phone_key"]:
        matches.append(enrolments.c.phone_key == values["phone_key"])
    if not matches:
        return
    other = await conn.scalar(
        select(enrolments.c.id)
        .where(enrolments.c.tenant_id == tenant_id, enrolments.c.id != enrolment_id, or_(*matches))
        .limit(1)
    )
    if other is None:
        return
    await conn.execute(
        update(enrolments)
        .where(
            enrolments.c.tenant_id == tenant_id,
            enrolments.c.id == enrolment_id,
            enrolments.c.review.is_(None),
        )
        .values(
            review=Review.PENDING.value,
            review_reason=f"same normalised e-mail or phone as enrolment {other}",
        )
    )


async def _limit_codes(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: OnboardingSettings,
    enrolment_id: uuid.UUID,
    now: datetime,
) -> None:
    """At most ``max_codes_per_hour`` codes per enrolment: each new code brings a fresh set
    of attempts, so without this limit restarting would undo the attempt limit."""
    recent = await conn.scalar(
        select(func.count())
        .select_from(verifications)
        .where(
            verifications.c.tenant_id == tenant_id,
            verifications.c.enrolment_id == enrolment_id,
            verifications.c.created_at > now - timedelta(hours=1),
        )
    )
    codes.check_hourly(recent, limit=settings.max_codes_per_hour, field="email")


async def _issue_verification(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: OnboardingSettings,
    enrolment_id: uuid.UUID,
    method: VerificationMethod,
    *,
    email: str | None,
    phone: str | None,
    now: datetime,
) -> Message:
    verification_id = new_id()
    if method is VerificationMethod.LINK:
        secret = codes.new_link_token()
        link = f"{settings.verify_link_url}?enrolment={enrolment_id}&token={secret}"
        body = f"Confirm your membership: {link}"
    else:
        secret = codes.new_code()
        minutes = settings.code_ttl_minutes
        body = f"Your verification code is {secret}. It is valid for {minutes} minutes."
    await conn.execute(
        insert(verifications).values(
            tenant_id=tenant_id,
            id=verification_id,
            enrolment_id=enrolment_id,
            method=method.value,
            secret_hash=codes.secret_hash(verification_id, secret),
            expires_at=now + timedelta(minutes=settings.code_ttl_minutes),
        )
    )
    return Message(
        tenant_id=tenant_id,
        enrolment_id=enrolment_id,
        medium="email" if email else "sms",
        recipient=email or phone or "",
        subject="Confirm your membership",
        body=body,
    )


async def _mark_verified(
    conn: AsyncConnection, tenant_id: uuid.UUID, enrolment_id: uuid.UUID, now: datetime
) -> None:
    await conn.execute(
        update(enrolments)
        .where(
            enrolments.c.tenant_id == tenant_id,
            enrolments.c.id == enrolment_id,
            enrolments.c.status == EnrolmentStatus.STARTED.value,
        )
        .values(status=EnrolmentStatus.VERIFIED.value, verified_at=now)
    )


async def _lock_enrolment(
    conn: AsyncConnection, tenant_id: uuid.UUID, enrolment_id: uuid.UUID
) -> Enrolment:
    row = (
        await conn.execute(
            select(enrolments)
            .where(enrolments.c.tenant_id == tenant_id, enrolments.c.id == enrolment_id)
            .with_for_update()
        )
    ).first()
    if row is None:
        raise NotFound("enrolment not found", field="enrolmentId")
    return enrolment_of(row)


def _require_completable(enrolment: Enrolment) -> None:
    if enrolment.status is EnrolmentStatus.COMPLETED:
        raise ValidationFailed("this enrolment is complete already", field="enrolmentId")
    if enrolment.review in (Review.PENDING, Review.REJECTED):
        raise LoyaltyError(
            "this enrolment waits for review"
            if enrolment.review is Review.PENDING
            else "this enrolment was rejected in review",
            code=ErrorCode.UNDER_REVIEW,
            field="enrolmentId",
        )
    if enrolment.status is not EnrolmentStatus.VERIFIED:
        raise LoyaltyError(
            "verify the e-mail or phone first",
            code=ErrorCode.VERIFICATION_FAILED,
            field="enrolmentId",
        )


async def _award_bonuses(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: OnboardingSettings,
    member_id: uuid.UUID,
    profile: dict[str, Any],
    enrolment: Enrolment,
    now: datetime,
) -> None:
    await award(
        conn,
        tenant_id,
        member_id,
        asset_code=settings.asset,
        amount=settings.welcome_bonus,
        key=f"welcome:{member_id}",
        reason="welcome bonus",
        cause_id=str(enrolment.id),
        now=now,
    )
    if profile_complete(settings, email=enrolment.email, phone=enrolment.phone, profile=profile):
        await award_profile_bonus(
            conn, tenant_id, settings, member_id, cause_id=str(enrolment.id), now=now
        )


__all__ = [
    "PROFILE_FIELDS",
    "Completed",
    "StartRequest",
    "Started",
    "complete",
    "decide_review",
    "get_enrolment",
    "start",
    "verify",
]
