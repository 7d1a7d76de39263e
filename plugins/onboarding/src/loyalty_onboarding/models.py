"""What onboarding hands around: plain frozen dataclasses and the enums of its vocabulary."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Channel(StrEnum):
    """Where a person enrols: a website, an app, or a till (touchpoint)."""

    WEB = "web"
    APP = "app"
    POS = "pos"


class EnrolmentStatus(StrEnum):
    STARTED = "started"
    VERIFIED = "verified"
    COMPLETED = "completed"


class Review(StrEnum):
    """Where a suspicious enrolment stands in the review queue."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ConsentPurpose(StrEnum):
    TERMS = "terms"
    MARKETING_EMAIL = "marketing_email"
    MARKETING_SMS = "marketing_sms"
    PROFILING = "profiling"
    PARTNER_SHARING = "partner_sharing"


class CardKind(StrEnum):
    DIGITAL = "digital"
    PHYSICAL = "physical"


class CardStatus(StrEnum):
    """A blocked card (replaced, lost) no longer identifies anyone, and its number is never
    issued again."""

    ACTIVE = "active"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class Enrolment:
    id: uuid.UUID
    channel: Channel
    status: EnrolmentStatus
    review: Review | None
    review_reason: str | None
    email: str | None
    phone: str | None
    card_number: str | None
    profile: dict[str, Any]
    referrer_id: uuid.UUID | None
    member_id: uuid.UUID | None
    created_at: datetime
    verified_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True)
class ConsentRecord:
    purpose: ConsentPurpose
    granted: bool
    text_version: str | None
    channel: str
    source: str
    recorded_at: datetime


@dataclass(frozen=True)
class Card:
    number: str
    kind: CardKind
    created_at: datetime
    status: CardStatus = CardStatus.ACTIVE
    blocked_at: datetime | None = None


@dataclass(frozen=True)
class Referral:
    id: uuid.UUID
    referrer_id: uuid.UUID
    referee_id: uuid.UUID
    status: str
    created_at: datetime
    rewarded_at: datetime | None


__all__ = [
    "Card",
    "CardKind",
    "Channel",
    "ConsentPurpose",
    "ConsentRecord",
    "Enrolment",
    "EnrolmentStatus",
    "Referral",
    "Review",
]
