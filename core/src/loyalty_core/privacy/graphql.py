"""GraphQL of privacy requests: ``memberExport`` and ``memberErase``.

A tenant admin may serve either for any member of the tenant; a member may ask for its own
(the data subject's rights need no operator). Touchpoints may not: a till has no business
exporting or erasing anybody. Another member, or another tenant's, is NOT_FOUND.
"""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.scalars import JSON
from strawberry.types import Info

from loyalty_core.audit.service import record
from loyalty_core.auth import Principal, Role, require_principal, require_tenant
from loyalty_core.context import RequestContext
from loyalty_core.errors import Forbidden, NotFound
from loyalty_core.graphql.common import UserError, run_mutation
from loyalty_core.modules.dispatch import DomainEvents
from loyalty_core.privacy import service


@strawberry.input
class MemberExportInput:
    member_id: strawberry.ID


@strawberry.input
class MemberEraseInput:
    member_id: strawberry.ID


@strawberry.type
class MemberExportPayload:
    data: dict[str, Any] | None = strawberry.field(
        graphql_type=JSON | None,
        description="The member's data by module (`modules.core`, `modules.<name>`).",
    )
    errors: list[UserError]


@strawberry.type
class MemberErasePayload:
    erased: bool
    rows: dict[str, int] | None = strawberry.field(
        graphql_type=JSON | None, description="Rows changed, by module (null on a replay)."
    )
    replayed: bool = strawberry.field(
        description="True when the member was erased already: nothing was written again."
    )
    errors: list[UserError]


@strawberry.type
class PrivacyMutation:
    @strawberry.mutation(
        description="All of a member's data as JSON (Art. 15/20): admins, or the member itself."
    )
    async def member_export(
        self, info: Info[RequestContext, None], input: MemberExportInput
    ) -> MemberExportPayload:
        ctx = info.context
        principal = require_principal(ctx.principal)
        member_id = _allowed_member(principal, input.member_id)
        if member_id is None:
            return MemberExportPayload(data=None, errors=[_not_found()])

        async def work(conn: AsyncConnection, _: DomainEvents) -> dict[str, Any]:
            context = service.member_data_context(
                conn, ctx.tenant_id, member_id, now=ctx.now(), actor=principal.actor
            )
            document = await service.export_member(ctx.registry, context)
            await record(
                conn,
                ctx.tenant_id,
                actor=principal.actor,
                action="member.export",
                target=f"member:{member_id}",
            )
            return document

        document, errors = await run_mutation(info, work)
        return MemberExportPayload(data=document, errors=errors)

    @strawberry.mutation(
        description="Erase a member's personal data in every module (Art. 17); the balance "
        "is forfeited to breakage and the member's status becomes ERASED. Final."
    )
    async def member_erase(
        self, info: Info[RequestContext, None], input: MemberEraseInput
    ) -> MemberErasePayload:
        ctx = info.context
        principal = require_principal(ctx.principal)
        member_id = _allowed_member(principal, input.member_id)
        if member_id is None:
            return MemberErasePayload(
                erased=False, rows=None, replayed=False, errors=[_not_found()]
            )

        async def work(conn: AsyncConnection, events: DomainEvents) -> dict[str, int] | None:
            context = service.member_data_context(
                conn,
                ctx.tenant_id,
                member_id,
                now=ctx.now(),
                actor=principal.actor,
                database=ctx.database,
                registry=ctx.registry,
                enabled_modules=ctx.enabled_modules,
            )
            return await service.erase_member(ctx.registry, events, context)

        rows, errors = await run_mutation(info, work)
        return MemberErasePayload(
            erased=not errors, rows=rows, replayed=not errors and rows is None, errors=errors
        )


def _allowed_member(principal: Principal, value: str) -> uuid.UUID | None:
    """The member the caller may serve a privacy request for; None hides the others."""
    require_tenant(principal)
    if principal.role not in (Role.ADMIN, Role.MEMBER):
        raise Forbidden("privacy requests are for tenant admins and the member itself")
    try:
        member_id = uuid.UUID(value)
    except ValueError:
        return None
    if principal.role is Role.MEMBER and principal.member_id != member_id:
        return None
    return member_id


def _not_found() -> UserError:
    return UserError.of(NotFound("member not found", field="memberId"))


__all__ = ["PrivacyMutation"]
