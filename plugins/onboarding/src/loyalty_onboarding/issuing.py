"""Member cards after enrolment: issue another card, or replace one (lost, damaged, a
physical card for a digital one). Replacing blocks the old number in the same transaction:
it stops identifying the member and is never issued again.

The card rows are the audit trail of cards (who issued each, who blocked it, when, and which
card replaced it); the identifier change is also the core's audited ``member.update``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from loyalty_core.sdk import ErrorCode, LoyaltyError, NotFound, ValidationFailed, members, new_id
from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_onboarding.cards import is_valid_card_number, new_card_number
from loyalty_onboarding.models import Card, CardKind, CardStatus
from loyalty_onboarding.settings import OnboardingSettings
from loyalty_onboarding.tables import cards

CARD = members.IdentifierKind.CARD_NUMBER.value


def clean_number(value: str, field: str) -> str:
    """A card number as typed (spaces allowed), checked against its check digit."""
    number = value.strip().replace(" ", "")
    if not is_valid_card_number(number):
        raise ValidationFailed("not a valid card number (check digit)", field=field)
    return number


async def number_taken(conn: AsyncConnection, tenant_id: uuid.UUID, number: str) -> bool:
    """Whether a member holds the number or a card ever had it (blocked ones included)."""
    if await members.find_member(conn, tenant_id, CARD, number) is not None:
        return True
    found = await conn.scalar(
        select(cards.c.id).where(cards.c.tenant_id == tenant_id, cards.c.number == number)
    )
    return found is not None


async def free_card_number(
    conn: AsyncConnection, tenant_id: uuid.UUID, settings: OnboardingSettings
) -> str:
    """A new card number nobody holds and no card ever had."""
    while True:
        number = new_card_number(settings.card_prefix)
        if not await number_taken(conn, tenant_id, number):
            return number


async def issue_card(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: OnboardingSettings,
    member_id: uuid.UUID,
    *,
    kind: CardKind,
    number: str | None,
    replaces: str | None,
    actor: str,
    now: datetime,
) -> Card:
    """Issue a card to an active member (``number`` for a physical card handed over, else a
    new one), blocking the card ``replaces`` names (one of the member's active cards)."""
    await members.require_active(conn, tenant_id, member_id)
    old = None
    if replaces is not None:
        old_number = replaces.strip().replace(" ", "")
        old = (
            await conn.execute(
                select(cards)
                .where(
                    cards.c.tenant_id == tenant_id,
                    cards.c.member_id == member_id,
                    cards.c.number == old_number,
                )
                .with_for_update()
            )
        ).first()
        if old is None:
            raise NotFound("the member has no card with that number", field="replaces")
        if old.status != CardStatus.ACTIVE.value:
            raise ValidationFailed("that card is blocked already", field="replaces")
    if number is None:
        new_number = await free_card_number(conn, tenant_id, settings)
    else:
        new_number = clean_number(number, "number")
        if await number_taken(conn, tenant_id, new_number):
            raise LoyaltyError(
                "this card number was issued already",
                code=ErrorCode.DUPLICATE_IDENTIFIER,
                field="number",
            )
    card_id = new_id()
    await conn.execute(
        insert(cards).values(
            tenant_id=tenant_id,
            id=card_id,
            member_id=member_id,
            number=new_number,
            kind=kind.value,
            status=CardStatus.ACTIVE.value,
            issued_by=actor[:200],
        )
    )
    if old is not None:
        await conn.execute(
            update(cards)
            .where(cards.c.tenant_id == tenant_id, cards.c.id == old.id)
            .values(
                status=CardStatus.BLOCKED.value,
                blocked_at=now,
                blocked_by=actor[:200],
                replaced_by=card_id,
            )
        )
    await members.update_member(
        conn,
        tenant_id,
        member_id,
        add_identifiers=[(CARD, new_number)],
        remove_identifiers=[(CARD, old.number)] if old is not None else [],
        actor=actor,
    )
    row = (
        await conn.execute(
            select(cards).where(cards.c.tenant_id == tenant_id, cards.c.id == card_id)
        )
    ).one()
    return card_of(row)


def card_of(row: Row[Any]) -> Card:
    return Card(
        number=row.number,
        kind=CardKind(row.kind),
        created_at=row.created_at,
        status=CardStatus(row.status),
        blocked_at=row.blocked_at,
    )


__all__ = ["card_of", "clean_number", "free_card_number", "issue_card", "number_taken"]
