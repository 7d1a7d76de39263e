"""Ingesting events: validate -> store (idempotent) -> rewards -> domain events, in the
caller's one transaction.

Idempotency is on (tenant, source, external id): the same event sent again returns the
first result and writes nothing; the same id with another payload is IDEMPOTENCY_CONFLICT.
A refund reverses what its purchase earned, pro rata over the refunded share, using floor on
the cumulative share so a purchase refunded in parts gives back exactly what it earned.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.audit.service import record
from loyalty_core.errors import ErrorCode, LoyaltyError, NotFound, ValidationFailed
from loyalty_core.events import repository as repo
from loyalty_core.events.builtin import BUILTIN_SCHEMAS, PURCHASE, REFUND
from loyalty_core.events.models import (
    EventInput,
    EventType,
    IngestResult,
    Notice,
    NoticeCode,
    StoredEvent,
)
from loyalty_core.events.tables import event_types
from loyalty_core.hashing import fingerprint
from loyalty_core.ids import new_id
from loyalty_core.ledger import repository as ledger_repo
from loyalty_core.ledger import service as ledger
from loyalty_core.ledger.models import Asset, Cause, LedgerTransaction
from loyalty_core.members import service as members
from loyalty_core.members.models import Member
from loyalty_core.modules.contributions import DomainEvent, EventTypeSpec
from loyalty_core.modules.dispatch import DomainEvents
from loyalty_core.modules.topics import EventIngested, PurchaseItem
from loyalty_core.rules import engine as rules
from loyalty_core.tenants.models import Tenant
from loyalty_core.tenants.service import DEFAULT_ASSET_CODE

TYPE_NAME = re.compile(r"[a-z][a-z0-9_.]{0,63}")
SOURCE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
MAX_EXTERNAL_ID = 200
MAX_FUTURE_SKEW = timedelta(minutes=5)


@dataclass
class Ingestion:
    """Everything ingestion needs besides the event: who, when, which module types exist,
    and where domain events go. One per event's transaction."""

    tenant: Tenant
    actor: str
    now: datetime
    domain_events: DomainEvents
    module_event_types: Mapping[str, EventTypeSpec] = field(default_factory=dict)
    rewards: list[RewardStep] = field(default_factory=list)
    members: dict[uuid.UUID, Member] = field(default_factory=dict)
    """Members read while ingesting, by id: reward steps take the event's member from here
    rather than read it again in the same transaction."""
    assets: dict[str, Asset] = field(default_factory=dict)
    """Assets read while ingesting, by code, for the same reason."""
    validators: dict[str, Draft202012Validator] = field(default_factory=dict)
    """Validators of the module and custom event types met, by type: a chunk of a batch
    checks many events of one type in one transaction."""

    async def asset(self, conn: AsyncConnection, code: str) -> Asset | None:
        """The tenant's asset ``code``, read once per ingestion."""
        found = self.assets.get(code)
        if found is None:
            found = await ledger_repo.get_asset(conn, self.tenant.id, code)
            if found is not None:
                self.assets[code] = found
        return found


RewardStep = Callable[[AsyncConnection, Ingestion, StoredEvent], Awaitable[list[LedgerTransaction]]]
"""A step that rewards an event (base earn now, the rules engine later); returns what it posted."""


async def ingest(conn: AsyncConnection, ingestion: Ingestion, event: EventInput) -> IngestResult:
    """Ingest one event in the caller's transaction. Raises a LoyaltyError on bad input."""
    tenant = ingestion.tenant
    await check(conn, ingestion, event)
    member = await _resolve_member(conn, tenant.id, event)
    member_id = member.id
    purchase = await _purchase_refunded(conn, tenant.id, event) if event.type == REFUND else None
    row = event_row(ingestion, event, member_id, purchase.id if purchase else None)
    stored = await repo.insert_event(conn, row)
    if stored is None:
        return await _replay(conn, tenant, event, row["payload_hash"])
    ingestion.members[member_id] = members.check_active(member)
    if purchase is not None:
        posted = await _reverse_purchase(conn, ingestion, stored, purchase)
    else:
        posted = []
        for step in ingestion.rewards or [base_earn]:
            posted += await step(conn, ingestion, stored)
    posted += await ingestion.domain_events.publish(
        conn, ingested(tenant.id, stored, posted, purchase, actor=ingestion.actor)
    )
    return IngestResult(
        stored, replayed=False, transactions=posted, notices=notices(tenant, stored)
    )


async def check(conn: AsyncConnection, ingestion: Ingestion, event: EventInput) -> None:
    """Refuse an event whose envelope or payload is malformed (a LoyaltyError)."""
    _validate_envelope(event, ingestion.now)
    quick = _QUICK_VALIDATORS.get(event.type)
    if quick is not None and quick.is_valid(event.payload):
        return
    _validate_payload(await _validator_of(conn, ingestion, event.type), event.payload)


def event_row(
    ingestion: Ingestion, event: EventInput, member_id: uuid.UUID, purchase_id: uuid.UUID | None
) -> dict[str, Any]:
    """The ``events`` row of a checked event of ``member_id``, with the fingerprint that tells
    a replay from a conflict."""
    amount, currency = _money(event)
    return {
        "tenant_id": ingestion.tenant.id,
        "id": new_id(),
        "type": event.type,
        "source": event.source,
        "external_id": event.external_id,
        "member_id": member_id,
        "occurred_at": event.occurred_at or ingestion.now,
        "payload": event.payload,
        "payload_hash": fingerprint(
            {
                "type": event.type,
                "member": member_id,
                "at": event.occurred_at,
                "payload": event.payload,
            }
        ),
        "amount": amount,
        "currency": currency,
        "purchase_id": purchase_id,
        "actor": ingestion.actor,
    }


def ingested(
    tenant_id: uuid.UUID,
    event: StoredEvent,
    posted: list[LedgerTransaction],
    purchase: StoredEvent | None = None,
    *,
    actor: str,
) -> DomainEvent:
    """The ``event.ingested`` domain event of a stored event and what it posted; for a
    refund, ``purchase`` is the purchase it refunds."""
    payload = event.payload
    items = payload.get("items") if event.amount is not None else None
    share = None
    if purchase is not None and event.amount is not None and purchase.amount:
        share = Decimal(event.amount) / Decimal(purchase.amount)
    return DomainEvent.of(
        tenant_id,
        EventIngested(
            event_id=event.id,
            type=event.type,
            member_id=event.member_id,
            occurred_at=event.occurred_at,
            source=event.source,
            external_id=event.external_id,
            transactions=tuple(t.id for t in posted),
            amount=event.amount,
            currency=event.currency,
            store=payload.get("store") if event.amount is not None else None,
            items=tuple(PurchaseItem.of_payload(i) for i in items or ()),
            purchase_event_id=event.purchase_id,
            refund_share=share,
            payload=payload,
            actor=actor,
        ),
    )


def notices(tenant: Tenant, event: StoredEvent) -> tuple[Notice, ...]:
    """What the sender of a stored event should know: a purchase in a currency the tenant
    has no earn rate for earns no base points (it is valid, and campaigns may still award).
    Said by the tenant's rates as they are, so a replay says it too."""
    if event.type != PURCHASE or event.currency is None or tenant.earn_rate(event.currency):
        return ()
    earned = sorted(code for code in _rates(tenant) if tenant.earn_rate(code))
    message = f"purchases in {event.currency} earn no base points: " + (
        f"points are earned in {', '.join(earned)}" if earned else "no currency earns points"
    )
    return (Notice(NoticeCode.CURRENCY_NOT_EARNED, message),)


def _rates(tenant: Tenant) -> list[str]:
    rates = tenant.settings.get("earnRates", {})
    return [str(code) for code in rates] if isinstance(rates, dict) else []


async def base_earn(
    conn: AsyncConnection, ingestion: Ingestion, event: StoredEvent
) -> list[LedgerTransaction]:
    """Points per currency unit from the tenant's ``earnRates`` (before any campaign)."""
    base = base_posting(ingestion, event)
    if base is None:
        return []
    asset = await ingestion.asset(conn, DEFAULT_ASSET_CODE)
    if asset is None:
        return []
    posting, points = base
    posted = await ledger.earn(conn, posting, member_id=event.member_id, asset=asset, amount=points)
    return [posted.transaction]


def base_posting(ingestion: Ingestion, event: StoredEvent) -> tuple[ledger.Posting, int] | None:
    """The base earn's posting and points of the tenant's default asset, or None when the
    event earns nothing."""
    points = rules.base_points(ingestion.tenant, event)
    if points <= 0:
        return None
    reference = event.payload.get("orderReference", event.external_id)
    return _posting(ingestion, f"event:{event.id}:base", f"purchase {reference}", event), points


async def list_event_types(
    conn: AsyncConnection, tenant_id: uuid.UUID, module_types: Mapping[str, EventTypeSpec]
) -> list[EventType]:
    """Built-in, module and the tenant's own event types, by name."""
    found = [EventType(name, "", schema, builtin=True) for name, schema in BUILTIN_SCHEMAS.items()]
    found += [
        EventType(spec.name, spec.description, spec.json_schema, builtin=True, module=module)
        for module, spec in _module_types_by_module(module_types)
    ]
    found += [
        EventType(row.name, row.description, dict(row.json_schema), builtin=False)
        for row in await repo.list_custom_types(conn, tenant_id)
    ]
    return sorted(found, key=lambda t: t.name)


async def save_event_type(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    name: str,
    json_schema: dict[str, Any],
    description: str,
    module_types: Mapping[str, EventTypeSpec],
    actor: str,
) -> EventType:
    """Register or change a tenant's custom event type after checking its JSON Schema."""
    if not TYPE_NAME.fullmatch(name):
        raise ValidationFailed(
            "name: a lowercase letter, then up to 63 of a-z, 0-9, _ and .", field="name"
        )
    if name in BUILTIN_SCHEMAS or name in module_types:
        raise LoyaltyError(
            f"{name!r} is a built-in event type", code=ErrorCode.ALREADY_EXISTS, field="name"
        )
    if len(description) > 500:
        raise ValidationFailed("description: at most 500 characters", field="description")
    try:
        Draft202012Validator.check_schema(json_schema)
    except SchemaError as exc:
        raise ValidationFailed(
            f"not a valid JSON Schema: {exc.message}", field="jsonSchema"
        ) from exc
    if json_schema.get("type") != "object":
        raise ValidationFailed(
            'the schema must describe an object ("type": "object")', field="jsonSchema"
        )
    await conn.execute(
        pg_insert(event_types)
        .values(tenant_id=tenant_id, name=name, json_schema=json_schema, description=description)
        .on_conflict_do_update(
            index_elements=["tenant_id", "name"],
            set_={"json_schema": json_schema, "description": description, "updated_at": func.now()},
        )
    )
    await record(
        conn, tenant_id, actor=actor, action="event_type.save", target=f"event_type:{name}"
    )
    return EventType(name, description, json_schema, builtin=False)


def _module_types_by_module(
    module_types: Mapping[str, EventTypeSpec],
) -> list[tuple[str | None, EventTypeSpec]]:
    return [(None, spec) for spec in module_types.values()]


def _validate_envelope(event: EventInput, now: datetime) -> None:
    if not TYPE_NAME.fullmatch(event.type):
        raise LoyaltyError(
            f"unknown event type {event.type[:64]!r}",
            code=ErrorCode.UNKNOWN_EVENT_TYPE,
            field="type",
        )
    if not SOURCE.fullmatch(event.source):
        raise ValidationFailed("source: 1-64 of A-Z a-z 0-9 _ . : -", field="source")
    if not event.external_id or len(event.external_id) > MAX_EXTERNAL_ID:
        raise ValidationFailed(f"externalId: 1-{MAX_EXTERNAL_ID} characters", field="externalId")
    if (event.member_id is None) == (event.identifier is None):
        raise ValidationFailed("give exactly one of memberId and identifier", field="memberId")
    if event.occurred_at is not None:
        if event.occurred_at.tzinfo is None:
            raise ValidationFailed("occurredAt needs a time zone", field="occurredAt")
        if event.occurred_at > now + MAX_FUTURE_SKEW:
            raise ValidationFailed("occurredAt lies in the future", field="occurredAt")


_BUILTIN_VALIDATORS = {name: Draft202012Validator(s) for name, s in BUILTIN_SCHEMAS.items()}
"""The built-in types' validators, built once: every purchase is checked against one."""
_QUICK_VALIDATORS = {name: jsonschema_rs.validator_for(s) for name, s in BUILTIN_SCHEMAS.items()}
"""The built-in schemas compiled by jsonschema-rs, which confirms a valid payload (nearly
every one) in under a microsecond where the reference validator above takes 30. A payload it
refuses is described by the reference validator, so error messages do not depend on it. Only
for the built-in schemas, whose keywords (types, bounds, lengths, simple patterns) both read
alike; tenants' and modules' schemas go to the reference validator alone."""


async def _validator_of(
    conn: AsyncConnection, ingestion: Ingestion, type_: str
) -> Draft202012Validator:
    if type_ in _BUILTIN_VALIDATORS:
        return _BUILTIN_VALIDATORS[type_]
    found = ingestion.validators.get(type_)
    if found is not None:
        return found
    if type_ in ingestion.module_event_types:
        found = Draft202012Validator(ingestion.module_event_types[type_].json_schema)
    else:
        row = await repo.get_custom_type(conn, ingestion.tenant.id, type_)
        if row is None:
            raise LoyaltyError(
                f"unknown event type {type_!r}", code=ErrorCode.UNKNOWN_EVENT_TYPE, field="type"
            )
        found = Draft202012Validator(dict(row.json_schema))
    ingestion.validators[type_] = found
    return found


def _validate_payload(validator: Draft202012Validator, payload: dict[str, Any]) -> None:
    error = next(iter(sorted(validator.iter_errors(payload), key=str)), None)
    if error is not None:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        raise LoyaltyError(
            f"payload{where}: {error.message[:300]}",
            code=ErrorCode.SCHEMA_VIOLATION,
            field=f"payload{where}",
        )


async def _resolve_member(conn: AsyncConnection, tenant_id: uuid.UUID, event: EventInput) -> Member:
    if event.member_id is not None:
        return await members.get_member(conn, tenant_id, event.member_id)
    assert event.identifier is not None
    kind, value = event.identifier
    found = await members.find_member(conn, tenant_id, kind, value)
    if found is None:
        raise NotFound("no member has this identifier", field="identifier")
    return found


def _money(event: EventInput) -> tuple[int | None, str | None]:
    if event.type in (PURCHASE, REFUND):
        return int(event.payload["amount"]), str(event.payload["currency"])
    return None, None


async def _purchase_refunded(
    conn: AsyncConnection, tenant_id: uuid.UUID, event: EventInput
) -> StoredEvent:
    source = str(event.payload.get("purchaseSource", event.source))
    found = await repo.get_by_external_id(
        conn, tenant_id, source, str(event.payload["purchaseExternalId"])
    )
    if found is None or found[0].type != PURCHASE:
        raise NotFound("no purchase with this external id", field="payload.purchaseExternalId")
    purchase = found[0]
    if purchase.currency != event.payload["currency"]:
        raise ValidationFailed(
            f"the purchase was paid in {purchase.currency}", field="payload.currency"
        )
    return purchase


async def _reverse_purchase(
    conn: AsyncConnection, ingestion: Ingestion, refund: StoredEvent, purchase: StoredEvent
) -> list[LedgerTransaction]:
    assert refund.amount is not None
    assert purchase.amount is not None
    before = await repo.add_refunded_amount(conn, ingestion.tenant.id, purchase.id, refund.amount)
    if before is None:
        left = purchase.amount - purchase.refunded_amount
        raise LoyaltyError(
            f"refund exceeds what is left of the purchase ({left})",
            code=ErrorCode.REFUND_EXCEEDS_PURCHASE,
            field="payload.amount",
        )
    after = before + refund.amount
    posted: list[LedgerTransaction] = []
    reversed_: list[tuple[LedgerTransaction, int]] = []
    for transaction_id, member_id, asset_id, earned in await repo.credits_of_event(
        conn, ingestion.tenant.id, purchase.id
    ):
        due = earned * after // purchase.amount - earned * before // purchase.amount
        if due <= 0:
            continue
        original = await ledger_repo.get_transaction(conn, ingestion.tenant.id, transaction_id)
        asset = await _asset(conn, ingestion.tenant.id, asset_id)
        assert original is not None
        result = await ledger.reverse(
            conn,
            _posting(
                ingestion,
                f"event:{refund.id}:reverse:{transaction_id}",
                f"refund of {purchase.external_id}",
                refund,
            ),
            original=original,
            member_id=member_id,
            asset=asset,
            amount=due,
        )
        posted.append(result.transaction)
        reversed_.append((original, due))
    await rules.credit_back(
        conn, ingestion.tenant.id, purchase.id, reversed_, complete=after == purchase.amount
    )
    return posted


async def _asset(conn: AsyncConnection, tenant_id: uuid.UUID, asset_id: uuid.UUID) -> Asset:
    for asset in await ledger_repo.list_assets(conn, tenant_id):
        if asset.id == asset_id:
            return asset
    raise NotFound("asset not found")


async def _replay(
    conn: AsyncConnection, tenant: Tenant, event: EventInput, payload_hash: str
) -> IngestResult:
    tenant_id = tenant.id
    found = await repo.get_by_external_id(conn, tenant_id, event.source, event.external_id)
    assert found is not None
    stored, first_hash = found
    if first_hash != payload_hash:
        raise LoyaltyError(
            "this source and external id were ingested with another payload",
            code=ErrorCode.IDEMPOTENCY_CONFLICT,
            field="externalId",
        )
    rows = await repo.transactions_of_event(conn, tenant_id, stored.id)
    return IngestResult(
        stored,
        replayed=True,
        transactions=[ledger_repo.transaction_from_row(r) for r in rows],
        notices=notices(tenant, stored),
    )


def _posting(ingestion: Ingestion, key: str, reason: str, event: StoredEvent) -> ledger.Posting:
    return ledger.Posting(
        tenant_id=ingestion.tenant.id,
        idempotency_key=key,
        reason=reason,
        cause=Cause(kind="event", id=f"{event.type}:{event.external_id}", event_id=event.id),
        actor=ingestion.actor,
        now=ingestion.now,
    )


__all__ = [
    "Ingestion",
    "RewardStep",
    "base_earn",
    "base_posting",
    "check",
    "event_row",
    "ingest",
    "ingested",
    "list_event_types",
    "notices",
    "save_event_type",
]
