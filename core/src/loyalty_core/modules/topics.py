"""The typed payloads of the domain events the core publishes.

A domain event travels as a :class:`~loyalty_core.modules.contributions.DomainEvent`: a
topic, a tenant and a JSON payload, which is what the outbox keeps and a broker would carry.
Each topic has a frozen dataclass here that says what its payload holds, field by field:
handlers read ``EventIngested.of(event)`` instead of picking keys out of a dictionary, and
``docs/domain-events.md`` is generated from these classes (a test keeps it current).

Compatibility: a field may be added to a topic (old handlers ignore it, and ``of`` gives a
newer field its default when it reads an older outbox row); removing or changing a field
makes a new ``VERSION`` of the topic, published beside the old one until handlers moved.

The publisher hands handlers the typed object it built (``DomainEvent.data``), so ``of``
costs nothing on the write path; it parses the JSON payload only for events read back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Self, get_type_hints

if TYPE_CHECKING:
    from loyalty_core.modules.contributions import DomainEvent


@dataclass(frozen=True, slots=True)
class Doc:
    """What a payload field means, kept in its annotation: the reference is generated from
    it."""

    text: str


@dataclass(frozen=True, slots=True)
class PurchaseItem:
    """A line of a purchase's or refund's basket, as the touchpoint sent it."""

    sku: Annotated[str, Doc("The article's stock keeping unit.")]
    quantity: Annotated[int, Doc("How many were bought.")]
    unit_price: Annotated[int, Doc("Price of one, in the currency's minor unit.")]
    name: Annotated[str | None, Doc("The article's name, when sent.")] = None
    category: Annotated[str | None, Doc("The article's category, when sent.")] = None

    @classmethod
    def of_payload(cls, item: dict[str, Any]) -> PurchaseItem:
        return cls(
            sku=str(item["sku"]),
            quantity=int(item["quantity"]),
            unit_price=int(item["unitPrice"]),
            name=item.get("name"),
            category=item.get("category"),
        )

    def payload(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "quantity": self.quantity,
            "unitPrice": self.unit_price,
            "name": self.name,
            "category": self.category,
        }


@dataclass(frozen=True, slots=True)
class EventIngested:
    """An event was stored for a member and rewarded: a purchase, a refund, or any custom or
    module event type. Published in the writer's transaction, once per event (a replay
    publishes nothing)."""

    TOPIC: ClassVar[str] = "event.ingested"
    VERSION: ClassVar[int] = 1

    event_id: Annotated[uuid.UUID, Doc("The stored event (read it with `sdk.events.get_event`).")]
    type: Annotated[
        str, Doc("Its event type: `purchase`, `refund`, a tenant's or a module's type.")
    ]
    member_id: Annotated[uuid.UUID, Doc("The member it was ingested for.")]
    occurred_at: Annotated[datetime, Doc("When it happened, as the touchpoint said (UTC).")]
    source: Annotated[
        str, Doc("The touchpoint that sent it (with `external_id`, its idempotency key).")
    ]
    external_id: Annotated[str, Doc("The touchpoint's own id of the event.")]
    transactions: Annotated[
        tuple[uuid.UUID, ...],
        Doc(
            "Ledger transactions the core posted for it (base earn, campaigns, a refund's "
            "reversal)."
        ),
    ]
    amount: Annotated[
        int | None, Doc("Purchases and refunds: the amount in the currency's minor unit.")
    ] = None
    currency: Annotated[str | None, Doc("Purchases and refunds: ISO 4217 currency code.")] = None
    store: Annotated[str | None, Doc("Purchases and refunds: the store, when sent.")] = None
    items: Annotated[
        tuple[PurchaseItem, ...], Doc("Purchases and refunds: the basket's lines, when sent.")
    ] = ()
    purchase_event_id: Annotated[
        uuid.UUID | None, Doc("Refunds: the purchase this refund gives money back for.")
    ] = None
    refund_share: Annotated[
        Decimal | None,
        Doc(
            "Refunds: the refunded amount's share of the purchase's amount (0 < share <= 1): "
            "reverse what the purchase gave in this proportion."
        ),
    ] = None
    payload: Annotated[
        dict[str, Any], Doc("The event's payload as validated against its type's JSON Schema.")
    ] = field(default_factory=dict)
    actor: Annotated[
        str,
        Doc(
            "Who sent it, from the credential (`touchpoint:<API key id>`, `admin:<subject>`, "
            "`member:<id>`): what a module attributes the event to, never an argument."
        ),
    ] = ""

    @property
    def is_purchase(self) -> bool:
        return self.type == "purchase"

    @property
    def is_refund(self) -> bool:
        return self.type == "refund"

    def to_payload(self) -> dict[str, Any]:
        return {
            "eventId": str(self.event_id),
            "type": self.type,
            "memberId": str(self.member_id),
            "occurredAt": self.occurred_at.isoformat(),
            "source": self.source,
            "externalId": self.external_id,
            "transactions": [str(t) for t in self.transactions],
            "amount": self.amount,
            "currency": self.currency,
            "store": self.store,
            "items": [item.payload() for item in self.items],
            "purchaseEventId": _optional_str(self.purchase_event_id),
            "refundShare": None if self.refund_share is None else str(self.refund_share),
            "payload": self.payload,
            "actor": self.actor,
        }

    @classmethod
    def of(cls, event: DomainEvent) -> Self:
        """The typed payload of an ``event.ingested`` domain event."""
        if isinstance(event.data, cls):
            return event.data
        p = _checked(cls, event)
        share = p.get("refundShare")
        return cls(
            event_id=uuid.UUID(p["eventId"]),
            type=p["type"],
            member_id=uuid.UUID(p["memberId"]),
            occurred_at=datetime.fromisoformat(p["occurredAt"]),
            source=p["source"],
            external_id=p["externalId"],
            transactions=tuple(uuid.UUID(t) for t in p.get("transactions", ())),
            amount=p.get("amount"),
            currency=p.get("currency"),
            store=p.get("store"),
            items=tuple(PurchaseItem.of_payload(i) for i in p.get("items") or ()),
            purchase_event_id=_optional_uuid(p.get("purchaseEventId")),
            refund_share=None if share is None else Decimal(share),
            payload=dict(p.get("payload") or {}),
            actor=str(p.get("actor", "")),
        )


@dataclass(frozen=True, slots=True)
class MemberUpdated:
    """A member's profile or identifiers changed. Carries names of what changed, never the
    values: read the member with `sdk.members.get_member` for those."""

    TOPIC: ClassVar[str] = "member.updated"
    VERSION: ClassVar[int] = 1

    member_id: Annotated[uuid.UUID, Doc("The member that changed.")]
    fields: Annotated[tuple[str, ...], Doc("Names of the profile fields that changed.")]
    identifiers_changed: Annotated[bool, Doc("Whether an identifier was added or removed.")]
    added: Annotated[
        tuple[str, ...],
        Doc("Profile fields and identifier kinds the member did not have before (names only)."),
    ]

    def to_payload(self) -> dict[str, Any]:
        return {
            "memberId": str(self.member_id),
            "fields": list(self.fields),
            "identifiersChanged": self.identifiers_changed,
            "added": list(self.added),
        }

    @classmethod
    def of(cls, event: DomainEvent) -> Self:
        """The typed payload of a ``member.updated`` domain event."""
        if isinstance(event.data, cls):
            return event.data
        p = _checked(cls, event)
        return cls(
            member_id=uuid.UUID(p["memberId"]),
            fields=tuple(p.get("fields", ())),
            identifiers_changed=bool(p.get("identifiersChanged", False)),
            added=tuple(p.get("added", ())),
        )


@dataclass(frozen=True, slots=True)
class MemberErased:
    """A member's personal data was erased (the erasure's transaction committed with it).
    Published once per member: erasing again is a replay and publishes nothing."""

    TOPIC: ClassVar[str] = "member.erased"
    VERSION: ClassVar[int] = 1

    member_id: Annotated[uuid.UUID, Doc("The erased member (its id stays; nothing personal does).")]

    def to_payload(self) -> dict[str, Any]:
        return {"memberId": str(self.member_id)}

    @classmethod
    def of(cls, event: DomainEvent) -> Self:
        """The typed payload of a ``member.erased`` domain event."""
        if isinstance(event.data, cls):
            return event.data
        return cls(member_id=uuid.UUID(_checked(cls, event)["memberId"]))


@dataclass(frozen=True, slots=True)
class PointsRedeemed:
    """A member's points were spent: at a till (`pointsRedeem`), as a payment's points
    tender, for a reward; whoever spends them through the SDK's `ledger.spend`. Published in
    the redemption's transaction, once (a replay publishes nothing): a module that settles
    redemptions (clearing reimburses the acceptor) posts its side atomically with it."""

    TOPIC: ClassVar[str] = "points.redeemed"
    VERSION: ClassVar[int] = 1

    transaction_id: Annotated[uuid.UUID, Doc("The ledger transaction of the spend.")]
    member_id: Annotated[uuid.UUID, Doc("The member whose points were spent.")]
    asset_code: Annotated[str, Doc("The asset spent (`points` unless the till named another).")]
    points: Annotated[int, Doc("How many were spent (positive).")]
    occurred_at: Annotated[datetime, Doc("When (UTC).")]
    actor: Annotated[
        str, Doc("Who redeemed, from the credential (`touchpoint:<API key id>`, `admin:...`).")
    ]

    def to_payload(self) -> dict[str, Any]:
        return {
            "transactionId": str(self.transaction_id),
            "memberId": str(self.member_id),
            "assetCode": self.asset_code,
            "points": self.points,
            "occurredAt": self.occurred_at.isoformat(),
            "actor": self.actor,
        }

    @classmethod
    def of(cls, event: DomainEvent) -> Self:
        """The typed payload of a ``points.redeemed`` domain event."""
        if isinstance(event.data, cls):
            return event.data
        p = _checked(cls, event)
        return cls(
            transaction_id=uuid.UUID(p["transactionId"]),
            member_id=uuid.UUID(p["memberId"]),
            asset_code=p["assetCode"],
            points=int(p["points"]),
            occurred_at=datetime.fromisoformat(p["occurredAt"]),
            actor=p["actor"],
        )


@dataclass(frozen=True, slots=True)
class PointsRefunded:
    """Points a redemption spent were given back to the member (a refunded purchase paid
    with points, a cancelled reward): the SDK's `ledger.give_back`. Published in the
    give-back's transaction, once; a module that settled the redemption undoes its share."""

    TOPIC: ClassVar[str] = "points.refunded"
    VERSION: ClassVar[int] = 1

    transaction_id: Annotated[uuid.UUID, Doc("The ledger transaction of the give-back.")]
    redemption_id: Annotated[
        uuid.UUID, Doc("The spend given back from (`PointsRedeemed.transactionId`).")
    ]
    member_id: Annotated[uuid.UUID, Doc("The member the points were given back to.")]
    asset_code: Annotated[str, Doc("The asset given back.")]
    points: Annotated[int, Doc("How many were given back (positive).")]
    occurred_at: Annotated[datetime, Doc("When (UTC).")]
    actor: Annotated[str, Doc("Who gave them back, from the credential.")]

    def to_payload(self) -> dict[str, Any]:
        return {
            "transactionId": str(self.transaction_id),
            "redemptionId": str(self.redemption_id),
            "memberId": str(self.member_id),
            "assetCode": self.asset_code,
            "points": self.points,
            "occurredAt": self.occurred_at.isoformat(),
            "actor": self.actor,
        }

    @classmethod
    def of(cls, event: DomainEvent) -> Self:
        """The typed payload of a ``points.refunded`` domain event."""
        if isinstance(event.data, cls):
            return event.data
        p = _checked(cls, event)
        return cls(
            transaction_id=uuid.UUID(p["transactionId"]),
            redemption_id=uuid.UUID(p["redemptionId"]),
            member_id=uuid.UUID(p["memberId"]),
            asset_code=p["assetCode"],
            points=int(p["points"]),
            occurred_at=datetime.fromisoformat(p["occurredAt"]),
            actor=p["actor"],
        )


TOPICS: tuple[
    type[EventIngested]
    | type[MemberUpdated]
    | type[MemberErased]
    | type[PointsRedeemed]
    | type[PointsRefunded],
    ...,
] = (
    EventIngested,
    MemberUpdated,
    MemberErased,
    PointsRedeemed,
    PointsRefunded,
)
"""Every topic the core publishes, in the order the reference lists them."""


def documented_fields(topic: type) -> list[tuple[str, str, str]]:
    """(payload key, type, documentation) of each field of a topic's payload class."""
    hints = get_type_hints(topic, include_extras=True)
    described = []
    for f in fields(topic):
        hint = hints[f.name]
        docs = [m.text for m in getattr(hint, "__metadata__", ()) if isinstance(m, Doc)]
        described.append((_camel(f.name), _type_name(hint.__origin__), " ".join(docs)))
    return described


def _type_name(kind: object) -> str:
    """``uuid.UUID | None`` as a reader writes it: ``UUID | None``."""
    text = str(kind).replace("typing.", "")
    for qualified in ("uuid.", "datetime.", "decimal.", f"{__name__}."):
        text = text.replace(qualified, "")
    return text.replace("<class '", "").replace("'>", "")


def _checked(topic: type[Any], event: DomainEvent) -> dict[str, Any]:
    if event.topic != topic.TOPIC:
        raise ValueError(f"a {event.topic!r} event is not {topic.TOPIC!r}")
    return event.payload


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _optional_str(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def _optional_uuid(value: str | None) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(value)


__all__ = [
    "TOPICS",
    "Doc",
    "EventIngested",
    "MemberErased",
    "MemberUpdated",
    "PointsRedeemed",
    "PointsRefunded",
    "PurchaseItem",
    "documented_fields",
]
