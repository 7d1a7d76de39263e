"""Credentials to principals: RS256 tokens through a provider's JWKS, and the claims we require."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from loyalty_core.auth import Role
from loyalty_core.db.engine import Database
from loyalty_core.errors import Unauthenticated
from loyalty_core.modules.manager import build_registry
from loyalty_gateway.auth import Authenticator
from loyalty_testing import DatabaseUrls, gateway_settings, token

JWKS_URL = "https://id.example.test/.well-known/jwks.json"
ISSUER = "https://id.example.test/"
AUDIENCE = "loyalty-api"


class Provider:
    """An OIDC provider's signing key and its JWKS endpoint, counting fetches."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "key-1"
        self.fetches = 0

    def jwks(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        jwk: dict[str, Any] = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        jwk.update(kid=self.kid, alg="RS256", use="sig")
        return httpx.Response(200, json={"keys": [jwk]})

    def token(self, *, kid: str | None = None, **claims: Any) -> str:
        now = datetime.now(UTC)
        payload = {
            "sub": "admin@example.test",
            "role": "admin",
            "tenant": str(uuid.uuid4()),
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + timedelta(minutes=5),
            **claims,
        }
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": kid or self.kid})


@pytest.fixture
def provider() -> Provider:
    return Provider()


@pytest_asyncio.fixture(loop_scope="session")
async def authenticator(
    provider: Provider, database_urls: DatabaseUrls, db: Database
) -> AsyncIterator[Authenticator]:
    settings = gateway_settings(
        database_urls,
        environment="production",
        jwt_jwks_url=JWKS_URL,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(provider.jwks)) as http:
        yield Authenticator(settings, db, build_registry(load_entry_points=False), http=http)


async def test_rs256_tokens_from_the_provider_authenticate(
    authenticator: Authenticator, provider: Provider
) -> None:
    tenant_id = uuid.uuid4()

    principal = await authenticator.verify_token(provider.token(tenant=str(tenant_id)))

    assert principal.role is Role.ADMIN
    assert principal.tenant_id == tenant_id
    assert provider.fetches == 1


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": "https://elsewhere.test/"},
        {"aud": "another-api"},
        {"role": "root"},
        {"tenant": "x"},
        # The subject becomes the actor written with everything the caller does.
        {"sub": "admin\x00@example.test"},
        {"sub": "admin\ud800@example.test"},
        {"sub": "a" * 256},
    ],
    ids=["issuer", "audience", "role", "tenant", "nul-sub", "surrogate-sub", "long-sub"],
)
async def test_rs256_tokens_with_wrong_claims_are_refused(
    authenticator: Authenticator, provider: Provider, claims: dict[str, str]
) -> None:
    with pytest.raises(Unauthenticated):
        await authenticator.verify_token(provider.token(**claims))


async def test_an_unknown_key_id_refetches_the_keys_at_most_once_a_minute(
    authenticator: Authenticator, provider: Provider
) -> None:
    await authenticator.verify_token(provider.token())

    for _ in range(3):
        with pytest.raises(Unauthenticated):
            await authenticator.verify_token(provider.token(kid="rotated-away"))

    assert provider.fetches == 1


async def test_hs256_tokens_are_refused_when_not_in_development(
    authenticator: Authenticator,
) -> None:
    with pytest.raises(Unauthenticated):
        await authenticator.verify_token(token("platform", "ops", aud=AUDIENCE))


async def test_claim_names_follow_the_providers_mappers(
    provider: Provider, database_urls: DatabaseUrls, db: Database
) -> None:
    """A member token whose `sub` is the provider's user id and whose member id, role and
    tenant come in the claims the provider's mappers emit."""
    settings = gateway_settings(
        database_urls,
        environment="production",
        jwt_jwks_url=JWKS_URL,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        jwt_role_claim="loyalty_role",
        jwt_tenant_claim="loyalty_tenant",
        jwt_member_claim="loyalty_member",
    )
    tenant_id, member_id = uuid.uuid4(), uuid.uuid4()
    async with httpx.AsyncClient(transport=httpx.MockTransport(provider.jwks)) as http:
        authenticator = Authenticator(
            settings, db, build_registry(load_entry_points=False), http=http
        )
        principal = await authenticator.verify_token(
            provider.token(
                sub="idp|8f3a2c",
                role=None,
                tenant=None,
                loyalty_role="member",
                loyalty_tenant=str(tenant_id),
                loyalty_member=str(member_id),
            )
        )
    assert principal.role is Role.MEMBER
    assert principal.tenant_id == tenant_id
    assert principal.member_id == member_id
