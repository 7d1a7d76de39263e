"""GraphQL of modules: what is installed, what the tenant enabled, and switching them."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.scalars import JSON
from strawberry.types import Info

from loyalty_core.auth import Role, require_admin, require_principal
from loyalty_core.context import RequestContext
from loyalty_core.errors import ValidationFailed
from loyalty_core.graphql.common import UserError, run_mutation
from loyalty_core.modules import service
from loyalty_core.modules.dispatch import DomainEvents
from loyalty_core.modules.manager import CORE_MODULE


@strawberry.type(description="An installed module, or one that failed to load (with why).")
class Module:
    name: str
    version: str | None
    description: str | None
    requires: list[str]
    loaded: bool
    failure: str | None = strawberry.field(description="Why the module did not load.")
    enabled: bool | None = strawberry.field(
        description="Whether the caller's tenant enabled it (null for platform admins)."
    )
    settings: dict[str, Any] | None = strawberry.field(graphql_type=JSON | None)
    settings_schema: dict[str, Any] | None = strawberry.field(
        graphql_type=JSON | None, description="JSON Schema of the module's settings."
    )


@strawberry.input
class ModuleEnableInput:
    name: str
    settings: JSON | None = None


@strawberry.input
class ModuleDisableInput:
    name: str


@strawberry.type
class ModulePayload:
    module: Module | None
    errors: list[UserError]


@strawberry.type
class ModuleQuery:
    @strawberry.field(description="Installed modules (admins of a tenant, platform admins).")
    def modules(self, info: Info[RequestContext, None]) -> list[Module]:
        ctx = info.context
        principal = require_principal(ctx.principal)
        if principal.role is not Role.PLATFORM:
            require_admin(principal)
        return _modules(ctx, platform=principal.role is Role.PLATFORM)


@strawberry.type
class ModuleMutation:
    @strawberry.mutation(description="Enable a module for the tenant, with validated settings.")
    async def module_enable(
        self, info: Info[RequestContext, None], input: ModuleEnableInput
    ) -> ModulePayload:
        ctx = info.context
        require_admin(ctx.principal)
        actor = require_principal(ctx.principal).actor

        async def work(conn: AsyncConnection, _: DomainEvents) -> Module:
            settings: object = input.settings if input.settings is not None else {}
            if not isinstance(settings, dict):
                raise ValidationFailed("settings must be a JSON object", field="settings")
            assert ctx.tenant is not None
            enabled = await service.enable_module(
                conn, ctx.tenant, ctx.registry, input.name, settings, actor=actor
            )
            return _module(ctx, input.name, True, enabled.settings.model_dump(mode="json"))

        module, errors = await run_mutation(info, work)
        return ModulePayload(module=module, errors=errors)

    @strawberry.mutation(description="Disable a module for the tenant; its data is kept.")
    async def module_disable(
        self, info: Info[RequestContext, None], input: ModuleDisableInput
    ) -> ModulePayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        actor = require_principal(ctx.principal).actor

        async def work(conn: AsyncConnection, _: DomainEvents) -> Module:
            await service.disable_module(conn, tenant_id, ctx.registry, input.name, actor=actor)
            return _module(ctx, input.name, False, None)

        module, errors = await run_mutation(info, work)
        return ModulePayload(module=module, errors=errors)


def _modules(ctx: RequestContext, *, platform: bool) -> list[Module]:
    found = [
        _module(
            ctx,
            m.info.name,
            None if platform else m.info.name in ctx.enabled_modules,
            None
            if platform or m.info.name not in ctx.enabled_modules
            else ctx.enabled_modules[m.info.name].model_dump(mode="json"),
        )
        for m in ctx.registry.optional
    ]
    found += [
        Module(
            name=f.name,
            version=None,
            description=None,
            requires=[],
            loaded=False,
            failure=f.reason,
            enabled=None,
            settings=None,
            settings_schema=None,
        )
        for f in ctx.registry.failures
    ]
    return sorted(found, key=lambda m: m.name)


def _module(
    ctx: RequestContext, name: str, enabled: bool | None, settings: dict[str, Any] | None
) -> Module:
    module = ctx.registry.modules[name]
    return Module(
        name=name,
        version=module.info.version,
        description=module.info.description,
        requires=[r for r in module.info.requires if r != CORE_MODULE],
        loaded=True,
        failure=None,
        enabled=enabled,
        settings=settings,
        settings_schema=module.info.settings_model.model_json_schema(),
    )


__all__ = ["Module", "ModuleMutation", "ModuleQuery"]
