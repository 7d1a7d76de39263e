"""Members as the rest of the code sees them, and the rules their fields obey."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class MemberStatus(StrEnum):
    """ACTIVE members earn and spend; BLOCKED and ERASED members do neither."""

    ACTIVE = "active"
    BLOCKED = "blocked"
    ERASED = "erased"


class IdentifierKind(StrEnum):
    """How touchpoints recognise a member; each value is unique per tenant and kind."""

    CARD_NUMBER = "card_number"
    EMAIL = "email"
    PHONE = "phone"
    EXTERNAL_ID = "external_id"


_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+[1-9][0-9]{6,14}")
_CARD = re.compile(r"[0-9A-Za-z-]{4,64}")
_EXTERNAL = re.compile(r"\S{1,200}")


def normalise_identifier(kind: IdentifierKind, value: str) -> str | None:
    """The stored form of an identifier, or None when it is not valid for its kind.

    E-mail addresses are compared case-insensitively; phones must be E.164.
    """
    value = value.strip()
    if kind is IdentifierKind.EMAIL:
        value = value.lower()
        return value if len(value) <= 320 and _EMAIL.fullmatch(value) else None
    if kind is IdentifierKind.PHONE:
        value = value.replace(" ", "")
        return value if _PHONE.fullmatch(value) else None
    if kind is IdentifierKind.CARD_NUMBER:
        return value if _CARD.fullmatch(value) else None
    return value if _EXTERNAL.fullmatch(value) else None


class Profile(BaseModel):
    """Personal data of a member: kept apart from attributes so erasure knows what to remove."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    first_name: str | None = Field(None, max_length=100, alias="firstName")
    last_name: str | None = Field(None, max_length=100, alias="lastName")
    birth_date: date | None = Field(None, alias="birthDate")
    locale: str | None = Field(None, max_length=35)


@dataclass(frozen=True)
class Identifier:
    """How touchpoints recognise a member: a kind (card number, e-mail...) and its normalised
    value, unique per tenant."""

    kind: IdentifierKind
    value: str


@dataclass(frozen=True)
class Member:
    """A member as the core keeps it: status, profile, attributes, enrolment."""

    id: uuid.UUID
    status: MemberStatus
    profile: Profile
    attributes: dict[str, object]
    enrolment_channel: str
    created_at: datetime
    updated_at: datetime
    identifiers: tuple[Identifier, ...] = field(default=())


__all__ = [
    "Identifier",
    "IdentifierKind",
    "Member",
    "MemberStatus",
    "Profile",
    "normalise_identifier",
]
