"""The tenant as modules read it: ``from loyalty_core.sdk import tenants``.

Resolvers have the caller's tenant at ``info.context.tenant`` and jobs at
``JobContext.tenant``; a handler or an effect that needs it (its time zone for a day or a
week, its default currency) reads it here in the transaction it was given.
"""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.tenants import service as _service
from loyalty_core.tenants.models import Tenant


async def get_tenant(conn: AsyncConnection, tenant_id: uuid.UUID) -> Tenant:
    """The tenant: slug, name, ``timezone`` (IANA name), ``default_currency`` and its
    ``settings`` (``earnRates`` and the like). NOT_FOUND if there is none."""
    return await _service.get_tenant(conn, tenant_id)


def zone_of(tenant: Tenant) -> ZoneInfo:
    """The tenant's time zone, for the local day, week or month of a moment: days start at
    midnight there, not in UTC."""
    return ZoneInfo(tenant.timezone)


__all__ = ["Tenant", "get_tenant", "zone_of"]
