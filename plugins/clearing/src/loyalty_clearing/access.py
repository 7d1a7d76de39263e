"""Who may read clearing data, decided in one place.

A tenant admin (the operator) reads every partner and statement. A partner's own API key
reads its own partner, statements and movements and nothing else of the tenant: anything
else is NOT_FOUND to it, as another tenant's would be. Everyone else is FORBIDDEN.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from loyalty_core.sdk import Forbidden, RequestContext, Role, parse_id, require_principal
from loyalty_core.sdk import require_tenant as _require_tenant
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_clearing.attribution import partner_of_key


@dataclass(frozen=True)
class Reader:
    """What the caller may read: every partner (``partner_id`` None) or one."""

    tenant_id: uuid.UUID
    partner_id: uuid.UUID | None

    def may_read(self, partner_id: uuid.UUID) -> bool:
        return self.partner_id is None or self.partner_id == partner_id


async def reader(ctx: RequestContext, conn: AsyncConnection) -> Reader:
    principal = require_principal(ctx.principal)
    tenant_id = _require_tenant(principal)
    if principal.role is Role.ADMIN:
        return Reader(tenant_id, None)
    if principal.role is Role.TOUCHPOINT:
        key_id = parse_id(principal.subject)
        partner_id = None if key_id is None else await partner_of_key(conn, tenant_id, key_id)
        if partner_id is not None:
            return Reader(tenant_id, partner_id)
    raise Forbidden("clearing is read by the operator and by a partner's own keys")


__all__ = ["Reader", "reader"]
