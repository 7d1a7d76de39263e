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


__all__ = ["matches", "new_code", "new_link_token", "secret_hash"]
