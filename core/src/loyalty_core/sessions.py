"""Member sessions the API issues itself: a short HS256 JWT for a member who proved an
address it holds (a one-time code, through a module such as onboarding).

Most tokens come from elsewhere: the tenant's OIDC provider (RS256) in production, the
development secret in development. A session token is told apart by its own issuer and
audience (:data:`ISSUER`, :data:`AUDIENCE`), and signed with its own secret
(``LOYALTY_SESSION_SECRET``), so it can neither be mistaken for another token nor be made
with another token's key: a development token is refused in production as before, and a
session token signed with anything but the session secret does not verify. Without the
secret there are no sessions in production (:class:`SessionsNotConfigured`); development
falls back to the development secret, so the demo's sign-in works out of the box.

Claims: ``iss``, ``aud``, ``sub`` (the member id), ``role`` (``member``), ``tenant``,
``iat``, ``exp``. The gateway accepts such a token as a member's Bearer credential.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import jwt

from loyalty_core.errors import ErrorCode, LoyaltyError
from loyalty_core.settings import Settings

ALGORITHM = "HS256"
ISSUER = "loyalty:session"
AUDIENCE = "loyalty:member-session"
MAX_TTL = timedelta(hours=24)
"""The longest a session token may live: a session is renewed by signing in again."""


class SessionsNotConfigured(LoyaltyError):
    """Production without ``LOYALTY_SESSION_SECRET``: the API issues no session tokens."""

    code = ErrorCode.SESSIONS_NOT_CONFIGURED


def session_key(settings: Settings) -> str | None:
    """The secret session tokens are signed and verified with: ``session_secret``, else in
    development the development secret; None in production without one."""
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value()
    if settings.is_development:
        return settings.jwt_secret.get_secret_value()
    return None


def issue_member_session(
    settings: Settings,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    now: datetime,
    ttl: timedelta,
) -> str:
    """A session token for ``member_id`` of ``tenant_id``, valid for ``ttl`` (at most
    :data:`MAX_TTL`). Raises :class:`SessionsNotConfigured` when there is no session key."""
    key = session_key(settings)
    if key is None:
        raise SessionsNotConfigured(
            "sign-in is not available: the operator has not set LOYALTY_SESSION_SECRET"
        )
    if not timedelta(0) < ttl <= MAX_TTL:
        raise ValueError(f"a session lasts more than nothing and at most {MAX_TTL}")
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(member_id),
        "role": "member",
        "tenant": str(tenant_id),
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)


__all__ = [
    "ALGORITHM",
    "AUDIENCE",
    "ISSUER",
    "MAX_TTL",
    "SessionsNotConfigured",
    "issue_member_session",
    "session_key",
]
