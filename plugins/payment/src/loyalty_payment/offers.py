"""Which tenders a tenant can pay with: the declarations of ``loyalty_payment_tenders`` of
the modules it enabled (the payment module's own ``POINTS`` among them), read from the
registry the process built at start-up, so no pluggy call runs per request."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from loyalty_core.sdk import Database, ModuleRegistry
from pydantic import BaseModel

from loyalty_payment.hookspecs import HOOK
from loyalty_payment.service import Offered, Till
from loyalty_payment.settings import PaymentSettings


def till(
    *,
    database: Database,
    registry: ModuleRegistry,
    enabled_modules: Mapping[str, BaseModel],
    tenant_id: uuid.UUID,
    settings: PaymentSettings,
    actor: str,
    now: datetime,
) -> Till:
    """The tenders enabled for the tenant, and those of every installed module."""

    def offers(found: list[tuple[str, object]]) -> dict[str, Offered]:
        offered: dict[str, Offered] = {}
        for name, providers in found:
            module = registry.get(name)
            assert module is not None
            module_settings = enabled_modules.get(name)
            if module_settings is None:  # a disabled module: its defaults, to close what is open
                module_settings = module.info.settings_model.model_construct()
            for provider in providers:  # type: ignore[attr-defined]
                offered[provider.tender] = Offered(provider, module_settings)
        return offered

    return Till(
        database=database,
        tenant_id=tenant_id,
        actor=actor,
        now=now,
        settings=settings,
        tenders=offers(registry.extensions(HOOK, enabled_modules)),
        installed=offers(registry.installed_extensions(HOOK)),
    )


__all__ = ["till"]
