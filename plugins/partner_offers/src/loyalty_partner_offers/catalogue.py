"""The catalogue: offers created by the retailer or synced by a partner's own system.

A partner's system names each offer by its ``external_id`` and each sync by a ``version``:
a sync upserts (or retires) the offer when its version is newer than the stored one, and
writes nothing otherwise, so a replayed or late sync is harmless and the newest always
wins. The retailer's own offers are the same model with no partner (the tenant funds them).
Every write bumps the tenant's catalogue revision, which tells every gateway that its cached
index of live offers (``attribution``) is stale.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation

from loyalty_core.sdk import (
    EventTypeSpec,
    ModuleRegistry,
    ValidationFailed,
    check_text,
    conditions,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_partner_offers import repository as repo
from loyalty_partner_offers.effects import normalised
from loyalty_partner_offers.models import Activation, Offer, RewardKind, Status, Terms

MAX_LIST = 100
MAX_TEXT = 4000
MAX_VALUE = Decimal(1_000_000)


@dataclass(frozen=True)
class Draft:
    """An offer as a caller describes it (created, updated or synced)."""

    title: str
    starts_at: datetime
    ends_at: datetime
    terms: Terms
    activation: Activation = Activation.CLIP
    description: str = ""
    image_url: str | None = None
    terms_text: str = ""
    segment: str = ""
    budget: int | None = None
    daily_cap: int | None = None


@dataclass(frozen=True)
class Synced:
    """What one synced offer did: ``written`` is False for a replay or an older version."""

    offer: Offer
    written: bool


@dataclass(frozen=True)
class Funder:
    """Who pays for an offer's rewards (``partner_id`` None: the retailer), and the modules
    the tenant enabled (``registry``, ``enabled``), whose rule effects an offer may pay."""

    partner_id: uuid.UUID | None
    registry: ModuleRegistry | None
    enabled: Iterable[str]


async def check(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    draft: Draft,
    types: Mapping[str, EventTypeSpec],
    funder: Funder,
) -> Draft:
    """Refuse a draft that cannot be an offer (``INVALID_INPUT`` with its field; an effect
    no enabled module offers, ``UNKNOWN_EFFECT`` or ``MODULE_NOT_ENABLED``); the draft with
    its effect's parameters normalised."""
    _text(draft.title, "title", 200)
    if not draft.title.strip():
        raise ValidationFailed("an offer needs a title", field="title")
    _text(draft.description, "description", MAX_TEXT)
    _text(draft.terms_text, "termsText", MAX_TEXT)
    if draft.image_url is not None and not draft.image_url.startswith("https://"):
        raise ValidationFailed("an image URL starts with https://", field="imageUrl")
    if draft.image_url is not None:
        _text(draft.image_url, "imageUrl", 2000)
    if draft.ends_at <= draft.starts_at:
        raise ValidationFailed("an offer ends after it starts", field="endsAt")
    terms = draft.terms
    if terms.reward is RewardKind.EFFECT:
        draft = replace(draft, terms=_with_effect(terms, funder))
    elif terms.effect is not None:
        raise ValidationFailed("an effect is the reward of an EFFECT offer", field="effect")
    elif not Decimal(0) < terms.value <= MAX_VALUE or terms.value != terms.value.quantize(
        Decimal("0.0001")
    ):
        raise ValidationFailed("a reward is positive, with at most 4 decimals", field="value")
    if terms.reward is RewardKind.FIXED and terms.value != terms.value.to_integral_value():
        raise ValidationFailed("fixed points are whole", field="value")
    if terms.reward is RewardKind.MULTIPLIER and terms.value <= 1:
        raise ValidationFailed("a multiplier is more than 1", field="value")
    if not 1 <= terms.per_member_limit <= 1000:
        raise ValidationFailed("a member's limit is 1 to 1000", field="perMemberLimit")
    req = terms.requirements
    if not 0 <= req.minimum_spend <= 10**12:
        raise ValidationFailed("a minimum spend is not negative", field="minimumSpend")
    for name, values in (
        ("stores", req.stores),
        ("channels", req.channels),
        ("skus", req.skus),
        ("categories", req.categories),
    ):
        if len(values) > MAX_LIST:
            raise ValidationFailed(f"at most {MAX_LIST} {name}", field=name)
        for value in values:
            _text(value, name, 200)
            if not value.strip():
                raise ValidationFailed(f"{name} are not blank", field=name)
    if len(req.weekdays) > 7 or any(not 1 <= day <= 7 for day in req.weekdays):
        raise ValidationFailed("weekdays are 1 (Monday) to 7 (Sunday)", field="weekdays")
    for name, limit in (("budget", draft.budget), ("dailyCap", draft.daily_cap)):
        if limit is not None and not 1 <= limit <= 2**31 - 1:
            raise ValidationFailed(f"{name} is a positive number of rewards", field=name)
    if draft.segment.strip():
        _text(draft.segment, "segment", MAX_TEXT)
        await conditions.check(
            conn,
            tenant_id,
            "purchase",
            draft.segment,
            types,
            field="segment",
        )
    return draft


def _with_effect(terms: Terms, funder: Funder) -> Terms:
    """An EFFECT reward's terms, its effect validated by the module that offers it. A
    partner funds points through clearing; an effect is the retailer's own to pay."""
    if terms.effect is None:
        raise ValidationFailed("an EFFECT reward names its effect", field="effect")
    if terms.value:
        raise ValidationFailed("an EFFECT reward has no value: its effect says", field="value")
    if funder.partner_id is not None:
        raise ValidationFailed(
            "a partner funds points: an effect is a reward of the retailer's own offers",
            field="reward",
        )
    return replace(terms, effect=normalised(terms.effect, funder.registry, funder.enabled))


def _values(draft: Draft) -> dict[str, object]:
    return {
        "title": draft.title,
        "description": draft.description,
        "image_url": draft.image_url,
        "terms_text": draft.terms_text,
        "starts_at": draft.starts_at,
        "ends_at": draft.ends_at,
        "activation": draft.activation.value,
        "terms": draft.terms.to_json(),
        "segment": draft.segment,
        "budget": draft.budget,
        "daily_cap": draft.daily_cap,
    }


async def create(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    draft: Draft,
    *,
    partner_id: uuid.UUID | None,
    external_id: str | None,
    actor: str,
) -> Offer:
    if external_id is not None:
        _text(external_id, "externalId", 200)
        if await repo.offer_by_external(conn, tenant_id, partner_id, external_id):
            raise ValidationFailed("an offer has that external id", field="externalId")
    offer_id = await repo.insert_offer(
        conn,
        {
            "tenant_id": tenant_id,
            "partner_id": partner_id,
            "external_id": external_id,
            "status": Status.LIVE.value,
            "actor": actor[:200],
            **_values(draft),
        },
    )
    await repo.bump_revision(conn, tenant_id)
    found = await repo.get_offer(conn, tenant_id, offer_id)
    assert found is not None
    return found


async def update(
    conn: AsyncConnection, tenant_id: uuid.UUID, offer: Offer, draft: Draft, *, actor: str
) -> Offer:
    """Change an offer; members who activated it keep the terms they activated."""
    await repo.update_offer(conn, tenant_id, offer.id, {"actor": actor[:200], **_values(draft)})
    await repo.bump_revision(conn, tenant_id)
    found = await repo.get_offer(conn, tenant_id, offer.id)
    assert found is not None
    return found


async def retire(conn: AsyncConnection, tenant_id: uuid.UUID, offer: Offer, *, actor: str) -> Offer:
    """No member may see or activate it from now; activations earn until their window ends."""
    if offer.status is Status.RETIRED:
        return offer
    await repo.update_offer(
        conn, tenant_id, offer.id, {"status": Status.RETIRED.value, "actor": actor[:200]}
    )
    await repo.bump_revision(conn, tenant_id)
    return replace(offer, status=Status.RETIRED)


async def sync(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    partner_id: uuid.UUID | None,
    external_id: str,
    version: int,
    draft: Draft | None,
    *,
    actor: str,
) -> Synced | None:
    """Upsert (``draft``) or retire (None) the funder's offer ``external_id`` at ``version``.
    None when retiring an offer never synced."""
    _text(external_id, "externalId", 200)
    if not external_id.strip():
        raise ValidationFailed("an external id is not blank", field="externalId")
    if not 1 <= version <= 2**62:
        raise ValidationFailed("a version is a positive number", field="version")
    stored = await repo.offer_by_external(conn, tenant_id, partner_id, external_id)
    if stored is not None and stored.version >= version:
        return Synced(stored, written=False)
    if draft is None:
        if stored is None:
            return None
        values: dict[str, object] = {"status": Status.RETIRED.value}
    else:
        values = {"status": Status.LIVE.value, **_values(draft)}
    values |= {"version": version, "actor": actor[:200]}
    if stored is None:
        assert draft is not None
        offer_id = await repo.insert_offer(
            conn,
            {
                "tenant_id": tenant_id,
                "partner_id": partner_id,
                "external_id": external_id,
                **values,
            },
        )
    else:
        offer_id = stored.id
        await repo.update_offer(conn, tenant_id, offer_id, values)
    await repo.bump_revision(conn, tenant_id)
    found = await repo.get_offer(conn, tenant_id, offer_id)
    assert found is not None
    return Synced(found, written=True)


def _text(value: str, field: str, max_length: int) -> None:
    if len(value) > max_length:
        raise ValidationFailed(f"at most {max_length} characters", field=field)
    check_text(value, field)


def decimal_of(value: str, field: str) -> Decimal:
    try:
        parsed = Decimal(value)
    except InvalidOperation:
        raise ValidationFailed("not a decimal number", field=field) from None
    if not parsed.is_finite():
        raise ValidationFailed("not a decimal number", field=field)
    return parsed


__all__ = ["Draft", "Funder", "Synced", "check", "create", "decimal_of", "retire", "sync", "update"]
