"""Partners as this module sees them, through the directories of its hook (``hookspecs``).

A partner is identified by the credential, never by an argument: ``partner_of`` reads the
partner bound to the caller's API key from the tenant's directories. ``directories`` is
empty when no enabled module keeps partners (clearing is off): then the tenant funds its
own offers only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from loyalty_core.sdk import ErrorCode, LoyaltyError, ModuleRegistry, NotFound, ledger
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_partner_offers.hookspecs import HOOK


class Directory(Protocol):
    """What a module that keeps partners offers this one."""

    @property
    def name(self) -> str: ...

    async def partner_of_actor(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, actor: str
    ) -> uuid.UUID | None: ...

    async def partner_exists(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, partner_id: uuid.UUID
    ) -> bool: ...

    async def partner_named(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, name: str
    ) -> uuid.UUID | None: ...

    async def may_fund(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        partner_id: uuid.UUID,
        asset_code: str,
        at: datetime,
        points: int,
    ) -> bool: ...


def directories(registry: ModuleRegistry | None, enabled: Iterable[str]) -> list[Directory]:
    """The partner directories of the tenant's enabled modules."""
    if registry is None:
        return []
    found: list[Directory] = []
    for _, declared in registry.extensions(HOOK, enabled):
        found.extend(declared)
    return found


async def partner_of(
    conn: AsyncConnection, tenant_id: uuid.UUID, found: list[Directory], actor: str
) -> uuid.UUID | None:
    """The partner bound to ``actor``'s credential, or None."""
    for directory in found:
        partner_id = await directory.partner_of_actor(conn, tenant_id, actor)
        if partner_id is not None:
            return partner_id
    return None


async def may_fund(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    found: list[Directory],
    partner_id: uuid.UUID,
    at: datetime,
    points: int,
) -> bool:
    """Whether the partner can pay for ``points`` awarded at ``at`` (active, an issuer,
    priced, within its prepaid blocks and credit limit): a reward it cannot pay for is not
    given, and the purchase goes through."""
    asset = ledger.DEFAULT_ASSET_CODE
    for directory in found:
        if await directory.may_fund(conn, tenant_id, partner_id, asset, at, points):
            return True
    return False


async def partner_named(
    conn: AsyncConnection, tenant_id: uuid.UUID, found: list[Directory], name: str
) -> uuid.UUID | None:
    """The partner of that name, or None (the demo's offers find their funders so)."""
    for directory in found:
        partner_id = await directory.partner_named(conn, tenant_id, name)
        if partner_id is not None:
            return partner_id
    return None


async def require_partner(
    conn: AsyncConnection, tenant_id: uuid.UUID, found: list[Directory], partner_id: uuid.UUID
) -> None:
    """Refuse a partner-funded offer where no module keeps partners (``MODULE_NOT_ENABLED``)
    or the partner is unknown (``NOT_FOUND``)."""
    if not found:
        raise LoyaltyError(
            "a partner-funded offer needs the clearing module",
            code=ErrorCode.MODULE_NOT_ENABLED,
            field="partnerId",
        )
    for directory in found:
        if await directory.partner_exists(conn, tenant_id, partner_id):
            return
    raise NotFound("partner not found", field="partnerId")


__all__ = [
    "Directory",
    "directories",
    "may_fund",
    "partner_named",
    "partner_of",
    "require_partner",
]
