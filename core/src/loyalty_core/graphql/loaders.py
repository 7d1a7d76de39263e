"""Per-request DataLoaders: every to-many field of a list loads in one query per list."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from loyalty_core.context import RequestContext
from loyalty_core.ledger.models import Balance
from loyalty_core.ledger.queries import balances_of
from loyalty_core.members import repository as members_repo
from loyalty_core.members.models import Identifier

V = TypeVar("V")


def _loader(
    ctx: RequestContext,
    name: str,
    load: Callable[[RequestContext, list[uuid.UUID]], Awaitable[dict[uuid.UUID, V]]],
) -> DataLoader[uuid.UUID, V]:
    existing: Any = ctx.loaders.get(name)
    if existing is None:

        async def batch(keys: Sequence[uuid.UUID]) -> list[V]:
            found = await load(ctx, list(keys))
            return [found[key] for key in keys]

        existing = ctx.loaders[name] = DataLoader(load_fn=batch)
    loader: DataLoader[uuid.UUID, V] = existing
    return loader


async def _identifiers(
    ctx: RequestContext, ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Identifier]]:
    async with ctx.read() as conn:
        return await members_repo.identifiers_of(conn, ctx.tenant_id, ids)


async def _balances(ctx: RequestContext, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Balance]]:
    async with ctx.read() as conn:
        return await balances_of(conn, ctx.tenant_id, ids)


def identifiers_loader(ctx: RequestContext) -> DataLoader[uuid.UUID, list[Identifier]]:
    return _loader(ctx, "member.identifiers", _identifiers)


def balances_loader(ctx: RequestContext) -> DataLoader[uuid.UUID, list[Balance]]:
    return _loader(ctx, "member.balances", _balances)


__all__ = ["balances_loader", "identifiers_loader"]
