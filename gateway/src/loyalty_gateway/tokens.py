"""Minting development tokens: HS256 JWTs signed with ``Settings.jwt_secret``.

These are the tokens the gateway's authenticator accepts in development, minted by
``loyalty token``, by ``loyalty demo`` and by tests. Production deployments get member and
admin tokens from their identity provider (RS256 through ``LOYALTY_JWT_JWKS_URL``); the CLI
refuses to mint there, because a shared HS256 secret would let anyone holding it act as any
member of any tenant.

Claims: ``sub`` (the member id for member tokens, any subject otherwise), ``role``
(``member``, ``admin`` or ``platform``), ``tenant`` (the tenant's UUID; absent for platform
admins), ``iat``, ``exp``, and ``aud`` when ``LOYALTY_JWT_AUDIENCE`` is set.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from loyalty_core.auth import Role

if TYPE_CHECKING:
    from loyalty_core.settings import Settings

ALGORITHM = "HS256"
DEFAULT_TTL = timedelta(days=30)
TOKEN_ROLES = (Role.MEMBER, Role.ADMIN, Role.PLATFORM)
"""Roles a token can carry; touchpoints authenticate with API keys instead."""


class DevTokensDisabled(RuntimeError):
    """Raised when asked to mint a development token in production."""


def mint_token(
    settings: Settings,
    *,
    role: Role | str,
    subject: str,
    tenant_id: uuid.UUID | None = None,
    ttl: timedelta = DEFAULT_TTL,
    now: datetime | None = None,
) -> str:
    """A signed token for ``role``; conflicting arguments are refused before signing.

    Member and admin tokens need the tenant (the gateway takes the tenant from the
    credential only); platform tokens must not have one. A member token's subject is the
    member id, so it must be a UUID.
    """
    parsed_role = _token_role(role)
    _check_claims(parsed_role, subject, tenant_id, ttl)
    issued = now or datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": subject,
        "role": parsed_role.value,
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
    }
    if tenant_id is not None:
        claims["tenant"] = str(tenant_id)
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    # Imported here: PyJWT loads the cryptography package (a third of a second), which
    # `loyalty --help` and the parser's choices (TOKEN_ROLES) need not wait for.
    import jwt

    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=ALGORITHM)


def ensure_dev_tokens_allowed(settings: Settings) -> None:
    """Refuse in production: the HS256 secret is a development convenience only."""
    if not settings.is_development:
        raise DevTokensDisabled(
            "development tokens are not minted when LOYALTY_ENVIRONMENT=production; "
            "issue tokens from your identity provider (LOYALTY_JWT_JWKS_URL)"
        )


def _token_role(role: Role | str) -> Role:
    try:
        parsed = Role(role)
    except ValueError:
        parsed = None
    if parsed not in TOKEN_ROLES:
        allowed = ", ".join(r.value for r in TOKEN_ROLES)
        raise ValueError(f"role must be one of {allowed}, not {role!r}")
    assert parsed is not None
    return parsed


def _check_claims(role: Role, subject: str, tenant_id: uuid.UUID | None, ttl: timedelta) -> None:
    if not subject:
        raise ValueError("a token needs a subject")
    if ttl <= timedelta(0):
        raise ValueError("ttl must be positive")
    if role is Role.PLATFORM and tenant_id is not None:
        raise ValueError("platform tokens belong to no tenant")
    if role is not Role.PLATFORM and tenant_id is None:
        raise ValueError(f"{role.value} tokens need a tenant")
    if role is Role.MEMBER:
        try:
            uuid.UUID(subject)
        except ValueError as exc:
            raise ValueError("a member token's subject is the member id (a UUID)") from exc


__all__ = [
    "ALGORITHM",
    "DEFAULT_TTL",
    "DevTokensDisabled",
    "ensure_dev_tokens_allowed",
    "mint_token",
]
