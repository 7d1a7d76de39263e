"""The stamp card in GraphQL: ``Member.stampCard`` and ``stampCardReset`` (tenant admins).

Both are in the schema of tenants that enabled the module only."""

from __future__ import annotations

import uuid

import strawberry
from loyalty_core.sdk import (
    Member,
    RequestContext,
    UserError,
    may_read_member,
    require_admin,
    require_id,
    run_mutation,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.types import Info

from loyalty_stamp_card import service
from loyalty_stamp_card.settings import StampCardSettings


@strawberry.type(description="A member's stamp card.")
class StampCard:
    stamps: int = strawberry.field(description="Stamps on the current card.")
    stamps_per_card: int = strawberry.field(description="Stamps that fill a card.")
    completed: int = strawberry.field(description="Cards the member filled so far.")

    @classmethod
    def of(cls, card: service.Card, settings: StampCardSettings) -> StampCard:
        return cls(
            stamps=card.stamps, stamps_per_card=settings.stamps_per_card, completed=card.completed
        )


def _settings(context: RequestContext) -> StampCardSettings:
    settings = context.module_settings("stamp_card")
    assert isinstance(settings, StampCardSettings)  # the field exists only where it is enabled
    return settings


@strawberry.field(name="stampCard", description="The member's stamp card.")
async def member_stamp_card(root: Member, info: Info[RequestContext, None]) -> StampCard | None:
    member_id = uuid.UUID(str(root.id))
    context = info.context
    if not may_read_member(context.principal, member_id):
        return None
    tenant_id = context.tenant_id

    async def load(conn: AsyncConnection, member_ids: list[uuid.UUID]) -> list[service.Card]:
        return await service.cards_of(conn, tenant_id, member_ids)

    card: service.Card = await context.loader("stamp_card.cards", load).load(member_id)
    return StampCard.of(card, _settings(context))


@strawberry.input
class StampCardResetInput:
    member_id: strawberry.ID


@strawberry.type
class StampCardResetPayload:
    reset: bool = strawberry.field(description="Whether the member had stamps or full cards.")
    errors: list[UserError]


@strawberry.type
class StampCardMutation:
    @strawberry.mutation(description="Throw a member's stamp card away (tenant admins).")
    async def stamp_card_reset(
        self, info: Info[RequestContext, None], input: StampCardResetInput
    ) -> StampCardResetPayload:
        tenant_id = require_admin(info.context.principal)

        async def work(conn: AsyncConnection, _: object) -> bool:
            return await service.reset(
                conn, tenant_id, require_id(input.member_id, field="memberId")
            )

        reset, errors = await run_mutation(info, work)
        return StampCardResetPayload(reset=bool(reset), errors=errors)
