"""Signing in to the portal with the tenant's OpenID Connect provider, in a real browser.

The provider is outside our system, so it is a small real one on a loopback port: discovery,
an authorization endpoint that signs the demo member in at once (a real one would ask for a
password first), a token endpoint that checks the PKCE verifier against the challenge, and
its keys. The gateway verifies the provider's RS256 ID token by those keys, as in
production; the portal does the code flow with PKCE by itself.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from loyalty_gateway.demo import DemoCredentials
from loyalty_testing import MakeApp
from playwright.async_api import expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.web import OpenPage, Site, loopback

CLIENT_ID = "loyalty-portal"
CORS = {"Access-Control-Allow-Origin": "*"}


class Provider:
    """An OpenID Connect provider that knows one person: the demo member."""

    def __init__(self, demo: DemoCredentials) -> None:
        self.demo = demo
        self.issuer = ""
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.codes: dict[str, tuple[str, str]] = {}
        self.exchanged = 0
        self.app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST", "OPTIONS"]),
                Route("/jwks", self.jwks),
            ]
        )

    async def discovery(self, request: Request) -> Response:
        document = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
        }
        return JSONResponse(document, headers=CORS)

    async def authorize(self, request: Request) -> Response:
        params = request.query_params
        assert params["client_id"] == CLIENT_ID
        assert params["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(16)
        self.codes[code] = (params["code_challenge"], params["redirect_uri"])
        return RedirectResponse(f"{params['redirect_uri']}?code={code}&state={params['state']}")

    async def token(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(headers={**CORS, "Access-Control-Allow-Headers": "content-type"})
        form = dict(parse_qsl((await request.body()).decode()))
        challenge, redirect_uri = self.codes.pop(form["code"])
        verifier = form["code_verifier"].encode()
        derived = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
        if derived.decode() != challenge or form["redirect_uri"] != redirect_uri:
            return JSONResponse({"error": "invalid_grant"}, status_code=400, headers=CORS)
        self.exchanged += 1
        now = datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": str(self.demo.member_id),
            "role": "member",
            "tenant": str(self.demo.tenant_id),
            "iat": now,
            "exp": now + timedelta(minutes=10),
        }
        id_token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "k1"})
        return JSONResponse({"id_token": id_token, "token_type": "Bearer"}, headers=CORS)

    async def jwks(self, request: Request) -> Response:
        jwk: dict[str, Any] = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        jwk.update(kid="k1", alg="RS256", use="sig")
        return JSONResponse({"keys": [jwk]})


async def test_a_member_signs_in_with_the_tenants_provider(
    make_app: MakeApp, demo_tenant: DemoCredentials, open_page: OpenPage
) -> None:
    provider = Provider(demo_tenant)
    async with loopback(provider.app) as issuer:
        provider.issuer = issuer
        running = await make_app(
            web_oidc_issuer=issuer,
            web_oidc_client_id=CLIENT_ID,
            jwt_jwks_url=f"{issuer}/jwks",
            jwt_issuer=issuer,
            jwt_audience=CLIENT_ID,
        )
        async with loopback(running.app) as url:
            site = Site(url, running, demo_tenant)
            page = await open_page(f"{site.url}/portal/")
            await page.get_by_role("button", name="Sign in with your account").click()
            await expect(page.get_by_text("Hello Mia!")).to_be_visible()
            await expect(page.get_by_test_id("balance-points")).to_be_visible()
            assert provider.exchanged == 1
            assert "code=" not in page.url  # the code left the address at once
            assert provider.codes == {}  # the code was used, once
