"""Sign-in by one-time code: a member proves an e-mail address or phone it holds and gets a
session the gateway accepts as its Bearer credential.

The answer to ``start`` is the same whether the address belongs to a member or not: an
attempt is recorded either way (for an unknown address, with no member and a code nobody is
sent), so its id, the rate limit and ``verify``'s answers look alike, and only the person
who reads the address's messages learns the code. A code is the enrolment's: six digits,
stored only as a hash keyed by the attempt, valid ``code_ttl_minutes``, locked after
``max_code_attempts`` wrong guesses, at most ``max_codes_per_hour`` per address. The address
itself is not kept, only a hash of it keyed by the tenant (what the rate limit counts by),
so a stranger typing an address leaves no contact data behind.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from loyalty_core.sdk import ErrorCode, LoyaltyError, NotFound, ValidationFailed, members, new_id
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_onboarding import codes
from loyalty_onboarding.senders import Message
from loyalty_onboarding.settings import OnboardingSettings
from loyalty_onboarding.tables import messages, sign_ins


@dataclass(frozen=True)
class Started:
    """The attempt's id and expiry (what the caller sees), and the message to send after the
    commit (None when the address belongs to no member)."""

    attempt_id: uuid.UUID
    expires_at: datetime
    message: Message | None


async def start(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: OnboardingSettings,
    *,
    email: str | None,
    phone: str | None,
    now: datetime,
) -> Started:
    """Record an attempt for the address and, when a member holds it, the code to send."""
    kind, address = _address(email, phone)
    key = address_key(tenant_id, kind, address)
    # One address's attempts are counted one at a time: the count and the insert below
    # must not interleave with another request's, or the hourly limit would not hold.
    await conn.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
    recent = await conn.scalar(
        select(func.count())
        .select_from(sign_ins)
        .where(
            sign_ins.c.tenant_id == tenant_id,
            sign_ins.c.address_key == key,
            sign_ins.c.created_at > now - timedelta(hours=1),
        )
    )
    codes.check_hourly(recent, limit=settings.max_codes_per_hour, field=kind.value)
    member = await members.find_member(conn, tenant_id, kind.value, address)
    attempt_id = new_id()
    code = codes.new_code()
    expires_at = now + timedelta(minutes=settings.code_ttl_minutes)
    await conn.execute(
        insert(sign_ins).values(
            tenant_id=tenant_id,
            id=attempt_id,
            member_id=member.id if member is not None else None,
            address_key=key,
            secret_hash=codes.secret_hash(attempt_id, code),
            expires_at=expires_at,
        )
    )
    message = None
    if member is not None:
        minutes = settings.code_ttl_minutes
        message = Message(
            tenant_id=tenant_id,
            enrolment_id=None,
            member_id=member.id,
            medium="email" if kind is members.IdentifierKind.EMAIL else "sms",
            recipient=address,
            subject="Your sign-in code",
            body=f"Your sign-in code is {code}. It is valid for {minutes} minutes. "
            "If you did not ask for it, ignore this message.",
        )
    return Started(attempt_id, expires_at, message)


async def verify(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: OnboardingSettings,
    attempt_id: uuid.UUID,
    code: str,
    *,
    now: datetime,
) -> uuid.UUID | LoyaltyError:
    """The member whose code this is, once; the code is used up. A wrong guess is returned,
    not raised: the attempt it counted must commit, or the limit would never bite. The row
    is locked, so parallel guesses are counted one by one. An attempt for an address no
    member holds fails like a wrong code, whatever is typed."""
    row = (
        await conn.execute(
            select(sign_ins)
            .where(sign_ins.c.tenant_id == tenant_id, sign_ins.c.id == attempt_id)
            .with_for_update()
        )
    ).first()
    if row is None:
        raise NotFound("no such sign-in attempt", field="attemptId")
    if row.consumed_at is not None:
        return LoyaltyError(
            "this code was used already: start again for a new one",
            code=ErrorCode.VERIFICATION_FAILED,
            field="code",
        )
    refused = codes.refusal(row.attempts, row.expires_at, limit=settings.max_code_attempts, now=now)
    if refused is not None:
        return refused
    if row.member_id is None or not codes.matches(row.id, code, row.secret_hash):
        await conn.execute(
            update(sign_ins)
            .where(sign_ins.c.tenant_id == tenant_id, sign_ins.c.id == attempt_id)
            .values(attempts=sign_ins.c.attempts + 1)
        )
        return LoyaltyError("wrong code", code=ErrorCode.VERIFICATION_FAILED, field="code")
    # Blocked since the code was sent, or erased: no session (MEMBER_NOT_ACTIVE, NOT_FOUND).
    member = await members.require_active(conn, tenant_id, row.member_id, field="attemptId")
    await conn.execute(
        update(sign_ins)
        .where(sign_ins.c.tenant_id == tenant_id, sign_ins.c.id == attempt_id)
        .values(consumed_at=now)
    )
    return member.id


KEPT_FOR = timedelta(days=1)
"""How long attempts and sign-in messages are kept: past any code's life and the hourly
limit's window, they only describe who tried to sign in when."""


async def forget_old(conn: AsyncConnection, tenant_id: uuid.UUID, *, now: datetime) -> None:
    """Delete attempts and sign-in messages older than :data:`KEPT_FOR` (the hourly job)."""
    cutoff = now - KEPT_FOR
    await conn.execute(
        delete(sign_ins).where(sign_ins.c.tenant_id == tenant_id, sign_ins.c.created_at < cutoff)
    )
    await conn.execute(
        delete(messages).where(
            messages.c.tenant_id == tenant_id,
            messages.c.enrolment_id.is_(None),
            messages.c.member_id.is_not(None),
            messages.c.created_at < cutoff,
        )
    )


def address_key(tenant_id: uuid.UUID, kind: members.IdentifierKind, address: str) -> str:
    """What attempts for one address are counted by: a hash of the tenant, the kind and the
    normalised address (never the address itself)."""
    return hashlib.sha256(f"{tenant_id}:{kind.value}:{address}".encode()).hexdigest()


def _address(email: str | None, phone: str | None) -> tuple[members.IdentifierKind, str]:
    """The one address given, normalised as identifiers are stored."""
    given = [
        (kind, value, field)
        for kind, value, field in (
            (members.IdentifierKind.EMAIL, email, "email"),
            (members.IdentifierKind.PHONE, phone, "phone"),
        )
        if value is not None and value.strip()
    ]
    if len(given) != 1:
        raise ValidationFailed("give an e-mail address or a phone number", field="email")
    kind, value, field = given[0]
    normalised = members.normalise_identifier(kind, value)
    if normalised is None:
        raise ValidationFailed(f"not a valid {field}", field=field)
    return kind, normalised


__all__ = ["KEPT_FOR", "Started", "address_key", "forget_old", "start", "verify"]
