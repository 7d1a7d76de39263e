"""A well-behaved module: a root query, subscriptions, a field on Member, a route and a job."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator

import strawberry
from loyalty_core.sdk import (
    Forbidden,
    Job,
    JobContext,
    Member,
    ModuleInfo,
    RequestContext,
    SchemaContribution,
    TypeExtension,
    hookimpl,
    members,
)
from pydantic import BaseModel
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.types import Info

NAME = "greetings"
BADGES = 7
COUNTED: list[uuid.UUID] = []
"""Tenants the ``count`` job ran for."""


class GreetingsSettings(BaseModel):
    salutation: str = "Hello"


@strawberry.type
class Greeting:
    text: str


@strawberry.type
class GreetingsQuery:
    @strawberry.field(description="A greeting in the tenant's salutation.")
    def hello(self, info: Info[RequestContext, None], name: str = "world") -> Greeting:
        settings = info.context.module_settings(NAME)
        salutation = settings.salutation if isinstance(settings, GreetingsSettings) else "Hi"
        return Greeting(text=f"{salutation}, {name}!")

    @strawberry.field(description="Fails the way a bug does.")
    def greeting_failure(self) -> str:
        raise RuntimeError("connection string postgresql://secret@db")

    @strawberry.field(description="Refuses everybody.")
    def greeting_secret(self) -> str:
        raise Forbidden("greetings are secret")


@strawberry.type
class GreetingsSubscription:
    @strawberry.subscription(description="Counts down from ``start`` to 1.")
    async def countdown(self, start: int = 3) -> AsyncGenerator[int, None]:
        for number in range(start, 0, -1):
            yield number

    @strawberry.subscription(description="Says ``text`` back, once.")
    async def echo(self, text: str) -> AsyncGenerator[str, None]:
        yield text

    @strawberry.subscription(
        description="The member, now and after every change of its balances (its fields read "
        "as a query's do, through the request's DataLoaders)."
    )
    async def member_changes(
        self, info: Info[RequestContext, None], id: strawberry.ID
    ) -> AsyncGenerator[Member, None]:
        ctx = info.context
        member_id = uuid.UUID(id)
        changes = await ctx.notifier.subscribe(ctx.tenant_id, member_id)
        try:
            async with ctx.read() as conn:
                found = await members.get_member(conn, ctx.tenant_id, member_id)
            while True:
                yield Member.of(found)
                await anext(changes)
        finally:
            await changes.aclose()

    @strawberry.subscription(description="Ticks until the client stops listening.")
    async def ticks(self) -> AsyncGenerator[int, None]:
        number = 0
        while True:
            number += 1
            yield number
            await asyncio.sleep(0.01)


@strawberry.field(description="Badges the member earned.")
def badge_count(root: Member) -> int:
    return BADGES


async def ping(request: Request) -> Response:
    context: RequestContext = request.state.context
    tenant = context.tenant
    return JSONResponse({"module": NAME, "tenant": str(tenant.id) if tenant else None})


async def number(request: Request) -> Response:
    """The request's ``value`` as PostgreSQL reads an integer: what a route's own write that
    meets the database with a caller's value looks like."""
    context: RequestContext = request.state.context
    async with context.database.tenant_transaction(context.tenant_id) as conn:
        value = await conn.scalar(
            text("SELECT CAST(CAST(:v AS text) AS integer)"), {"v": request.query_params["value"]}
        )
    return JSONResponse({"value": value})


async def count_tenant(context: JobContext) -> int:
    COUNTED.append(context.tenant.id)
    return 1


@hookimpl
def loyalty_module() -> ModuleInfo:
    return ModuleInfo(
        name=NAME,
        version="1.0.0",
        description="Greets people.",
        settings_model=GreetingsSettings,
    )


@hookimpl
def loyalty_schema() -> SchemaContribution:
    return SchemaContribution(
        query=GreetingsQuery, subscription=GreetingsSubscription, types=[Greeting]
    )


@hookimpl
def loyalty_type_extensions() -> list[TypeExtension]:
    return [TypeExtension("Member", badge_count)]


@hookimpl
def loyalty_routes() -> list[Route]:
    return [Route("/ping", ping), Route("/number", number)]


@hookimpl
def loyalty_jobs() -> list[Job]:
    return [Job(name="count", run=count_tenant)]
