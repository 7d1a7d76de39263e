"""Periodic jobs: every module's ``Job``s, for each tenant that enabled the module.

The core's jobs (releasing pending points, expiring lots) run for every tenant; a module's
only for the tenants that enabled it, with their settings. ``loyalty serve`` runs them
in-process every ``jobs_interval_seconds``, each job no more often than its own ``interval``;
``loyalty jobs run`` runs them all once. Jobs are idempotent, so replicas running them at the
same time do the work once and agree on the result. A job failing for one tenant is logged and
the others go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from loyalty_core.db.engine import Database
from loyalty_core.modules.contributions import Job, JobContext
from loyalty_core.modules.manager import CORE_MODULE, ModuleRegistry
from loyalty_core.modules.service import enabled_modules
from loyalty_core.tenants.models import Tenant
from loyalty_core.tenants.service import list_tenants
from pydantic import BaseModel

from loyalty_gateway.metrics import GatewayMetrics

_log = logging.getLogger(__name__)


def job_key(module: str, job: Job) -> str:
    """How a job is named in results, logs and metrics: ``<module>:<job name>``."""
    return f"{module}:{job.name}"


async def run_jobs_once(
    database: Database,
    registry: ModuleRegistry,
    now: datetime | None = None,
    *,
    last_runs: Mapping[str, datetime] | None = None,
    metrics: GatewayMetrics | None = None,
    tenants: Sequence[Tenant] | None = None,
) -> dict[str, int]:
    """Run the jobs that are due at ``now`` (all of them without ``last_runs``) for every
    tenant, or for ``tenants`` only (an operator catching one tenant up); what each job
    reported it did (lots released, ...), summed over tenants, by :func:`job_key`. Jobs that
    were not due are absent from the result."""
    now = now or datetime.now(UTC)
    due = [
        (name, job)
        for name, module in sorted(registry.modules.items())
        for job in module.jobs
        if _is_due(job_key(name, job), job, now, last_runs or {})
    ]
    counts = {job_key(name, job): 0 for name, job in due}
    if not due:
        return counts
    if tenants is None:
        async with database.platform_transaction() as conn:
            tenants = await list_tenants(conn)
    for tenant in tenants:
        enabled = await _enabled_modules(database, registry, tenant)
        for name, job in due:
            settings = _settings_of(registry, name, enabled)
            if settings is None:
                continue
            key = job_key(name, job)
            context = JobContext(
                database=database,
                tenant=tenant,
                settings=settings,
                registry=registry,
                enabled_modules=enabled,
                now=now,
            )
            try:
                counts[key] += await job.run(context)
            except Exception:
                _log.exception("job %s failed for tenant %s", key, tenant.id)
                outcome = "failed"
            else:
                outcome = "ok"
            if metrics is not None:
                metrics.job_runs.labels(key, outcome).inc()
    return counts


class JobScheduler:
    """Runs the due jobs every ``interval`` seconds in the gateway process (0 disables it)."""

    def __init__(
        self,
        database: Database,
        registry: ModuleRegistry,
        *,
        interval: float,
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self._database = database
        self._registry = registry
        self._interval = interval
        self._metrics = metrics
        self._last_runs: dict[str, datetime] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._interval > 0 and self._task is None:
            self._task = asyncio.create_task(self._run_forever(), name="job-scheduler")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run_forever(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            now = datetime.now(UTC)
            try:
                counts = await run_jobs_once(
                    self._database,
                    self._registry,
                    now,
                    last_runs=self._last_runs,
                    metrics=self._metrics,
                )
            except Exception:
                _log.exception("periodic jobs failed")
                continue
            self._last_runs.update(dict.fromkeys(counts, now))
            if any(counts.values()):
                _log.info("periodic jobs ran", extra={"jobs": counts})


def _is_due(key: str, job: Job, now: datetime, last_runs: Mapping[str, datetime]) -> bool:
    last = last_runs.get(key)
    return last is None or now - last >= job.interval


def _settings_of(
    registry: ModuleRegistry, name: str, enabled: Mapping[str, BaseModel]
) -> BaseModel | None:
    """The settings a module's jobs run with for a tenant: the core's always, another
    module's only where the tenant enabled it (None: not enabled, skip its jobs)."""
    if name == CORE_MODULE:
        core = registry.get(CORE_MODULE)
        return None if core is None else core.info.settings_model()
    return enabled.get(name)


async def _enabled_modules(
    database: Database, registry: ModuleRegistry, tenant: Tenant
) -> dict[str, BaseModel]:
    """The modules ``tenant`` enabled, with their settings. Every run needs them, the core's
    jobs too: a scheduled campaign applies the effects of the tenant's modules."""
    try:
        async with database.tenant_transaction(tenant.id) as conn:
            return await enabled_modules(conn, tenant.id, registry)
    except Exception:
        _log.exception("cannot read the modules of tenant %s", tenant.id)
        return {}


__all__ = ["JobScheduler", "job_key", "run_jobs_once"]
