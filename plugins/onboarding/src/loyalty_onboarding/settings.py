"""What a tenant configures when it enables onboarding (validated by the core on enable)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class EnrolmentField(StrEnum):
    """Fields a tenant may require at enrolment."""

    EMAIL = "email"
    PHONE = "phone"
    FIRST_NAME = "firstName"
    LAST_NAME = "lastName"
    BIRTH_DATE = "birthDate"


class SenderKind(StrEnum):
    DEVELOPMENT = "development"
    SMTP = "smtp"


class SmtpSecurity(StrEnum):
    """How the SMTP connection is protected."""

    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


class VerificationMethod(StrEnum):
    CODE = "code"
    LINK = "link"


class OnboardingSettings(BaseModel):
    required_fields: list[EnrolmentField] = Field(
        default_factory=lambda: [EnrolmentField.EMAIL],
        description="Fields every enrolment must carry, on every channel.",
    )
    verification: VerificationMethod = Field(
        VerificationMethod.CODE,
        description="One-time code, or a double opt-in link, unless the enrolment asks.",
    )
    code_ttl_minutes: int = Field(15, ge=1, le=1440, description="How long a code is valid.")
    max_code_attempts: int = Field(5, ge=1, le=20, description="Wrong codes before lock-out.")
    max_codes_per_hour: int = Field(
        5, ge=1, le=50, description="Codes one enrolment may be sent per hour."
    )
    abandoned_after_days: int = Field(
        30, ge=1, le=3650, description="Unfinished enrolments are deleted after this."
    )
    verify_link_url: str = Field(
        "https://example.com/verify", max_length=500, description="Double opt-in link target."
    )
    terms_version: str | None = Field(
        None, max_length=64, description="When set, completing requires consent to these terms."
    )
    asset: str = Field("points", description="Asset code of every bonus.")
    welcome_bonus: int = Field(0, ge=0, description="Points on completing enrolment.")
    profile_bonus: int = Field(0, ge=0, description="Points when the profile fields are complete.")
    profile_fields: list[EnrolmentField] = Field(
        default_factory=lambda: [
            EnrolmentField.FIRST_NAME,
            EnrolmentField.LAST_NAME,
            EnrolmentField.BIRTH_DATE,
        ],
        description="What a complete profile has (for the profile-completion bonus).",
    )
    referrer_reward: int = Field(0, ge=0, description="Points to the referrer on qualifying.")
    referee_reward: int = Field(0, ge=0, description="Points to the referee on qualifying.")
    referral_cap: int = Field(10, ge=0, description="Most referees one member may bring.")
    qualifying_event: str = Field("purchase", description="Event type that qualifies a referral.")
    card_prefix: str = Field("9", pattern=r"^[0-9]{1,8}$", description="Card number prefix.")
    sender: SenderKind = Field(
        SenderKind.DEVELOPMENT, description="development records messages; smtp sends them."
    )
    smtp_host: str = Field("localhost", max_length=255)
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_from: str = Field("loyalty@example.com", max_length=320)
    smtp_security: SmtpSecurity = Field(
        SmtpSecurity.NONE,
        description="none, starttls (upgrade, port 587) or tls (implicit TLS, port 465). "
        "Credentials come from the environment, never from these settings.",
    )
    sign_in_by_code: bool = Field(
        False,
        description="Members sign in with a one-time code sent to an e-mail or phone they "
        "hold (signInStart, signInVerify with the public enrolment key).",
    )
    session_minutes: int = Field(
        60, ge=5, le=1440, description="How long the session of a sign-in by code lasts."
    )
    sms_gateway_domain: str | None = Field(
        None, max_length=255, description="E-mail-to-SMS gateway domain for texts via SMTP."
    )


__all__ = [
    "EnrolmentField",
    "OnboardingSettings",
    "SenderKind",
    "SmtpSecurity",
    "VerificationMethod",
]
