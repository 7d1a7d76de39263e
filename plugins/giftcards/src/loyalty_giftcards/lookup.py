"""Finding a card by what a customer holds (code and PIN), without helping anyone guess.

A look-up runs in a transaction of its own that always commits, so failed attempts are
counted even though the request that made them fails (its own transaction rolls back).
A wrong code and a right code with a wrong PIN give the same answer, NOT_FOUND with the same
message and field; both count against the caller's credential, and a wrong PIN also against
the card. Once either holds ``max_failed_attempts`` it is locked for ``lockout_minutes``:
GIFT_CARD_LOCKED.
"""

from __future__ import annotations

import hmac
import uuid
from datetime import datetime

from loyalty_core.sdk import Database, ErrorCode, LoyaltyError, NotFound, ValidationFailed
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_giftcards import codes, lockout
from loyalty_giftcards import repository as repo
from loyalty_giftcards.keys import tenant_keys
from loyalty_giftcards.settings import GiftCardSettings

NO_MATCH = "no gift card matches this code and PIN"


class CardLocked(LoyaltyError):
    """Too many failed look-ups of this card, or by this credential, for now."""

    code = ErrorCode.GIFT_CARD_LOCKED


async def authenticate(
    database: Database,
    tenant_id: uuid.UUID,
    *,
    actor: str,
    code: str,
    pin: str | None,
    settings: GiftCardSettings,
    now: datetime,
) -> uuid.UUID:
    """The id of the card ``code`` and ``pin`` open, or raise NotFound / CardLocked."""
    normalised = codes.normalise(code)
    if normalised is None:  # a typo the check symbol caught: not a guess at any card
        raise ValidationFailed("not a gift card code: check the symbols", field="code")
    async with database.tenant_transaction(tenant_id) as conn:
        outcome = await _attempt(conn, tenant_id, actor, normalised, pin, settings, now)
    if isinstance(outcome, LoyaltyError):
        raise outcome
    return outcome


async def _attempt(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    actor: str,
    code: str,
    pin: str | None,
    settings: GiftCardSettings,
    now: datetime,
) -> uuid.UUID | LoyaltyError:
    """Count, look, settle; the error is returned, not raised, so the counts commit."""
    credential = lockout.credential_subject(actor)
    counter = lockout.counter(settings)
    if not await counter.reserve(conn, tenant_id, credential, now):
        return CardLocked("too many failed gift card look-ups; try again later", field="code")
    key = (await tenant_keys(conn, tenant_id)).hashing
    row = await repo.find_by_hash(conn, tenant_id, codes.digest(key, code))
    card_id = None if row is None else repo.card_from_row(row).id
    if card_id is not None and not await counter.reserve(
        conn, tenant_id, lockout.card_subject(card_id), now
    ):
        await counter.succeeded(conn, tenant_id, credential)
        return CardLocked("this gift card is locked after failed look-ups", field="code")
    # The PIN is hashed even when no card matched, so both failures take the same time.
    offered = codes.digest(key, f"{card_id}:{pin or ''}")
    stored = None if row is None else row.pin_hash
    pin_ok = stored is None or (pin is not None and hmac.compare_digest(stored, offered))
    if card_id is not None and pin_ok:
        await counter.succeeded(conn, tenant_id, credential)
        await counter.succeeded(conn, tenant_id, lockout.card_subject(card_id))
        return card_id
    await counter.failed(conn, tenant_id, credential, now)
    if card_id is not None:
        await counter.failed(conn, tenant_id, lockout.card_subject(card_id), now)
    return NotFound(NO_MATCH, field="code")


def pin_hash(key: bytes, card_id: uuid.UUID, pin: str) -> str:
    """How a card's PIN is stored: keyed, and salted with the card so equal PINs differ."""
    return codes.digest(key, f"{card_id}:{pin}")


__all__ = ["NO_MATCH", "CardLocked", "authenticate", "pin_hash"]
