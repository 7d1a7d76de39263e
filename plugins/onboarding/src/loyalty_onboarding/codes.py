"""One-time verification secrets: six-digit codes and double opt-in link tokens.

Only a hash is stored, keyed by the verification's id, so a copy of the table does not
hand out working codes for a table of precomputed hashes; guessing online is what the
attempt limit stops.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime

from loyalty_core.sdk import ErrorCode, LoyaltyError

CODE_DIGITS = 6


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def new_link_token() -> str:
    return secrets.token_urlsafe(24)


def secret_hash(verification_id: uuid.UUID, secret: str) -> str:
    return hashlib.sha256(f"{verification_id}:{secret.strip()}".encode()).hexdigest()


def matches(verification_id: uuid.UUID, secret: str, stored_hash: str) -> bool:
    """Whether ``secret`` is the one issued, compared in constant time."""
    return hmac.compare_digest(secret_hash(verification_id, secret), stored_hash)


def refusal(
    attempts: int, expires_at: datetime, *, limit: int, now: datetime
) -> LoyaltyError | None:
    """Why a code may not be tried now (enrolment's and sign-in's alike): too many wrong
    guesses, or too late; None when it may."""
    if attempts >= limit:
        return LoyaltyError(
            "too many wrong codes: start again for a new one",
            code=ErrorCode.TOO_MANY_ATTEMPTS,
            field="code",
        )
    if expires_at <= now:
        return LoyaltyError(
            "the code has expired: start again for a new one",
            code=ErrorCode.VERIFICATION_EXPIRED,
            field="code",
        )
    return None


def check_hourly(sent: int | None, *, limit: int, field: str) -> None:
    """Refuse another code when ``sent`` codes went out in the last hour already: each new
    code brings a fresh set of guesses, so without this asking again would undo the limit
    on guesses."""
    if int(sent or 0) >= limit:
        raise LoyaltyError(
            "too many codes asked for: try again in an hour",
            code=ErrorCode.TOO_MANY_ATTEMPTS,
            field=field,
        )


__all__ = ["check_hourly", "matches", "new_code", "new_link_token", "refusal", "secret_hash"]
