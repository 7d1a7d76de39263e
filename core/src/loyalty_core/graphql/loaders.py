"""Per-request DataLoaders: every to-many field of a list loads in one query per list."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.dataloader import DataLoader

from loyalty_core.context import RequestContext
from loyalty_core.ledger.models import Balance
from loyalty_core.ledger.queries import Expiring, balances_of, expiring_of
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


def expiring_loader(ctx: RequestContext, days: int) -> DataLoader[uuid.UUID, list[Expiring]]:
    """Points expiring within ``days`` from now, per member (one loader per window asked)."""
    assert ctx.tenant is not None  # balances are read in the member's tenant
    timezone = ctx.tenant.timezone

    async def load(conn: AsyncConnection, ids: list[uuid.UUID]) -> list[list[Expiring]]:
        until = ctx.now() + timedelta(days=days)
        found = await expiring_of(conn, ctx.tenant_id, ids, until=until, timezone=timezone)
        return [found[member_id] for member_id in ids]

    return ctx.loader(f"member.expiring:{days}", load)


__all__ = ["balances_loader", "expiring_loader", "identifiers_loader"]
