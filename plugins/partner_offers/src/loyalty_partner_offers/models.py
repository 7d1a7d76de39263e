"""What the service returns and what an offer's terms are, as frozen dataclasses.

An offer's ``Terms`` (its reward and purchase requirements) are what a member's activation
freezes: they are stored as JSON on the offer and copied onto the activation, so a
catalogue change or a retirement never changes what a member activated.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any


class RewardKind(enum.Enum):
    FIXED = "fixed"
    PER_UNIT = "per_unit"
    MULTIPLIER = "multiplier"
    EFFECT = "effect"


class Activation(enum.Enum):
    CLIP = "clip"
    AUTO = "auto"


class Status(enum.Enum):
    LIVE = "live"
    RETIRED = "retired"


class OfferState(enum.Enum):
    """Where an offer stands for one member."""

    AVAILABLE = "available"
    ACTIVATED = "activated"
    REDEEMED = "redeemed"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Requirements:
    """What a purchase must be to earn the offer. With ``skus`` or ``categories`` only the
    matching items count, for ``minimum_spend`` and for a per-unit reward."""

    minimum_spend: int = 0
    stores: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    first_purchase: bool = False
    weekdays: tuple[int, ...] = ()
    """ISO days of the week (1 Monday .. 7 Sunday) in the tenant's time zone; empty: any."""

    @property
    def by_items(self) -> bool:
        return bool(self.skus or self.categories)


@dataclass(frozen=True)
class Terms:
    """The reward and requirements: ``FIXED`` points, ``PER_UNIT`` points per major unit of
    the qualifying spend, a ``MULTIPLIER`` of the purchase's base earn (2 is double points:
    one base more), or an ``EFFECT``: an enabled module's rule effect (``effect``:
    ``{kind, params}``, normalised by the effect's model when saved; ``value`` is then 0)."""

    reward: RewardKind
    value: Decimal
    requirements: Requirements = field(default_factory=Requirements)
    per_member_limit: int = 1
    effect: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        r = self.requirements
        return {
            "reward": self.reward.value,
            "value": str(self.value),
            "effect": self.effect,
            "minimum_spend": r.minimum_spend,
            "stores": list(r.stores),
            "channels": list(r.channels),
            "skus": list(r.skus),
            "categories": list(r.categories),
            "first_purchase": r.first_purchase,
            "weekdays": list(r.weekdays),
            "per_member_limit": self.per_member_limit,
        }

    @classmethod
    def of_json(cls, data: dict[str, Any]) -> Terms:
        return cls(
            reward=RewardKind(data["reward"]),
            value=Decimal(data["value"]),
            requirements=Requirements(
                minimum_spend=int(data.get("minimum_spend", 0)),
                stores=tuple(data.get("stores", ())),
                channels=tuple(data.get("channels", ())),
                skus=tuple(data.get("skus", ())),
                categories=tuple(data.get("categories", ())),
                first_purchase=bool(data.get("first_purchase", False)),
                weekdays=tuple(int(d) for d in data.get("weekdays", ())),
            ),
            per_member_limit=int(data.get("per_member_limit", 1)),
            effect=data.get("effect"),
        )


@dataclass(frozen=True)
class Offer:
    id: uuid.UUID
    partner_id: uuid.UUID | None
    external_id: str | None
    version: int
    status: Status
    title: str
    description: str
    image_url: str | None
    terms_text: str
    starts_at: datetime
    ends_at: datetime
    activation: Activation
    terms: Terms
    segment: str
    budget: int | None
    daily_cap: int | None
    used: int
    condition_failures: int
    effect_failures: int
    updated_at: datetime

    def live_at(self, at: datetime) -> bool:
        return self.status is Status.LIVE and self.starts_at <= at < self.ends_at


@dataclass(frozen=True)
class MemberActivation:
    id: uuid.UUID
    offer_id: uuid.UUID
    member_id: uuid.UUID
    state: str
    terms: Terms
    partner_id: uuid.UUID | None
    activated_at: datetime
    ends_at: datetime
    redeemed: int


@dataclass(frozen=True)
class MemberOffer:
    """An offer as one member sees it: its state, and the terms it holds for the member."""

    offer: Offer
    state: OfferState
    activation: MemberActivation | None


@dataclass(frozen=True)
class Redeemed:
    """A reward given for a purchase."""

    id: uuid.UUID
    offer_id: uuid.UUID
    partner_id: uuid.UUID | None
    points: int
    transaction_id: uuid.UUID | None
    """The ledger transaction of its points, or the effect's first (None: it posted none)."""


@dataclass(frozen=True)
class Reversed:
    """A refund's share of a reward, taken back."""

    redemption_id: uuid.UUID
    partner_id: uuid.UUID | None
    points: int
    purchase_event_id: uuid.UUID


@dataclass(frozen=True)
class PerformanceRow:
    """One offer on one day, for its funder."""

    offer_id: uuid.UUID
    external_id: str | None
    title: str
    day: date
    activations: int
    redemptions: int
    points_awarded: int
    points_reversed: int
    money_owed: int
    """Minor units of ``currency`` the partner owes for the day's rewards, fees included,
    net of what refunds credited back (0 for the retailer's own offers)."""
    currency: str | None


__all__ = [
    "Activation",
    "MemberActivation",
    "MemberOffer",
    "Offer",
    "OfferState",
    "PerformanceRow",
    "Redeemed",
    "Requirements",
    "Reversed",
    "RewardKind",
    "Status",
    "Terms",
]
