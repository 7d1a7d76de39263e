"""GraphQL of API keys (tenant admins): the secret is in the create payload, and only there."""

from __future__ import annotations

from datetime import datetime

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.types import Info

from loyalty_core import auth
from loyalty_core.apikeys import service
from loyalty_core.auth import require_admin, require_principal
from loyalty_core.context import RequestContext
from loyalty_core.graphql.common import UserError, require_id, run_mutation
from loyalty_core.modules.dispatch import DomainEvents

Scope = auth.Scope
strawberry.enum(Scope, name="Scope")


@strawberry.type(description="A touchpoint's credential (its secret is never shown again).")
class ApiKey:
    id: strawberry.ID
    name: str
    scopes: list[Scope]
    created_by: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: service.ApiKey) -> ApiKey:
        return cls(
            id=strawberry.ID(str(key.id)),
            name=key.name,
            scopes=list(key.scopes),
            created_by=key.created_by,
            created_at=key.created_at,
            revoked_at=key.revoked_at,
        )


@strawberry.input
class ApiKeyCreateInput:
    name: str
    scopes: list[Scope]


@strawberry.input
class ApiKeyRevokeInput:
    id: strawberry.ID


@strawberry.type
class ApiKeyCreatePayload:
    api_key: ApiKey | None
    secret: str | None = strawberry.field(description="Send as `X-Api-Key`. Shown only once.")
    errors: list[UserError]


@strawberry.type
class ApiKeyRevokePayload:
    api_key: ApiKey | None
    errors: list[UserError]


@strawberry.type
class ApiKeyQuery:
    @strawberry.field(description="The tenant's API keys (tenant admins).")
    async def api_keys(self, info: Info[RequestContext, None]) -> list[ApiKey]:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        async with ctx.read() as conn:
            return [ApiKey.of(k) for k in await service.list_api_keys(conn, tenant_id)]


@strawberry.type
class ApiKeyMutation:
    @strawberry.mutation(description="Create an API key for a touchpoint (tenant admins).")
    async def api_key_create(
        self, info: Info[RequestContext, None], input: ApiKeyCreateInput
    ) -> ApiKeyCreatePayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        actor = require_principal(ctx.principal).actor

        async def work(conn: AsyncConnection, _: DomainEvents) -> service.IssuedApiKey:
            return await service.create_api_key(
                conn,
                tenant_id,
                name=input.name,
                scopes=[s.value for s in input.scopes],
                actor=actor,
            )

        issued, errors = await run_mutation(info, work)
        if issued is None:
            return ApiKeyCreatePayload(api_key=None, secret=None, errors=errors)
        return ApiKeyCreatePayload(
            api_key=ApiKey.of(issued.api_key), secret=issued.secret, errors=[]
        )

    @strawberry.mutation(description="Revoke an API key; it stops working at once.")
    async def api_key_revoke(
        self, info: Info[RequestContext, None], input: ApiKeyRevokeInput
    ) -> ApiKeyRevokePayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        actor = require_principal(ctx.principal).actor

        async def work(conn: AsyncConnection, _: DomainEvents) -> service.ApiKey:
            return await service.revoke_api_key(conn, tenant_id, require_id(input.id), actor=actor)

        revoked, errors = await run_mutation(info, work)
        return ApiKeyRevokePayload(api_key=ApiKey.of(revoked) if revoked else None, errors=errors)


__all__ = ["ApiKey", "ApiKeyMutation", "ApiKeyQuery"]
