"""Enabling and disabling modules per tenant. No DDL ever runs here: a module's tables exist
from ``loyalty migrate`` on; enabling only records the tenant's validated settings and runs
the module's provisioning, in one transaction."""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from dataclasses import dataclass

from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.audit.service import record
from loyalty_core.errors import ErrorCode, LoyaltyError
from loyalty_core.modules.manager import CORE_MODULE, ModuleRegistry
from loyalty_core.modules.tables import tenant_modules
from loyalty_core.tenants.models import Tenant
from loyalty_core.tenants.tables import tenants as tenants_table

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EnabledModule:
    name: str
    settings: BaseModel


async def enabled_modules(
    conn: AsyncConnection, tenant_id: uuid.UUID, registry: ModuleRegistry
) -> dict[str, BaseModel]:
    """The tenant's enabled modules that this process has loaded, with parsed settings."""
    rows = await conn.execute(
        select(tenant_modules.c.module, tenant_modules.c.settings).where(
            tenant_modules.c.tenant_id == tenant_id, tenant_modules.c.enabled
        )
    )
    enabled: dict[str, BaseModel] = {}
    for name, settings in rows:
        module = registry.get(name)
        if module is None:
            continue
        try:
            enabled[name] = module.info.settings_model.model_validate(settings)
        except ValidationError:
            # A newer module version whose settings model no longer accepts what was stored:
            # leave the module out for this tenant (and say so) rather than fail every request.
            _log.warning("tenant %s: stored settings of %s no longer validate", tenant_id, name)
    return enabled


async def module_sets_in_use(
    conn: AsyncConnection, registry: ModuleRegistry
) -> Counter[frozenset[str]]:
    """How many tenants enabled each set of modules this process has loaded, in the platform
    scope (which reads every tenant's modules, and nothing else of theirs). Tenants with no
    module count under the empty set. Settings are not validated here: a set whose stored
    settings no longer validate is counted as enabled."""
    sets = (
        select(func.array_agg(tenant_modules.c.module).label("modules"))
        .where(tenant_modules.c.enabled)
        .group_by(tenant_modules.c.tenant_id)
        .subquery()
    )
    tenants = await conn.scalar(select(func.count()).select_from(tenants_table))
    in_use: Counter[frozenset[str]] = Counter()
    rows = await conn.execute(select(sets.c.modules, func.count()).group_by(sets.c.modules))
    for modules, count in rows:
        in_use[frozenset(name for name in modules if name in registry.modules)] += count
    in_use[frozenset()] += (tenants or 0) - in_use.total()
    return in_use


async def enable_module(
    conn: AsyncConnection,
    tenant: Tenant,
    registry: ModuleRegistry,
    name: str,
    settings: dict[str, object],
    *,
    actor: str,
) -> EnabledModule:
    """Enable (or reconfigure) a module for a tenant; its settings are validated first."""
    module = registry.get(name)
    if module is None or name == CORE_MODULE:
        raise LoyaltyError(
            f"no module {name!r} is installed", code=ErrorCode.MODULE_NOT_INSTALLED, field="name"
        )
    current = await enabled_modules(conn, tenant.id, registry)
    missing = [r for r in module.info.requires if r != CORE_MODULE and r not in current]
    if missing:
        raise LoyaltyError(
            f"{name} requires {', '.join(missing)} to be enabled first",
            code=ErrorCode.MODULE_NOT_ENABLED,
            field="name",
        )
    try:
        parsed = module.info.settings_model.model_validate(settings)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "settings"
        raise LoyaltyError(
            f"settings.{where}: {first['msg']}", code=ErrorCode.INVALID_SETTINGS, field="settings"
        ) from exc
    stored = parsed.model_dump(mode="json")
    await conn.execute(
        pg_insert(tenant_modules)
        .values(tenant_id=tenant.id, module=name, enabled=True, settings=stored)
        .on_conflict_do_update(
            index_elements=["tenant_id", "module"],
            set_={"enabled": True, "settings": stored, "updated_at": func.now()},
        )
    )
    if module.provisioning is not None:
        await module.provisioning.run(conn, tenant, parsed)
    await record(conn, tenant.id, actor=actor, action="module.enable", target=f"module:{name}")
    return EnabledModule(name, parsed)


async def disable_module(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    registry: ModuleRegistry,
    name: str,
    *,
    actor: str,
) -> None:
    """Disable a module; its data stays, so enabling it again picks up where it was."""
    current = await enabled_modules(conn, tenant_id, registry)
    if name not in current:
        raise LoyaltyError(
            f"module {name!r} is not enabled", code=ErrorCode.MODULE_NOT_ENABLED, field="name"
        )
    dependants = [
        other
        for other in current
        if other != name and name in registry.modules[other].info.requires
    ]
    if dependants:
        raise LoyaltyError(
            f"{', '.join(dependants)} require {name}; disable them first",
            code=ErrorCode.MODULE_NOT_ENABLED,
            field="name",
        )
    await conn.execute(
        update(tenant_modules)
        .where(tenant_modules.c.tenant_id == tenant_id, tenant_modules.c.module == name)
        .values(enabled=False, updated_at=func.now())
    )
    await record(conn, tenant_id, actor=actor, action="module.disable", target=f"module:{name}")


__all__ = ["EnabledModule", "disable_module", "enable_module", "enabled_modules"]
