"""Per-request DataLoaders: every to-many field of a list loads in one query per list."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.dataloader import DataLoader

from loyalty_core.context import RequestContext
from loyalty_core.ledger.models import Balance
from loyalty_core.ledger.queries import balances_of
from loyalty_core.members import repository as members_repo
from loyalty_core.members.models import Identifier


def identifiers_loader(ctx: RequestContext) -> DataLoader[uuid.UUID, list[Identifier]]:
    async def load(conn: AsyncConnection, ids: list[uuid.UUID]) -> list[list[Identifier]]:
        found = await members_repo.identifiers_of(conn, ctx.tenant_id, ids)
        return [found[member_id] for member_id in ids]

    return ctx.loader("member.identifiers", load)


def balances_loader(ctx: RequestContext) -> DataLoader[uuid.UUID, list[Balance]]:
    async def load(conn: AsyncConnection, ids: list[uuid.UUID]) -> list[list[Balance]]:
        found = await balances_of(conn, ctx.tenant_id, ids)
        return [found[member_id] for member_id in ids]

    return ctx.loader("member.balances", load)


__all__ = ["balances_loader", "identifiers_loader"]
