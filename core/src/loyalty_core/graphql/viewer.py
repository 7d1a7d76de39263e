"""``viewer``: who the caller is, as frontends need it on start-up."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from loyalty_core import auth
from loyalty_core.auth import require_principal
from loyalty_core.context import RequestContext
from loyalty_core.members.graphql import Member, load_member
from loyalty_core.tenants.graphql import Tenant

Role = auth.Role
strawberry.enum(Role, name="Role")


@strawberry.type(description="The authenticated caller.")
class Viewer:
    role: Role
    subject: str
    scopes: list[str]
    tenant: Tenant | None
    member: Member | None = strawberry.field(description="The member, for member tokens.")
    modules: list[str] = strawberry.field(
        description="The modules the tenant enabled, by name: what a frontend shows sections "
        "for (the schema has their fields too, but introspection is off in production)."
    )


@strawberry.type
class ViewerQuery:
    @strawberry.field(description="The caller: role, tenant, and for members their account.")
    async def viewer(self, info: Info[RequestContext, None]) -> Viewer:
        ctx = info.context
        principal = require_principal(ctx.principal)
        member_id = principal.member_id
        return Viewer(
            role=principal.role,
            subject=principal.subject,
            scopes=sorted(s.value for s in principal.scopes),
            tenant=Tenant.of(ctx.tenant) if ctx.tenant else None,
            member=await load_member(info, member_id) if member_id else None,
            modules=sorted(ctx.enabled_modules),
        )


__all__ = ["Viewer", "ViewerQuery"]
