"""GraphQL of members: the Member type, lookups and the member mutations."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.scalars import JSON
from strawberry.types import Info

from loyalty_core.auth import Role, Scope, may_read_member, require_principal, require_scope
from loyalty_core.context import RequestContext
from loyalty_core.errors import Forbidden, NotFound, ValidationFailed
from loyalty_core.graphql.common import (
    Connection,
    Cursors,
    UserError,
    connection,
    page_size,
    run_mutation,
)
from loyalty_core.graphql.loaders import balances_loader, identifiers_loader
from loyalty_core.ledger.graphql_types import Balance, LedgerEntry
from loyalty_core.ledger.queries import member_ledger
from loyalty_core.members import models, service
from loyalty_core.members import repository as repo
from loyalty_core.modules.dispatch import DomainEvents
from loyalty_core.rules.engine import module_facts
from loyalty_core.rules.graphql import ActiveCampaign
from loyalty_core.rules.service import campaigns_for_member

MemberStatus = models.MemberStatus
strawberry.enum(MemberStatus, name="MemberStatus")
IdentifierKind = models.IdentifierKind
strawberry.enum(IdentifierKind, name="IdentifierKind")


@strawberry.type(description="How touchpoints recognise a member (unique per tenant and kind).")
class Identifier:
    kind: IdentifierKind
    value: str


@strawberry.type(description="A customer of the tenant, with their points.")
class Member:
    """The core's GraphQL ``Member``: return it from a field, or extend it with
    ``TypeExtension``."""

    id: strawberry.ID
    status: MemberStatus
    first_name: str | None
    last_name: str | None
    birth_date: date | None
    locale: str | None
    attributes: dict[str, Any] = strawberry.field(graphql_type=JSON)
    enrolment_channel: str
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="Card numbers, e-mail, phone, external ids.")
    async def identifiers(self, info: Info[RequestContext, None]) -> list[Identifier]:
        found = await identifiers_loader(info.context).load(uuid.UUID(self.id))
        return [Identifier(kind=i.kind, value=i.value) for i in found]

    @strawberry.field(description="Available and pending balance of every asset.")
    async def balances(self, info: Info[RequestContext, None]) -> list[Balance]:
        member_id = uuid.UUID(self.id)
        found = await balances_loader(info.context).load(member_id)
        return [Balance.of(b, member_id) for b in found]

    @strawberry.field(description="Entries on the member's accounts, newest first, with causes.")
    async def ledger(
        self,
        info: Info[RequestContext, None],
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[LedgerEntry]:
        limit = page_size(first)
        ctx = info.context
        cursors = Cursors(ctx.tenant_id, f"ledger:{self.id}")
        async with ctx.read() as conn:
            lines = await member_ledger(
                conn,
                ctx.tenant_id,
                uuid.UUID(self.id),
                after=cursors.decode(after),
                limit=limit + 1,
            )
        return connection(cursors, lines, limit, lambda line: line.entry_id, LedgerEntry.of)

    @strawberry.field(
        description="Campaigns running now that target the member (by segment, if any), by "
        "name: the offers an app shows. Whether an event meets a campaign's condition is "
        "known when it arrives."
    )
    async def active_campaigns(self, info: Info[RequestContext, None]) -> list[ActiveCampaign]:
        ctx = info.context
        assert ctx.tenant is not None  # a member is always read in its tenant
        async with ctx.read() as conn:
            facts = module_facts(ctx.registry, ctx.enabled_modules)
            found = await campaigns_for_member(
                conn, ctx.tenant, uuid.UUID(self.id), ctx.now(), facts
            )
        return [ActiveCampaign.of(version) for version in found]

    @classmethod
    def of(cls, member: models.Member) -> Member:
        profile = member.profile
        return cls(
            id=strawberry.ID(str(member.id)),
            status=member.status,
            first_name=profile.first_name,
            last_name=profile.last_name,
            birth_date=profile.birth_date,
            locale=profile.locale,
            attributes=member.attributes,
            enrolment_channel=member.enrolment_channel,
            created_at=member.created_at,
            updated_at=member.updated_at,
        )


@strawberry.input
class IdentifierInput:
    """A member named by an identifier (card number, e-mail...) instead of an id."""

    kind: IdentifierKind
    value: str


@strawberry.input
class ProfileInput:
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    birth_date: date | None = strawberry.UNSET
    locale: str | None = strawberry.UNSET


@strawberry.input
class MemberCreateInput:
    identifiers: list[IdentifierInput]
    profile: ProfileInput | None = None
    attributes: JSON | None = None
    channel: str = "api"


@strawberry.input
class MemberUpdateInput:
    id: strawberry.ID
    profile: ProfileInput | None = None
    attributes: JSON | None = strawberry.field(
        default=None, description="Merged into the attributes; a null value removes a key."
    )
    status: MemberStatus | None = None
    add_identifiers: list[IdentifierInput] | None = None
    remove_identifiers: list[IdentifierInput] | None = None


@strawberry.type
class MemberPayload:
    member: Member | None
    errors: list[UserError]


async def load_member(info: Info[RequestContext, None], member_id: uuid.UUID) -> Member | None:
    """A member the caller may see, or None (another tenant's or another member's: not found)."""
    ctx = info.context
    if not may_read_member(ctx.principal, member_id):
        return None
    async with ctx.read() as conn:
        found = await repo.get(conn, ctx.tenant_id, member_id)
    return None if found is None else Member.of(found)


@strawberry.type
class MemberQuery:
    @strawberry.field(description="A member by id; null when not found or not visible.")
    async def member(self, info: Info[RequestContext, None], id: strawberry.ID) -> Member | None:
        member_id = _member_id_or_none(id)
        return None if member_id is None else await load_member(info, member_id)

    @strawberry.field(description="The member holding an identifier (a till scanning a card).")
    async def member_by_identifier(
        self,
        info: Info[RequestContext, None],
        kind: IdentifierKind,
        value: str,
    ) -> Member | None:
        ctx = info.context
        require_scope(ctx.principal, Scope.MEMBERS_READ)
        async with ctx.read() as conn:
            found = await service.find_member(conn, ctx.tenant_id, kind.value, value)
        return None if found is None else Member.of(found)

    @strawberry.field(description="Members newest first; `search` matches identifiers and names.")
    async def members(
        self,
        info: Info[RequestContext, None],
        first: int | None = None,
        after: str | None = None,
        search: str | None = None,
        status: MemberStatus | None = None,
    ) -> Connection[Member]:
        ctx = info.context
        require_scope(ctx.principal, Scope.MEMBERS_READ)
        limit = page_size(first)
        cursors = Cursors(ctx.tenant_id, "members")
        async with ctx.read() as conn:
            found = await repo.search(
                conn,
                ctx.tenant_id,
                query=search[:200] if search else None,
                status=status,
                after=cursors.decode(after),
                limit=limit + 1,
            )
        return connection(cursors, found, limit, lambda member: member.id, Member.of)


@strawberry.type
class MemberMutation:
    @strawberry.mutation(description="Enrol a member (admins; touchpoints with members:write).")
    async def member_create(
        self, info: Info[RequestContext, None], input: MemberCreateInput
    ) -> MemberPayload:
        ctx = info.context
        tenant_id = require_scope(ctx.principal, Scope.MEMBERS_WRITE)

        async def work(conn: AsyncConnection, _: DomainEvents) -> models.Member:
            return await service.create_member(
                conn,
                tenant_id,
                identifiers=[(i.kind.value, i.value) for i in input.identifiers],
                profile=_profile(input.profile),
                attributes=_object(input.attributes),
                channel=input.channel,
                actor=ctx.principal.actor if ctx.principal else "anonymous",
            )

        created, errors = await run_mutation(info, work)
        return MemberPayload(member=Member.of(created) if created else None, errors=errors)

    @strawberry.mutation(
        description="Change a member. Members may change their own profile and attributes."
    )
    async def member_update(
        self, info: Info[RequestContext, None], input: MemberUpdateInput
    ) -> MemberPayload:
        ctx = info.context
        principal = require_principal(ctx.principal)
        member_id = _member_id_or_none(input.id)
        if principal.role is Role.MEMBER:
            if member_id is None or principal.member_id != member_id:
                return MemberPayload(member=None, errors=[_not_found()])
            if input.status or input.add_identifiers or input.remove_identifiers:
                raise Forbidden("members may change their profile and attributes only")
        else:
            require_scope(principal, Scope.MEMBERS_WRITE)
        if member_id is None:
            return MemberPayload(member=None, errors=[_not_found()])
        tenant_id = ctx.tenant_id

        async def work(conn: AsyncConnection, events: DomainEvents) -> models.Member:
            return await service.update_member(
                conn,
                tenant_id,
                member_id,
                profile=_profile(input.profile),
                attributes=_object(input.attributes),
                status=input.status,
                add_identifiers=[(i.kind.value, i.value) for i in input.add_identifiers or []],
                remove_identifiers=[
                    (i.kind.value, i.value) for i in input.remove_identifiers or []
                ],
                actor=principal.actor,
                events=events,
            )

        updated, errors = await run_mutation(info, work)
        return MemberPayload(member=Member.of(updated) if updated else None, errors=errors)


def _profile(profile: ProfileInput | None) -> dict[str, object] | None:
    if profile is None:
        return None
    fields = {
        "firstName": profile.first_name,
        "lastName": profile.last_name,
        "birthDate": profile.birth_date,
        "locale": profile.locale,
    }
    return {k: v for k, v in fields.items() if v is not strawberry.UNSET}


def _object(value: object) -> dict[str, object] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValidationFailed("attributes must be a JSON object", field="attributes")
    return value


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _member_id_or_none(value: str) -> uuid.UUID | None:
    return uuid.UUID(value) if _is_uuid(value) else None


def _not_found() -> UserError:
    return UserError.of(NotFound("member not found", field="id"))


__all__ = ["Identifier", "Member", "MemberMutation", "MemberPayload", "MemberQuery", "load_member"]
