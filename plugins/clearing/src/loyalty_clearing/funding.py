"""The funding contract: how another module has a partner pay for points it gives.

A funding source is an object with the attribute and coroutine of :class:`FundingSource`,
returned by a module's implementation of ``loyalty_clearing_funding_sources`` (see
``loyalty_clearing.hookspecs``). The contract is structural, so the module never imports
clearing, and funding happens only for tenants that enable both.

For every ingested event clearing awaits ``funded(context, event)`` of each source in the
event's transaction (``context`` is clearing's handler context: the writer's connection,
the tenant, the registry and the tenant's enabled modules). A source answers from what the
event is and from its own tables (the offer the member activated, its partner and points),
not from what its own handler has posted for the event: the order in which modules handle an
event is not a contract, so a source that decides something for the event (a budget claimed)
does it once, whichever is asked first. Clearing charges each :class:`Funded` to its partner
at the partner's issue price in effect when the event happened, as a ``funded`` line of the
partner's account, idempotent by the source's key.

A refund reverses what partners funded pro rata: the source answers, for the refund event,
the points its share takes back, each with ``reverses`` set to the purchase whose funded
movement it reverses. Clearing credits them back to the partner at the rate of that
movement (a prepaid partner's block gets them back), as a ``reversal`` line. A source that
is also a :class:`ChargeRecorder` is told the money each charge or credit came to.

Partners are also who sends with their keys: clearing implements the partner offers
module's ``loyalty_partner_offers_partners`` hook with :class:`PartnerDirectory`, so that
module knows a partner's credential without importing clearing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from loyalty_core.sdk import HandlerContext, events
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_clearing import repository as repo
from loyalty_clearing.attribution import partner_of_actor
from loyalty_clearing.hookspecs import HOOK
from loyalty_clearing.models import PartnerRole, PartnerStatus
from loyalty_clearing.positions import can_issue


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
    @property
    def reverses(self) -> uuid.UUID | None:
        """None for points funded; for points a refund takes back, the purchase event whose
        funded movement they reverse (``points`` is then what is taken back, positive)."""


class FundingSource(Protocol):
    """What a module offers clearing: its ``name`` and the points of an event partners fund."""

    @property
    def name(self) -> str: ...

    async def funded(
        self, context: HandlerContext, event: events.EventIngested
    ) -> Sequence[Funded]: ...


@runtime_checkable
class ChargeRecorder(Protocol):
    """A funding source that also keeps what its awards cost partners in money (a report
    of money owed per offer and day, say): clearing tells it, in the same transaction,
    after each :class:`Funded` it charged or credited back."""

    async def charged(
        self, context: HandlerContext, funded: Funded, amount: int, currency: str
    ) -> None:
        """``amount``: minor units of the partner's billing ``currency`` the partner owes for
        ``funded``, fees included: positive (or zero, drawn from prepaid blocks) for points
        funded, negative (what is credited back) for points a refund takes back."""


def sources(context: HandlerContext) -> list[FundingSource]:
    """The funding sources of the tenant's enabled modules."""
    if context.registry is None:
        return []
    found: list[FundingSource] = []
    for _, declared in context.registry.extensions(HOOK, context.enabled_modules):
        found.extend(declared)
    return found


class PartnerDirectory:
    """The tenant's partners as other modules may know them (the partner offers module's
    ``Directory``): the partner a credential is bound to, and whether a partner exists."""

    name = "clearing"

    async def partner_of_actor(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, actor: str
    ) -> uuid.UUID | None:
        return await partner_of_actor(conn, tenant_id, actor)

    async def partner_exists(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, partner_id: uuid.UUID
    ) -> bool:
        return await repo.get_partner(conn, tenant_id, partner_id) is not None

    async def partner_named(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, name: str
    ) -> uuid.UUID | None:
        """The partner of that name (unique per tenant), or None: how a demo finds the
        coalition's partners its offers are funded by."""
        found = [p.id for p in await repo.all_partners(conn, tenant_id) if p.name == name]
        return found[0] if found else None

    async def may_fund(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        partner_id: uuid.UUID,
        asset_code: str,
        at: datetime,
        points: int,
    ) -> bool:
        """Whether clearing would charge the partner for ``points`` funded at ``at``:
        active, an issuer, with a rate card in effect, and within its prepaid blocks and
        credit limit (:func:`~loyalty_clearing.positions.can_issue`, under the locks the
        charge takes, kept to the end of the transaction). A module asks before it awards,
        so a partner that cannot pay never makes a purchase fail."""
        partner, card = await repo.partner_with_card(conn, tenant_id, partner_id, asset_code, at)
        return (
            partner is not None
            and card is not None
            and partner.status is PartnerStatus.ACTIVE
            and PartnerRole.ISSUER in partner.roles
            and await can_issue(conn, tenant_id, partner, card, points)
        )


__all__ = ["ChargeRecorder", "Funded", "FundingSource", "PartnerDirectory", "sources"]
