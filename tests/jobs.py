"""Running one job directly in a test, the way the scheduler would for one tenant."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from loyalty_core.db.engine import Database
from loyalty_core.modules.contributions import JobContext
from loyalty_core.modules.manager import ModuleRegistry
from loyalty_core.tenants.models import Tenant
from pydantic import BaseModel


def job_context(
    database: Database,
    tenant: Tenant,
    settings: BaseModel,
    *,
    now: datetime | None = None,
    registry: ModuleRegistry | None = None,
    enabled_modules: Mapping[str, BaseModel] | None = None,
) -> JobContext:
    """A job's context for ``tenant``: no other modules unless given, the clock's time."""
    return JobContext(
        database=database,
        tenant=tenant,
        settings=settings,
        registry=registry or ModuleRegistry(),
        enabled_modules=enabled_modules or {},
        now=now or datetime.now(UTC),
    )
