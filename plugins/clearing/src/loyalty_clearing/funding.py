"""The funding contract: how another module has a partner pay for points it gives.

A funding source is an object with the attribute and coroutine of :class:`FundingSource`,
returned by a module's implementation of ``loyalty_clearing_funding_sources`` (see
``loyalty_clearing.hookspecs``). The contract is structural, so the module never imports
clearing, and funding happens only for tenants that enable both.

For every ingested event clearing awaits ``funded(conn, tenant_id, event)`` of each source in
the event's transaction. A source answers from what the event is and from its own tables
(the offer the member activated, its partner and points), not from what it has posted for
the event: the order in which modules handle an event is not a contract. Clearing charges
each :class:`Funded` to its partner at the partner's issue price in effect when the event
happened, as a ``funded`` line of the partner's account, idempotent by the source's key.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from loyalty_core.sdk import HandlerContext, events
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_clearing.hookspecs import HOOK


class Funded(Protocol):
    """Points of an event a partner pays for (a source returns its own objects with these
    attributes). ``key`` is unique per source and movement (the offer and the event);
    ``reason`` is shown on the partner's statement."""

    @property
    def partner_id(self) -> uuid.UUID: ...
    @property
    def asset_code(self) -> str: ...
    @property
    def points(self) -> int: ...
    @property
    def key(self) -> str: ...
    @property
    def reason(self) -> str: ...


class FundingSource(Protocol):
    """What a module offers clearing: its ``name`` and the points of an event partners fund."""

    @property
    def name(self) -> str: ...

    async def funded(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, event: events.EventIngested
    ) -> Sequence[Funded]: ...


def sources(context: HandlerContext) -> list[FundingSource]:
    """The funding sources of the tenant's enabled modules."""
    if context.registry is None:
        return []
    found: list[FundingSource] = []
    for _, declared in context.registry.extensions(HOOK, context.enabled_modules):
        found.extend(declared)
    return found


__all__ = ["Funded", "FundingSource", "sources"]
