"""The onboarding queries and mutations. Resolvers check the caller (``access``), then hand
the work to the services in a transaction of its own (``run_mutation``)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import strawberry
from loyalty_core.sdk import (
    ErrorCode,
    Forbidden,
    LoyaltyError,
    NotFound,
    RequestContext,
    Role,
    Scope,
    UserError,
    ValidationFailed,
    members,
    page_size,
    parse_id,
    require_admin,
    require_principal,
    require_scope,
    run_mutation,
    sessions,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.types import Info

from loyalty_onboarding import consents, enrolment, issuing, queries, referrals, signin
from loyalty_onboarding.access import enrolment_channels, member_access
from loyalty_onboarding.models import Card, CardKind, Channel, ConsentPurpose
from loyalty_onboarding.senders import send_later, sender_for
from loyalty_onboarding.settings import OnboardingSettings
from loyalty_onboarding.types import (
    Consent,
    ConsentGiveInput,
    ConsentPayload,
    ConsentWithdrawInput,
    Enrolment,
    EnrolmentCompleteInput,
    EnrolmentCompletePayload,
    EnrolmentFunnel,
    EnrolmentPayload,
    EnrolmentReviewInput,
    EnrolmentStartInput,
    EnrolmentStartPayload,
    EnrolmentVerifyInput,
    MemberCard,
    MemberCardIssueInput,
    MemberCardPayload,
    Referral,
    ReferralCodeCreateInput,
    ReferralCodePayload,
    SentMessage,
    SignInStartInput,
    SignInStartPayload,
    SignInVerifyInput,
    SignInVerifyPayload,
)

NAME = "onboarding"
CHANNEL_PATTERN = frozenset("abcdefghijklmnopqrstuvwxyz_")
_log = logging.getLogger(__name__)


@strawberry.type
class OnboardingQuery:
    @strawberry.field(description="A member's current consent per purpose.")
    async def consents(
        self, info: Info[RequestContext, None], member_id: strawberry.ID
    ) -> list[Consent]:
        return [Consent.of(c) for c in await _of_member(info, member_id, consents.current_consents)]

    @strawberry.field(description="Every consent change of a member, oldest first.")
    async def consent_history(
        self, info: Info[RequestContext, None], member_id: strawberry.ID
    ) -> list[Consent]:
        return [Consent.of(c) for c in await _of_member(info, member_id, consents.consent_history)]

    @strawberry.field(description="Members a member brought in with its referral code.")
    async def referrals(
        self, info: Info[RequestContext, None], member_id: strawberry.ID
    ) -> list[Referral]:
        return [Referral.of(r) for r in await _of_member(info, member_id, referrals.referrals_of)]

    @strawberry.field(description="A member's cards, with the QR payload for apps.")
    async def member_cards(
        self, info: Info[RequestContext, None], member_id: strawberry.ID
    ) -> list[MemberCard]:
        return [MemberCard.of(c) for c in await _of_member(info, member_id, queries.member_cards)]

    @strawberry.field(description="Suspicious enrolments waiting for a decision (admins).")
    async def enrolment_reviews(
        self, info: Info[RequestContext, None], first: int | None = None
    ) -> list[Enrolment]:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        async with ctx.read() as conn:
            queued = await queries.review_queue(conn, tenant_id, page_size(first))
        return [Enrolment.of(e) for e in queued]

    @strawberry.field(description="Started, verified, completed, first purchase per channel.")
    async def enrolment_funnel(
        self, info: Info[RequestContext, None], since: datetime | None = None
    ) -> list[EnrolmentFunnel]:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        async with ctx.read() as conn:
            figures = await queries.funnel(conn, tenant_id, since=since)
        return [EnrolmentFunnel.of(f) for f in figures]

    @strawberry.field(description="Messages the development sender recorded (admins).")
    async def sent_messages(
        self, info: Info[RequestContext, None], first: int | None = None
    ) -> list[SentMessage]:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        async with ctx.read() as conn:
            found = await queries.sent_messages(conn, tenant_id, page_size(first))
        return [SentMessage.of(m) for m in found]


@strawberry.type
class OnboardingMutation:
    @strawberry.mutation(
        description="Start an enrolment: web and app with an enrolment key, tills with "
        "members:write. Sends a one-time code or a double opt-in link."
    )
    async def enrolment_start(
        self, info: Info[RequestContext, None], input: EnrolmentStartInput
    ) -> EnrolmentStartPayload:
        ctx = info.context
        channel = Channel(input.channel)
        if channel not in enrolment_channels(ctx.principal):
            raise _forbidden_channel()
        settings = _settings(info)
        request = enrolment.StartRequest(
            channel=channel,
            email=input.email,
            phone=input.phone,
            card_number=input.card_number,
            profile=_profile(input.first_name, input.last_name, input.birth_date, input.locale),
            referral_code=(input.referral_code or "").strip() or None,
            method=input.verify_by,
        )

        async def work(conn: AsyncConnection, _: object) -> enrolment.Started:
            return await enrolment.start(conn, ctx.tenant_id, settings, request, now=ctx.now())

        started, errors = await run_mutation(info, work)
        if started is None:
            return EnrolmentStartPayload(enrolment=None, verification_sent=False, errors=errors)
        sent = False
        if started.message is not None:
            try:
                await sender_for(settings, ctx.database).send(started.message)
                sent = True
            except Exception:
                _log.exception(
                    "sending the verification of enrolment %s failed", started.enrolment.id
                )
        return EnrolmentStartPayload(
            enrolment=Enrolment.of(started.enrolment), verification_sent=sent, errors=[]
        )

    @strawberry.mutation(description="Verify an enrolment's e-mail or phone with its code.")
    async def enrolment_verify(
        self, info: Info[RequestContext, None], input: EnrolmentVerifyInput
    ) -> EnrolmentPayload:
        ctx = info.context
        allowed = enrolment_channels(ctx.principal)
        settings = _settings(info)
        enrolment_id = parse_id(input.enrolment_id)

        async def work(conn: AsyncConnection, _: object) -> Any:
            await _visible_enrolment(conn, ctx.tenant_id, enrolment_id, allowed)
            assert enrolment_id is not None
            return await enrolment.verify(
                conn, ctx.tenant_id, settings, enrolment_id, input.code, now=ctx.now()
            )

        result, errors = await run_mutation(info, work)
        if isinstance(result, LoyaltyError):
            return EnrolmentPayload(enrolment=None, errors=[UserError.of(result)])
        return EnrolmentPayload(enrolment=Enrolment.of(result) if result else None, errors=errors)

    @strawberry.mutation(
        description="Complete a verified enrolment: the member, its card, consents, referral "
        "link and bonuses. Marketing consents are never required."
    )
    async def enrolment_complete(
        self, info: Info[RequestContext, None], input: EnrolmentCompleteInput
    ) -> EnrolmentCompletePayload:
        ctx = info.context
        principal = require_principal(ctx.principal)
        allowed = enrolment_channels(principal)
        settings = _settings(info)
        enrolment_id = parse_id(input.enrolment_id)
        given: list[tuple[ConsentPurpose, str | None]] = [
            (ConsentPurpose(c.purpose), c.text_version) for c in input.consents
        ]

        async def work(conn: AsyncConnection, _: object) -> tuple[enrolment.Completed, str | None]:
            await _visible_enrolment(conn, ctx.tenant_id, enrolment_id, allowed)
            assert enrolment_id is not None
            done = await enrolment.complete(
                conn,
                ctx.tenant_id,
                settings,
                enrolment_id,
                profile=_profile(input.first_name, input.last_name, input.birth_date, input.locale),
                consents=given,
                source=input.source[:200],
                actor=principal.actor,
                now=ctx.now(),
            )
            return done, _session(ctx, settings, done)

        result, errors = await run_mutation(info, work)
        if result is None:
            return EnrolmentCompletePayload(
                enrolment=None, member_id=None, card=None, token=None, errors=errors
            )
        done, token = result
        async with ctx.database.tenant_transaction(ctx.tenant_id) as conn:
            issued = await queries.member_cards(conn, ctx.tenant_id, done.member_id)
        card = next(c for c in issued if c.number == done.card_number)
        return EnrolmentCompletePayload(
            enrolment=Enrolment.of(done.enrolment),
            member_id=strawberry.ID(str(done.member_id)),
            card=MemberCard.of(card),
            token=token,
            errors=[],
        )

    @strawberry.mutation(
        description="Send a one-time sign-in code to a member's e-mail or phone (with the "
        "public enrolment key, where the tenant enabled `sign_in_by_code`). The answer is the "
        "same whether a member holds the address or not; only a member is sent a code."
    )
    async def sign_in_start(
        self, info: Info[RequestContext, None], input: SignInStartInput
    ) -> SignInStartPayload:
        ctx = info.context
        settings = _sign_in_settings(info)

        async def work(conn: AsyncConnection, _: object) -> signin.Started:
            return await signin.start(
                conn, ctx.tenant_id, settings, email=input.email, phone=input.phone, now=ctx.now()
            )

        started, errors = await run_mutation(info, work)
        if started is None:
            return SignInStartPayload(attempt_id=None, expires_at=None, errors=errors)
        if started.message is not None:
            send_later(sender_for(settings, ctx.database), started.message)
        return SignInStartPayload(
            attempt_id=strawberry.ID(str(started.attempt_id)),
            expires_at=started.expires_at,
            errors=[],
        )

    @strawberry.mutation(
        description="Trade a sign-in code for a member session: a token the API accepts as "
        "the member's Bearer credential for `session_minutes`."
    )
    async def sign_in_verify(
        self, info: Info[RequestContext, None], input: SignInVerifyInput
    ) -> SignInVerifyPayload:
        ctx = info.context
        settings = _sign_in_settings(info)
        attempt_id = parse_id(input.attempt_id)
        ttl = timedelta(minutes=settings.session_minutes)

        async def work(conn: AsyncConnection, _: object) -> tuple[uuid.UUID, str] | LoyaltyError:
            if attempt_id is None:
                raise NotFound("no such sign-in attempt", field="attemptId")
            found = await signin.verify(
                conn, ctx.tenant_id, settings, attempt_id, input.code, now=ctx.now()
            )
            if isinstance(found, LoyaltyError):
                return found
            # Signed in the transaction that uses the code up: no secret, no session, and
            # the code stays unused for when the operator has set one.
            return found, sessions.member_session_token(ctx, found, ttl=ttl)

        result, errors = await run_mutation(info, work)
        if isinstance(result, LoyaltyError):
            errors = [UserError.of(result)]
        if result is None or isinstance(result, LoyaltyError):
            return SignInVerifyPayload(token=None, expires_at=None, member_id=None, errors=errors)
        member_id, token = result
        return SignInVerifyPayload(
            token=token,
            expires_at=ctx.now() + ttl,
            member_id=strawberry.ID(str(member_id)),
            errors=[],
        )

    @strawberry.mutation(description="Approve or reject a queued enrolment (admins).")
    async def enrolment_review(
        self, info: Info[RequestContext, None], input: EnrolmentReviewInput
    ) -> EnrolmentPayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        enrolment_id = parse_id(input.enrolment_id)

        async def work(conn: AsyncConnection, _: object) -> Any:
            if enrolment_id is None:
                raise NotFound("enrolment not found", field="enrolmentId")
            return await enrolment.decide_review(
                conn, tenant_id, enrolment_id, approve=input.approve
            )

        decided, errors = await run_mutation(info, work)
        return EnrolmentPayload(enrolment=Enrolment.of(decided) if decided else None, errors=errors)

    @strawberry.mutation(description="Give one consent (the member, admins, members:write).")
    async def consent_give(
        self, info: Info[RequestContext, None], input: ConsentGiveInput
    ) -> ConsentPayload:
        return await _change_consent(
            info,
            input.member_id,
            input.purpose,
            True,
            input.text_version,
            input.channel,
            input.source,
        )

    @strawberry.mutation(description="Withdraw one consent: as easy as giving it.")
    async def consent_withdraw(
        self, info: Info[RequestContext, None], input: ConsentWithdrawInput
    ) -> ConsentPayload:
        return await _change_consent(
            info, input.member_id, input.purpose, False, None, input.channel, input.source
        )

    @strawberry.mutation(description="The member's referral code (made once, then the same).")
    async def referral_code_create(
        self, info: Info[RequestContext, None], input: ReferralCodeCreateInput
    ) -> ReferralCodePayload:
        ctx = info.context
        member_id = member_access(ctx.principal, input.member_id, write=True)
        if member_id is None:
            return ReferralCodePayload(code=None, errors=[_member_not_found()])

        async def work(conn: AsyncConnection, _: object) -> str:
            return await referrals.code_for(conn, ctx.tenant_id, member_id)

        code, errors = await run_mutation(info, work)
        return ReferralCodePayload(code=code, errors=errors)

    @strawberry.mutation(
        description="Issue a physical or digital card to a member, or replace one (the old "
        "number is blocked). Tills and admins; a member may issue itself a digital card."
    )
    async def member_card_issue(
        self, info: Info[RequestContext, None], input: MemberCardIssueInput
    ) -> MemberCardPayload:
        ctx = info.context
        principal = require_principal(ctx.principal)
        member_id = member_access(principal, input.member_id, write=True)
        if member_id is None:
            return MemberCardPayload(card=None, errors=[_member_not_found()])
        kind = CardKind(input.kind)
        if principal.role is Role.MEMBER and (kind is not CardKind.DIGITAL or input.number):
            raise Forbidden("members may issue themselves a digital card only")
        settings = _settings(info)

        async def work(conn: AsyncConnection, _: object) -> Card:
            return await issuing.issue_card(
                conn,
                ctx.tenant_id,
                settings,
                member_id,
                kind=kind,
                number=input.number,
                replaces=input.replaces,
                actor=principal.actor,
                now=ctx.now(),
            )

        card, errors = await run_mutation(info, work)
        return MemberCardPayload(card=MemberCard.of(card) if card else None, errors=errors)


async def _change_consent(
    info: Info[RequestContext, None],
    member_value: str,
    purpose: Any,
    granted: bool,
    text_version: str | None,
    channel: str,
    source: str,
) -> ConsentPayload:
    ctx = info.context
    principal = require_principal(ctx.principal)
    member_id = member_access(principal, member_value, write=True)
    if member_id is None:
        return ConsentPayload(consent=None, errors=[_member_not_found()])

    async def work(conn: AsyncConnection, _: object) -> Any:
        clean = channel.strip().lower()
        if not clean or len(clean) > 16 or not set(clean) <= CHANNEL_PATTERN:
            raise ValidationFailed(
                "channel is a short lower-case word (web, app, pos)", field="channel"
            )
        await members.require_active(conn, ctx.tenant_id, member_id)
        return await consents.record_consent(
            conn,
            ctx.tenant_id,
            member_id,
            purpose=purpose,
            granted=granted,
            text_version=text_version,
            channel=clean,
            source=source,
            actor=principal.actor,
            now=ctx.now(),
        )

    record, errors = await run_mutation(info, work)
    return ConsentPayload(consent=Consent.of(record) if record else None, errors=errors)


async def _visible_enrolment(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    enrolment_id: uuid.UUID | None,
    allowed: frozenset[Channel],
) -> None:
    """NOT_FOUND for an enrolment the caller may not see (a web key and a till's)."""
    if enrolment_id is None:
        raise NotFound("enrolment not found", field="enrolmentId")
    found = await enrolment.get_enrolment(conn, tenant_id, enrolment_id)
    if found.channel not in allowed:
        raise NotFound("enrolment not found", field="enrolmentId")


SESSION_CHANNELS = frozenset({Channel.WEB, Channel.APP})


def _session(
    ctx: RequestContext, settings: OnboardingSettings, done: enrolment.Completed
) -> str | None:
    """The new member's session, signed in the transaction that completes the enrolment,
    where the tenant signs members in by code and the enrolment proved its address on a
    channel a member uses itself (a till's enrolment signs nobody in)."""
    proven = done.enrolment.verified_at is not None and (
        done.enrolment.email or done.enrolment.phone
    )
    if not (settings.sign_in_by_code and proven and done.enrolment.channel in SESSION_CHANNELS):
        return None
    ttl = timedelta(minutes=settings.session_minutes)
    return sessions.member_session_token(ctx, done.member_id, ttl=ttl)


def _sign_in_settings(info: Info[RequestContext, None]) -> OnboardingSettings:
    """The settings, for a caller with the public enrolment key (or an admin) of a tenant
    that signs members in by code; FORBIDDEN otherwise."""
    require_scope(info.context.principal, Scope.ENROLMENT)
    settings = _settings(info)
    if not settings.sign_in_by_code:
        raise Forbidden("this tenant does not sign members in by code")
    return settings


def _settings(info: Info[RequestContext, None]) -> OnboardingSettings:
    settings = info.context.module_settings(NAME)
    return settings if isinstance(settings, OnboardingSettings) else OnboardingSettings()


def _profile(
    first_name: str | None, last_name: str | None, birth_date: Any, locale: str | None
) -> dict[str, Any]:
    fields = {
        "firstName": first_name,
        "lastName": last_name,
        "birthDate": birth_date.isoformat() if birth_date else None,
        "locale": locale,
    }
    return {k: v for k, v in fields.items() if v}


def _forbidden_channel() -> Forbidden:
    return Forbidden("this credential may not enrol on that channel")


def _member_not_found() -> UserError:
    return UserError.of(
        LoyaltyError("member not found", code=ErrorCode.NOT_FOUND, field="memberId")
    )


T = TypeVar("T")


async def _of_member(
    info: Info[RequestContext, None],
    member_id: strawberry.ID,
    load: Callable[[AsyncConnection, uuid.UUID, uuid.UUID], Awaitable[list[T]]],
) -> list[T]:
    """What ``load`` finds for a member the caller may read; nothing for any other member
    (another tenant's or another member's look as if they had none)."""
    ctx = info.context
    found = member_access(ctx.principal, member_id, write=False)
    if found is None:
        return []
    async with ctx.read() as conn:
        return await load(conn, ctx.tenant_id, found)


__all__ = ["NAME", "OnboardingMutation", "OnboardingQuery"]
