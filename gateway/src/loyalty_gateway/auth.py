"""Who is calling: credentials to a principal, and a principal to its tenant and modules.

Credentials, one per request:

- ``Authorization: Bearer <JWT>``: HS256 with the development secret (development only),
  RS256 signed by a key of ``jwt_jwks_url``, or a member session the API issued itself
  (HS256 with the session secret, its own issuer and audience: :mod:`loyalty_core.sessions`).
  Claims ``sub``, ``role`` (member, admin, platform), ``tenant`` (unless platform) and
  ``exp`` are required; ``aud`` is checked when ``jwt_audience`` is set, ``iss`` of RS256
  tokens when ``jwt_issuer`` is.
- ``X-Api-Key: <key>`` or ``Authorization: ApiKey <key>``: a touchpoint's API key.
- WebSocket ``connection_init`` payloads: ``{"authorization": "Bearer ..."}`` or
  ``{"apiKey": ...}``, else the headers of the upgrade request.

No credential is an anonymous caller; a bad one is refused (never downgraded to anonymous).
The tenant always comes from the credential, never from a header or an argument. Then the
tenant and the modules it enabled, which pick the schema, come from the process's
:class:`~loyalty_gateway.callers.CallerCache`, or from one tenant transaction that also checks
an API key the cache does not hold.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from loyalty_core import sessions
from loyalty_core.apikeys.service import PresentedKey, check_api_key, parse_api_key
from loyalty_core.auth import Principal, Role
from loyalty_core.db.engine import Database
from loyalty_core.errors import NotFound, Unauthenticated
from loyalty_core.inputs import text_problem
from loyalty_core.members.models import MemberStatus
from loyalty_core.members.repository import get as get_member
from loyalty_core.modules.manager import ModuleRegistry
from loyalty_core.modules.service import enabled_modules
from loyalty_core.settings import Settings
from loyalty_core.tenants.models import Tenant
from loyalty_core.tenants.service import get_tenant
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_gateway.callers import CallerCache, TenantEntry
from loyalty_gateway.jwks import JwksKeys

TOKEN_ROLES = {"member": Role.MEMBER, "admin": Role.ADMIN, "platform": Role.PLATFORM}
"""Roles a token may carry; touchpoints authenticate with API keys only."""

LEEWAY_SECONDS = 10
"""Clock skew tolerated on ``exp``, ``nbf`` and ``iat``."""


@dataclass(slots=True)
class Caller:
    """An authenticated (or anonymous) caller with its tenant and the modules it enabled."""

    principal: Principal | None
    tenant: Tenant | None = None
    enabled_modules: Mapping[str, BaseModel] = field(default_factory=dict)
    modules: frozenset[str] = frozenset()
    """The module set that picks the caller's schema (empty: the core alone)."""

    @classmethod
    def of(cls, principal: Principal, entry: TenantEntry) -> Caller:
        return cls(principal, entry.tenant, entry.enabled_modules, entry.modules)


class Authenticator:
    """Turns credentials into principals, and principals into callers."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        registry: ModuleRegistry,
        callers: CallerCache | None = None,
        *,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        """``callers`` None: nothing cached, every request reads its caller."""
        self._settings = settings
        self._database = database
        self._registry = registry
        self._callers = callers if callers is not None else CallerCache(0, live=lambda: False)
        self._owned_http: httpx.AsyncClient | None = None
        self._jwks: JwksKeys | None = None
        if settings.jwt_jwks_url:
            if http is None:
                http = self._owned_http = httpx.AsyncClient()
            self._jwks = JwksKeys(settings.jwt_jwks_url, http)

    @property
    def callers(self) -> CallerCache:
        return self._callers

    async def aclose(self) -> None:
        if self._owned_http is not None:
            await self._owned_http.aclose()

    async def caller(self, headers: Mapping[str, str]) -> Caller:
        """The caller of an HTTP request (or a WebSocket upgrade)."""
        return await self.load(await self.credential(headers))

    async def connection_caller(
        self, payload: Mapping[str, Any] | None, headers: Mapping[str, str]
    ) -> Caller:
        """The caller of a WebSocket connection: the ``connection_init`` payload's credential,
        else the upgrade request's."""
        credentials = _payload_headers(payload or {})
        return await self.load(await self.credential(credentials or headers))

    async def credential(self, headers: Mapping[str, str]) -> Principal | PresentedKey | None:
        """The request's one credential: a verified token's or known API key's principal, an
        API key still to check (in the transaction that loads its tenant), or None. Raises
        :class:`Unauthenticated` for a credential that cannot be valid."""
        authorization = headers.get("authorization")
        api_key = headers.get("x-api-key")
        if authorization is not None and api_key is not None:
            raise Unauthenticated("give one credential: Authorization or X-Api-Key")
        if authorization is not None:
            scheme, _, value = authorization.strip().partition(" ")
            if scheme.lower() == "bearer" and value.strip():
                return await self.verify_token(value.strip())
            if scheme.lower() == "apikey" and value.strip():
                return self._api_key(value)
            raise Unauthenticated("the Authorization scheme must be Bearer or ApiKey")
        if api_key is not None:
            return self._api_key(api_key)
        return None

    def _api_key(self, raw_key: str) -> Principal | PresentedKey:
        """A key the cache knows is its principal already (not parsed again); any other is
        parsed, to be checked in the transaction that loads its tenant."""
        known = self._callers.principal(raw_key)
        if known is not None:
            return known
        key = parse_api_key(raw_key)
        if key is None:
            raise Unauthenticated("invalid API key")
        return key

    async def verify_token(self, token: str) -> Principal:
        """The principal a JWT names, once its signature and claims check out."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated("invalid token: malformed") from exc
        algorithm = header.get("alg")
        if algorithm == sessions.ALGORITHM and _issuer(token) == sessions.ISSUER:
            return self._verify_session(token)
        key: Any
        if algorithm == "HS256":
            if not self._settings.is_development:
                raise Unauthenticated("invalid token: HS256 tokens are for development only")
            key = self._settings.jwt_secret.get_secret_value()
        elif algorithm == "RS256" and self._jwks is not None:
            key = await self._jwks.get(header.get("kid"))
        else:
            raise Unauthenticated(f"invalid token: algorithm {algorithm!r} is not accepted")
        audience = self._settings.jwt_audience
        # The issuer is the OIDC provider's: development tokens have none.
        issuer = self._settings.jwt_issuer if algorithm == "RS256" else None
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=audience,
                issuer=issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "sub"], "verify_aud": audience is not None},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("invalid token: expired") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from exc
        return principal_of_claims(claims, self._settings)

    def _verify_session(self, token: str) -> Principal:
        """A member session the API issued (:mod:`loyalty_core.sessions`): its own issuer,
        audience and key, and a member of a tenant, nothing else."""
        key = sessions.session_key(self._settings)
        if key is None:
            raise Unauthenticated("invalid token: this server issues no session tokens")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[sessions.ALGORITHM],
                audience=sessions.AUDIENCE,
                issuer=sessions.ISSUER,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("invalid token: expired") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from exc
        if claims.get("role") != Role.MEMBER.value:
            raise Unauthenticated("invalid token: a session is a member's")
        return Principal(
            role=Role.MEMBER,
            subject=str(_uuid(claims.get("sub"), "sub")),
            tenant_id=_uuid(claims.get("tenant"), "tenant"),
        )

    async def load(self, credential: Principal | PresentedKey | None) -> Caller:
        """The caller with its tenant and enabled modules: from the cache, else read in one
        tenant transaction, which also checks an API key the cache does not hold (a till's
        request costs at most one transaction before GraphQL runs). A member token's member
        is read once per process too (until its tenant changes): an erased member's token is
        refused. Anonymous callers and platform admins have no tenant: they get the core
        alone."""
        if credential is None:
            return Caller(None)
        tenant_id = credential.tenant_id
        if tenant_id is None:  # a platform admin's token (API keys always name a tenant)
            assert isinstance(credential, Principal)
            return Caller(credential)
        callers = self._callers
        principal = credential if isinstance(credential, Principal) else None
        member_id = None if principal is None else principal.member_id
        entry = callers.tenant(tenant_id)
        if (
            principal is not None
            and entry is not None
            and (member_id is None or callers.member_may_act(tenant_id, member_id))
        ):
            return Caller.of(principal, entry)
        generation = callers.generation
        async with self._database.tenant_transaction(tenant_id) as conn:
            if principal is None:
                assert isinstance(credential, PresentedKey)
                principal = await check_api_key(conn, credential)
                if principal is None:
                    raise Unauthenticated("invalid API key")
                callers.store_principal(credential, principal, generation=generation)
            if entry is None:
                try:
                    tenant = await get_tenant(conn, tenant_id)
                except NotFound as exc:
                    raise Unauthenticated("the credential's tenant does not exist") from exc
                enabled = await enabled_modules(conn, tenant_id, self._registry)
                entry = callers.store_tenant(tenant, enabled, generation=generation)
            if member_id is not None:
                await _require_not_erased(conn, tenant_id, member_id)
                callers.store_member(tenant_id, member_id, generation=generation)
        return Caller.of(principal, entry)


async def _require_not_erased(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_id: uuid.UUID
) -> None:
    """Refuse the token of an erased member: erasure is final, whatever the token says. A
    member not enrolled yet (or blocked) still authenticates; what it may do is checked where
    it acts."""
    member = await get_member(conn, tenant_id, member_id)
    if member is not None and member.status is MemberStatus.ERASED:
        raise Unauthenticated("invalid token: the member was erased")


MAX_SUBJECT_LENGTH = 255
"""The longest ``sub`` a token may carry (OIDC asks for at most 255 ASCII characters)."""


def principal_of_claims(claims: Mapping[str, Any], settings: Settings) -> Principal:
    """The principal of verified token claims; refuses claims that name no valid one.

    Claim names are settings, so an OIDC provider's tokens work as its mappers emit them
    (e.g. the member id in a custom claim while ``sub`` stays the provider's user id).
    """
    role = TOKEN_ROLES.get(str(claims.get(settings.jwt_role_claim)))
    if role is None:
        raise Unauthenticated("invalid token: role must be member, admin or platform")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise Unauthenticated("invalid token: no subject")
    # The subject becomes the actor of what the caller writes (audit, ledger): text the
    # database cannot store, or more than an identity provider's ids ever are, names no one.
    if len(subject) > MAX_SUBJECT_LENGTH or text_problem(subject) is not None:
        raise Unauthenticated("invalid token: the subject is not an identifier")
    if role is Role.PLATFORM:
        return Principal(role=role, subject=subject)
    tenant_id = _uuid(claims.get(settings.jwt_tenant_claim), settings.jwt_tenant_claim)
    if role is Role.MEMBER:
        member_claim = settings.jwt_member_claim
        subject = str(_uuid(claims.get(member_claim), member_claim))
    return Principal(role=role, subject=subject, tenant_id=tenant_id)


def _issuer(token: str) -> object:
    """The ``iss`` a token claims, before anything is verified: it only picks the key."""
    try:
        return jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.InvalidTokenError:
        return None


def _uuid(value: object, claim: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise Unauthenticated(f"invalid token: {claim} must be an id") from exc


def _payload_headers(payload: Mapping[str, Any]) -> dict[str, str]:
    """The credential of a ``connection_init`` payload, as the headers that would carry it."""
    found: dict[str, str] = {}
    for key, value in payload.items():
        name = key.lower()
        if name == "authorization" and isinstance(value, str):
            found["authorization"] = value
        elif name in ("apikey", "x-api-key") and isinstance(value, str):
            found["x-api-key"] = value
    return found


__all__ = [
    "LEEWAY_SECONDS",
    "MAX_SUBJECT_LENGTH",
    "TOKEN_ROLES",
    "Authenticator",
    "Caller",
    "principal_of_claims",
]
