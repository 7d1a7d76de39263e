"""Partners, their keys, rate cards and point blocks: the operator's side of clearing.

Each function runs in the caller's transaction and raises a ``LoyaltyError`` on bad input
before it writes, so a refused request leaves nothing behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from loyalty_core.sdk import (
    ErrorCode,
    IssuedApiKey,
    LoyaltyError,
    NotFound,
    ValidationFailed,
    create_api_key,
    is_currency,
    ledger,
    new_id,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_clearing import repository as repo
from loyalty_clearing.accounts import accounts_of
from loyalty_clearing.models import (
    Billing,
    Contact,
    MovementKind,
    Partner,
    PartnerRole,
    PartnerStatus,
    PointBlock,
    RateCard,
)
from loyalty_clearing.positions import Line, post_line

MAX_CONTACTS = 10
MAX_RATE = Decimal("1000000")


@dataclass(frozen=True)
class PartnerDraft:
    """What an operator says about a partner; None leaves a field as it is (update)."""

    name: str | None = None
    roles: Sequence[PartnerRole] | None = None
    currency: str | None = None
    billing: Billing | None = None
    credit_limit: int | None = None
    reorder_threshold: int | None = None
    contacts: Sequence[Contact] | None = None
    status: PartnerStatus | None = None


async def create_partner(
    conn: AsyncConnection, tenant_id: uuid.UUID, draft: PartnerDraft, *, actor: str
) -> Partner:
    if draft.name is None or draft.roles is None or draft.currency is None:
        raise ValidationFailed("name, roles and currency are required", field="name")
    values = _checked(draft)
    partner = await repo.insert_partner(
        conn,
        {
            "tenant_id": tenant_id,
            "id": new_id(),
            "billing": Billing.POSTPAID.value,
            **values,
            "created_by": actor,
        },
    )
    await accounts_of(conn, tenant_id, partner.id, partner.currency)
    return partner


async def update_partner(
    conn: AsyncConnection, tenant_id: uuid.UUID, partner_id: uuid.UUID, draft: PartnerDraft
) -> Partner:
    """Change what the operator says; an ended partner stays ended (its statements and
    position remain, its keys' events are refused)."""
    current = await repo.get_partner(conn, tenant_id, partner_id, lock=True)
    if current is None:
        raise NotFound("partner not found", field="id")
    if current.status is PartnerStatus.ENDED and draft.status not in (None, PartnerStatus.ENDED):
        raise ValidationFailed("an ended partnership cannot be resumed", field="status")
    if draft.currency is not None and draft.currency.upper() != current.currency:
        raise ValidationFailed(
            "the billing currency is fixed: end the partner and create another", field="currency"
        )
    updated = await repo.update_partner(conn, tenant_id, partner_id, _checked(draft))
    assert updated is not None, "the partner row is locked"
    return updated


async def create_partner_key(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    partner_id: uuid.UUID,
    *,
    name: str,
    scopes: Sequence[str],
    actor: str,
) -> IssuedApiKey:
    """An API key of the tenant bound to the partner, in one transaction: everything sent
    with it is the partner's from its first use."""
    if await repo.get_partner(conn, tenant_id, partner_id) is None:
        raise NotFound("partner not found", field="partnerId")
    issued = await create_api_key(conn, tenant_id, name=name, scopes=scopes, actor=actor)
    await repo.bind_key(conn, tenant_id, issued.api_key.id, partner_id)
    return issued


@dataclass(frozen=True)
class RateCardDraft:
    asset_code: str
    currency: str | None
    effective_from: datetime
    issue_price: Decimal
    redeem_reimbursement: Decimal
    fee_percent: Decimal
    fee_fixed: int


async def set_rate_card(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    partner_id: uuid.UUID,
    draft: RateCardDraft,
    *,
    actor: str,
    closed_until: datetime | None,
) -> RateCard:
    """A new version of the partner's card for an asset and currency, from ``effective_from``
    (never an edit). ``closed_until`` is the end of the last closed period: a card may not
    start inside it, where statements are final."""
    partner = await repo.get_partner(conn, tenant_id, partner_id)
    if partner is None:
        raise NotFound("partner not found", field="partnerId")
    currency = (draft.currency or partner.currency).upper()
    if not is_currency(currency):
        raise ValidationFailed("currency: an ISO 4217 code such as EUR", field="currency")
    for name, rate in (
        ("issuePrice", draft.issue_price),
        ("redeemReimbursement", draft.redeem_reimbursement),
    ):
        _rate(rate, name, MAX_RATE, places=8)
    _rate(draft.fee_percent, "feePercent", Decimal(100), places=4)
    if draft.fee_fixed < 0 or draft.fee_fixed > 2**53:
        raise ValidationFailed("feeFixed: a non-negative amount in minor units", field="feeFixed")
    if closed_until is not None and draft.effective_from < closed_until:
        raise LoyaltyError(
            "a rate card may not start in a closed settlement period",
            code=ErrorCode.PERIOD_CLOSED,
            field="effectiveFrom",
        )
    if await ledger.get_asset(conn, tenant_id, draft.asset_code) is None:
        raise NotFound(f"no asset {draft.asset_code[:32]!r}", field="assetCode")
    return await repo.insert_rate_card(
        conn,
        {
            "tenant_id": tenant_id,
            "id": new_id(),
            "partner_id": partner_id,
            "asset_code": draft.asset_code,
            "currency": currency,
            "effective_from": draft.effective_from,
            "issue_price": draft.issue_price,
            "redeem_reimbursement": draft.redeem_reimbursement,
            "fee_percent": draft.fee_percent,
            "fee_fixed": draft.fee_fixed,
            "actor": actor,
        },
    )


async def purchase_block(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    partner_id: uuid.UUID,
    *,
    asset_code: str,
    points: int,
    price: int,
    expires_at: datetime | None,
    idempotency_key: str,
    actor: str,
    now: datetime,
) -> tuple[PointBlock, bool]:
    """A prepaid partner buys a block of points for ``price`` (minor units, owed to the
    operator as a line of its own). The block and whether this was a replay."""
    if points <= 0 or points > 2**31 - 1:
        raise ValidationFailed("points: a positive whole number", field="points")
    if price < 0 or price > 2**53:
        raise ValidationFailed("price: a non-negative amount in minor units", field="price")
    if not idempotency_key.strip() or len(idempotency_key) > 150:
        raise ValidationFailed("idempotencyKey: 1-150 characters", field="idempotencyKey")
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed("expiresAt must be in the future", field="expiresAt")
    partner = await repo.get_partner(conn, tenant_id, partner_id)
    if partner is None:
        raise NotFound("partner not found", field="partnerId")
    if partner.billing is not Billing.PREPAID:
        raise ValidationFailed("only a prepaid partner buys point blocks", field="partnerId")
    if await ledger.get_asset(conn, tenant_id, asset_code) is None:
        raise NotFound(f"no asset {asset_code[:32]!r}", field="assetCode")
    key = f"block:{idempotency_key}"
    block = await repo.insert_block(
        conn,
        {
            "tenant_id": tenant_id,
            "id": new_id(),
            "partner_id": partner_id,
            "asset_code": asset_code,
            "points": points,
            "remaining": points,
            "price": price,
            "expires_at": expires_at,
            "idempotency_key": key,
            "actor": actor,
        },
    )
    if block is None:
        found = await repo.block_by_key(conn, tenant_id, key)
        if (found.partner_id, found.points, found.price) != (partner_id, points, price):
            raise LoyaltyError(
                "idempotencyKey was used for another block",
                code=ErrorCode.IDEMPOTENCY_CONFLICT,
                field="idempotencyKey",
            )
        return found, True
    line = Line(
        kind=MovementKind.BLOCK,
        amount=-price,
        exact=Decimal(-price),
        occurred_at=now,
        reason=f"prepaid block of {points} {asset_code}",
        cause=f"block:{block.id}",
        actor=actor,
        points=points,
        asset_code=asset_code,
        block_id=block.id,
    )
    await post_line(conn, tenant_id, partner, line, key=key, now=now)
    return block, False


async def require_acting(
    conn: AsyncConnection, tenant_id: uuid.UUID, partner_id: uuid.UUID, role: PartnerRole
) -> Partner:
    """The partner, if it is active and has ``role``; else the movement is refused."""
    partner = await repo.get_partner(conn, tenant_id, partner_id)
    if partner is None:
        raise NotFound("partner not found", field="partnerId")
    require_active(partner, role)
    return partner


def require_active(partner: Partner, role: PartnerRole) -> None:
    """Refuse a movement of a partner that is not active, or has not ``role``."""
    if partner.status is not PartnerStatus.ACTIVE:
        raise LoyaltyError(
            f"partner {partner.name!r} is {partner.status.value}", code=ErrorCode.PARTNER_NOT_ACTIVE
        )
    if role not in partner.roles:
        raise LoyaltyError(
            f"partner {partner.name!r} is not an {role.value}", code=ErrorCode.PARTNER_ROLE_MISSING
        )


def _checked(draft: PartnerDraft) -> dict[str, Any]:
    """The columns a draft sets, validated."""
    values: dict[str, Any] = {}
    if draft.name is not None:
        if not draft.name.strip() or len(draft.name) > 200:
            raise ValidationFailed("name: 1-200 characters", field="name")
        values["name"] = draft.name.strip()
    if draft.roles is not None:
        if not draft.roles:
            raise ValidationFailed("give at least one role", field="roles")
        values["roles"] = sorted({role.value for role in draft.roles})
    if draft.currency is not None:
        if not is_currency(draft.currency.upper()):
            raise ValidationFailed("currency: an ISO 4217 code such as EUR", field="currency")
        values["currency"] = draft.currency.upper()
    if draft.billing is not None:
        values["billing"] = draft.billing.value
    for name, value in (
        ("creditLimit", draft.credit_limit),
        ("reorderThreshold", draft.reorder_threshold),
    ):
        if value is not None and not 0 <= value <= 2**53:
            raise ValidationFailed(f"{name}: a non-negative amount", field=name)
    if draft.credit_limit is not None:
        values["credit_limit"] = draft.credit_limit
    if draft.reorder_threshold is not None:
        values["reorder_threshold"] = draft.reorder_threshold
    if draft.contacts is not None:
        values["contacts"] = _contacts(draft.contacts)
    if draft.status is not None:
        values["status"] = draft.status.value
    return values


def _contacts(contacts: Sequence[Contact]) -> list[dict[str, str | None]]:
    if len(contacts) > MAX_CONTACTS:
        raise ValidationFailed(f"at most {MAX_CONTACTS} contacts", field="contacts")
    checked = []
    for contact in contacts:
        if not contact.name.strip() or len(contact.name) > 200:
            raise ValidationFailed("a contact's name: 1-200 characters", field="contacts")
        for value in (contact.email, contact.phone, contact.role):
            if value is not None and len(value) > 200:
                raise ValidationFailed(
                    "a contact's details: at most 200 characters", field="contacts"
                )
        if contact.email is not None and "@" not in contact.email:
            raise ValidationFailed("a contact's email needs an @", field="contacts")
        checked.append(
            {
                "name": contact.name.strip(),
                "email": contact.email,
                "phone": contact.phone,
                "role": contact.role,
            }
        )
    return checked


def _rate(rate: Decimal, field: str, most: Decimal, *, places: int) -> None:
    if not rate.is_finite() or rate < 0 or rate > most:
        raise ValidationFailed(f"{field}: a number from 0 to {most}", field=field)
    if rate != rate.quantize(Decimal(1).scaleb(-places)):
        raise ValidationFailed(f"{field}: at most {places} decimal places", field=field)


__all__ = [
    "PartnerDraft",
    "RateCardDraft",
    "create_partner",
    "create_partner_key",
    "purchase_block",
    "require_acting",
    "require_active",
    "set_rate_card",
    "update_partner",
]
