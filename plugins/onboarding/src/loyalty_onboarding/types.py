"""Strawberry types of onboarding: enums, objects, inputs and payloads."""

from __future__ import annotations

import datetime as dt

import strawberry
from loyalty_core.sdk import UserError

from loyalty_onboarding import models, queries
from loyalty_onboarding.cards import qr_payload
from loyalty_onboarding.settings import VerificationMethod as _VerificationMethod

EnrolmentChannel = models.Channel
strawberry.enum(EnrolmentChannel, name="EnrolmentChannel")
EnrolmentStatus = models.EnrolmentStatus
strawberry.enum(EnrolmentStatus, name="EnrolmentStatus")
ReviewState = models.Review
strawberry.enum(ReviewState, name="EnrolmentReviewState")
ConsentPurpose = models.ConsentPurpose
strawberry.enum(ConsentPurpose, name="ConsentPurpose")
CardKind = models.CardKind
strawberry.enum(CardKind, name="MemberCardKind")
CardStatus = models.CardStatus
strawberry.enum(CardStatus, name="MemberCardStatus")
VerificationMethod = _VerificationMethod
strawberry.enum(VerificationMethod, name="VerificationMethod")


@strawberry.type(description="A person on the way to membership.")
class Enrolment:
    id: strawberry.ID
    channel: EnrolmentChannel
    status: EnrolmentStatus
    review: ReviewState | None
    review_reason: str | None
    email: str | None
    phone: str | None
    card_number: str | None
    member_id: strawberry.ID | None
    created_at: dt.datetime
    verified_at: dt.datetime | None
    completed_at: dt.datetime | None

    @classmethod
    def of(cls, e: models.Enrolment) -> Enrolment:
        return cls(
            id=strawberry.ID(str(e.id)),
            channel=e.channel,
            status=e.status,
            review=e.review,
            review_reason=e.review_reason,
            email=e.email,
            phone=e.phone,
            card_number=e.card_number,
            member_id=strawberry.ID(str(e.member_id)) if e.member_id else None,
            created_at=e.created_at,
            verified_at=e.verified_at,
            completed_at=e.completed_at,
        )


@strawberry.type(description="A consent change: given or withdrawn, with its evidence.")
class Consent:
    purpose: ConsentPurpose
    granted: bool
    text_version: str | None
    channel: str
    source: str
    recorded_at: dt.datetime

    @classmethod
    def of(cls, c: models.ConsentRecord) -> Consent:
        return cls(
            purpose=c.purpose,
            granted=c.granted,
            text_version=c.text_version,
            channel=c.channel,
            source=c.source,
            recorded_at=c.recorded_at,
        )


@strawberry.type(description="A member card: a number with a Luhn check digit.")
class MemberCard:
    number: str
    kind: CardKind
    created_at: dt.datetime
    status: CardStatus = strawberry.field(
        description="BLOCKED once replaced: the number no longer identifies the member."
    )
    blocked_at: dt.datetime | None

    @strawberry.field(description="What a member app renders as a QR code.")
    def qr_payload(self) -> str:
        return qr_payload(self.number)

    @classmethod
    def of(cls, card: models.Card) -> MemberCard:
        return cls(
            number=card.number,
            kind=card.kind,
            created_at=card.created_at,
            status=card.status,
            blocked_at=card.blocked_at,
        )


@strawberry.type(description="A member brought in by a referral code.")
class Referral:
    id: strawberry.ID
    referee_id: strawberry.ID
    status: str
    created_at: dt.datetime
    rewarded_at: dt.datetime | None

    @classmethod
    def of(cls, r: models.Referral) -> Referral:
        return cls(
            id=strawberry.ID(str(r.id)),
            referee_id=strawberry.ID(str(r.referee_id)),
            status=r.status,
            created_at=r.created_at,
            rewarded_at=r.rewarded_at,
        )


@strawberry.type(description="How far one channel's enrolments got.")
class EnrolmentFunnel:
    channel: EnrolmentChannel
    started: int
    verified: int
    completed: int
    first_purchase: int

    @classmethod
    def of(cls, f: queries.Funnel) -> EnrolmentFunnel:
        return cls(
            channel=models.Channel(f.channel),
            started=f.started,
            verified=f.verified,
            completed=f.completed,
            first_purchase=f.first_purchase,
        )


@strawberry.type(description="A message the development sender recorded instead of sending.")
class SentMessage:
    id: strawberry.ID
    enrolment_id: strawberry.ID | None
    member_id: strawberry.ID | None = strawberry.field(
        description="The member a sign-in code was sent to."
    )
    medium: str
    recipient: str
    subject: str
    body: str
    created_at: dt.datetime

    @classmethod
    def of(cls, m: queries.SentMessage) -> SentMessage:
        return cls(
            id=strawberry.ID(str(m.id)),
            enrolment_id=strawberry.ID(str(m.enrolment_id)) if m.enrolment_id else None,
            member_id=strawberry.ID(str(m.member_id)) if m.member_id else None,
            medium=m.medium,
            recipient=m.recipient,
            subject=m.subject,
            body=m.body,
            created_at=m.created_at,
        )


@strawberry.input
class EnrolmentStartInput:
    channel: EnrolmentChannel
    email: str | None = None
    phone: str | None = strawberry.field(default=None, description="E.164, e.g. +4915112345678.")
    card_number: str | None = strawberry.field(
        default=None, description="A physical card handed over at the till (Luhn-checked)."
    )
    first_name: str | None = None
    last_name: str | None = None
    birth_date: dt.date | None = None
    locale: str | None = None
    referral_code: str | None = None
    verify_by: VerificationMethod | None = strawberry.field(
        default=None, description="Code or double opt-in link; the tenant's setting if unset."
    )


@strawberry.input
class EnrolmentVerifyInput:
    enrolment_id: strawberry.ID
    code: str = strawberry.field(description="The one-time code, or the link's token.")


@strawberry.input
class ConsentGrantInput:
    purpose: ConsentPurpose
    text_version: str


@strawberry.input
class EnrolmentCompleteInput:
    enrolment_id: strawberry.ID
    first_name: str | None = None
    last_name: str | None = None
    birth_date: dt.date | None = None
    locale: str | None = None
    consents: list[ConsentGrantInput] = strawberry.field(default_factory=list)
    source: str = strawberry.field(default="enrolment", description="Where consent was given.")


@strawberry.input
class EnrolmentReviewInput:
    enrolment_id: strawberry.ID
    approve: bool


@strawberry.input
class ConsentGiveInput:
    member_id: strawberry.ID
    purpose: ConsentPurpose
    text_version: str
    channel: str
    source: str = ""


@strawberry.input
class ConsentWithdrawInput:
    member_id: strawberry.ID
    purpose: ConsentPurpose
    channel: str
    source: str = ""


@strawberry.input
class ReferralCodeCreateInput:
    member_id: strawberry.ID


@strawberry.input(description="Issue a card to a member, or replace one of its cards.")
class MemberCardIssueInput:
    member_id: strawberry.ID
    kind: CardKind
    number: str | None = strawberry.field(
        default=None,
        description="The printed number of a physical card handed over (check digit "
        "verified); omitted: a new number is made.",
    )
    replaces: str | None = strawberry.field(
        default=None, description="Number of the member's card this one replaces: it is blocked."
    )


@strawberry.type
class EnrolmentPayload:
    enrolment: Enrolment | None
    errors: list[UserError]


@strawberry.type
class EnrolmentStartPayload:
    enrolment: Enrolment | None
    verification_sent: bool = strawberry.field(
        description="Whether a code or link went out (false: nothing to verify, or sending failed)."
    )
    errors: list[UserError]


@strawberry.type
class EnrolmentCompletePayload:
    enrolment: Enrolment | None
    member_id: strawberry.ID | None
    card: MemberCard | None
    token: str | None = strawberry.field(
        description="A member session for the new member (as `signInVerify` gives), where "
        "the tenant signs members in by code and the enrolment proved its address on the web "
        "or app channel: the code just given proves what a sign-in code would. Else null."
    )
    errors: list[UserError]


@strawberry.type
class ConsentPayload:
    consent: Consent | None
    errors: list[UserError]


@strawberry.type
class ReferralCodePayload:
    code: str | None
    errors: list[UserError]


@strawberry.type
class MemberCardPayload:
    card: MemberCard | None
    errors: list[UserError]


__all__ = [
    "CardStatus",
    "Consent",
    "ConsentGiveInput",
    "ConsentGrantInput",
    "ConsentPayload",
    "ConsentPurpose",
    "ConsentWithdrawInput",
    "Enrolment",
    "EnrolmentChannel",
    "EnrolmentCompleteInput",
    "EnrolmentCompletePayload",
    "EnrolmentFunnel",
    "EnrolmentPayload",
    "EnrolmentReviewInput",
    "EnrolmentStartInput",
    "EnrolmentStartPayload",
    "EnrolmentVerifyInput",
    "MemberCard",
    "MemberCardIssueInput",
    "MemberCardPayload",
    "Referral",
    "ReferralCodeCreateInput",
    "ReferralCodePayload",
    "SentMessage",
]


@strawberry.input(description="The address to send a sign-in code to: an e-mail or a phone.")
class SignInStartInput:
    email: str | None = None
    phone: str | None = strawberry.field(default=None, description="E.164, e.g. +4915112345678.")


@strawberry.type(
    description="A sign-in attempt: the same answer whether the address is a member's or not."
)
class SignInStartPayload:
    attempt_id: strawberry.ID | None = strawberry.field(
        description="Give it to `signInVerify` with the code the member received."
    )
    expires_at: dt.datetime | None = strawberry.field(description="When the code expires.")
    errors: list[UserError]


@strawberry.input
class SignInVerifyInput:
    attempt_id: strawberry.ID
    code: str = strawberry.field(description="The six-digit code sent to the address.")


@strawberry.type(description="A member's session, once its code checked out.")
class SignInVerifyPayload:
    token: str | None = strawberry.field(
        description="`Authorization: Bearer <token>`: the member's credential until `expiresAt`."
    )
    expires_at: dt.datetime | None
    member_id: strawberry.ID | None
    errors: list[UserError]
