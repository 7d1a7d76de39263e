"""Configuration from the environment (``LOYALTY_*``), in one settings class.

Every setting is documented in the README's configuration table; a test keeps the two in step.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from sqlalchemy.engine import URL


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """All settings of a loyalty process (gateway, CLI, jobs)."""

    model_config = SettingsConfigDict(env_prefix="LOYALTY_", extra="ignore")

    environment: Environment = Field(
        Environment.DEVELOPMENT,
        description="`development` enables GraphiQL, introspection and the dev JWT secret.",
    )
    database_url: str | None = Field(
        None,
        description="Owner URL of an external PostgreSQL (>= 14). Unset: embedded PostgreSQL.",
    )
    app_database_url: str | None = Field(
        None,
        description="URL the gateway serves with. Unset: `database_url` with the app role.",
    )
    app_role: str = Field("loyalty_app", description="Non-owner role created by `migrate`.")
    app_role_password: SecretStr = Field(
        SecretStr("loyalty_app"), description="Password of the app role."
    )
    data_dir: Path = Field(
        Path(platformdirs.user_data_dir("loyalty")),
        description="Where the embedded PostgreSQL keeps its data.",
    )
    host: str = Field("127.0.0.1", description="Address `serve` binds to.")
    port: int = Field(8000, description="Port `serve` binds to.")
    jwt_secret: SecretStr = Field(
        SecretStr("dev-secret-change-me-dev-secret-change-me"),
        description="HS256 secret for member/admin tokens (development only).",
    )
    session_secret: SecretStr | None = Field(
        None,
        description="HS256 secret of the member session tokens the API issues itself "
        "(passwordless sign-in); keep it apart from every other secret. Unset: no sessions "
        "in production, the development secret in development.",
    )
    jwt_jwks_url: str | None = Field(
        None, description="JWKS URL of an OIDC provider; enables RS256 tokens."
    )
    jwt_issuer: str | None = Field(None, description="Required `iss` of RS256 tokens.")
    jwt_audience: str | None = Field(None, description="Required `aud` of tokens.")
    jwt_role_claim: str = Field("role", description="Claim naming the role (member, admin...).")
    jwt_tenant_claim: str = Field("tenant", description="Claim naming the tenant id.")
    jwt_member_claim: str = Field(
        "sub", description="Claim naming the member id of member tokens (an IdP mapper's)."
    )
    web_oidc_issuer: str | None = Field(
        None,
        description="OIDC issuer the portal and console sign in with (code flow with PKCE).",
    )
    web_oidc_client_id: str | None = Field(
        None, description="Public client id of the portal and console at `web_oidc_issuer`."
    )
    introspection: bool | None = Field(
        None, description="Allow introspection. Unset: only in development."
    )
    max_query_depth: int = Field(12, description="Deepest selection nesting accepted.")
    max_aliases: int = Field(30, description="Most aliases in one document.")
    max_tokens: int = Field(2000, description="Most lexical tokens in one document.")
    max_operations: int = Field(1, description="Most operations in one document.")
    max_fields: int = Field(
        300, description="Most fields in one document, a fragment's counted where it is spread."
    )
    max_fragment_spreads: int = Field(
        100, description="Most fragment spreads in one document, counted the same way."
    )
    max_query_cost: int = Field(
        10_000,
        description="Most a document may cost: each field once per object its lists may hold "
        "(`first`, 100 for a variable, 20 without it).",
    )
    schema_cache_size: int = Field(64, description="Composed schemas kept (one per module set).")
    pool_size: int = Field(
        10, description="Database connections per gateway process (up to twice this, held open)."
    )
    caller_cache_seconds: float = Field(
        60.0,
        description="How long a gateway reuses an API key, tenant and modules it read; "
        "changes apply at once through notifications, this is the backstop. 0 disables.",
    )
    jobs_interval_seconds: float = Field(
        60.0, description="How often `serve` runs the jobs in-process; 0 disables."
    )
    log_level: str = Field("INFO", description="Log level of the JSON logs.")

    @property
    def is_development(self) -> bool:
        return self.environment is Environment.DEVELOPMENT

    @property
    def introspection_allowed(self) -> bool:
        return self.is_development if self.introspection is None else self.introspection

    @cached_property
    def owner_url(self) -> URL:
        """URL with the owner role: migrations and role management."""
        if self.database_url is None:
            raise RuntimeError("no database_url: start the embedded PostgreSQL first")
        return _asyncpg(self.database_url)

    @cached_property
    def app_url(self) -> URL:
        """URL with the app role, which row-level security applies to."""
        if self.app_database_url is not None:
            return _asyncpg(self.app_database_url)
        return self.owner_url.set(
            username=self.app_role, password=self.app_role_password.get_secret_value()
        )


def _asyncpg(url: str) -> URL:
    """``url`` for the asyncpg driver. SQLAlchemy is imported here, not with the settings:
    it takes half a second, and commands such as ``loyalty token`` never need a URL."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql+asyncpg")


__all__ = ["Environment", "Settings"]
