"""A tenant's configuration is checked where it is written: a time zone or currency nothing
knows is refused with INVALID_INPUT on its field and nothing is written. A tenant whose
stored configuration is broken anyway (an old row) fails its own jobs only: the other
tenants' jobs run, and the failure is counted in ``/metrics``."""

from __future__ import annotations

import zoneinfo
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyalty_core.db.engine import Database
from loyalty_core.db.tables import audit_log, tenants
from loyalty_core.money import CURRENCIES
from loyalty_core.tenants.models import Tenant
from loyalty_core.tenants.service import get_tenant
from loyalty_gateway.jobs import run_jobs_once
from loyalty_testing import MakeApp, admin_token, create_test_tenant, graphql, platform_token
from sqlalchemy import func, select, update

UPDATE = """
mutation($i: TenantUpdateInput!) { tenantUpdate(input: $i) { errors { code field } } }
"""
CREATE = """
mutation($i: TenantCreateInput!) { tenantCreate(input: $i) { errors { code field } } }
"""
ZONES = zoneinfo.available_timezones()
not_a_zone = st.one_of(
    st.sampled_from(["", " ", "../../etc/passwd", "UTC/..", "Europe/berlin", "localtime"]),
    st.text(max_size=40),
).filter(lambda value: value not in ZONES)
not_a_currency = st.one_of(
    st.sampled_from(["", "EU", "EURO", "eur", "XYZ", "AAA", "€"]),
    st.text(max_size=5),
).filter(lambda value: value not in CURRENCIES)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(zone=not_a_zone, currency=not_a_currency)
async def test_an_unknown_time_zone_or_currency_is_refused_and_nothing_written(
    make_app: MakeApp, db: Database, tenant: Tenant, zone: str, currency: str
) -> None:
    gateway = _GATEWAYS.get(tenant.id) or _GATEWAYS.setdefault(tenant.id, await make_app())
    before = await _stored(db, tenant)
    admin = admin_token(tenant.id)

    bad_zone = await graphql(gateway.client, UPDATE, {"i": {"timezone": zone}}, token=admin)
    bad_rate = await graphql(
        gateway.client, UPDATE, {"i": {"earnRates": {currency: "1"}}}, token=admin
    )
    created = await graphql(
        gateway.client,
        CREATE,
        {"i": {"slug": "fresh-tenant", "name": "Fresh", "timezone": zone}},
        token=platform_token(),
    )
    bad_currency = await graphql(
        gateway.client,
        CREATE,
        {"i": {"slug": "fresh-tenant", "name": "Fresh", "defaultCurrency": currency}},
        token=platform_token(),
    )

    assert _errors(bad_zone, "tenantUpdate") == [("INVALID_INPUT", "timezone")]
    assert _errors(bad_rate, "tenantUpdate") == [("INVALID_INPUT", "earnRates")]
    assert _errors(created, "tenantCreate") == [("INVALID_INPUT", "timezone")]
    assert _errors(bad_currency, "tenantCreate") == [("INVALID_INPUT", "defaultCurrency")]
    assert await _stored(db, tenant) == before


async def test_a_tenant_with_a_broken_time_zone_fails_alone_and_is_counted(
    make_app: MakeApp,
    db: Database,
    owner_db: Database,
    tenant: Tenant,
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = await make_app()
    healthy = await create_test_tenant(db)
    async with owner_db.platform_transaction() as conn:  # an old row, from before the checks
        await conn.execute(
            update(tenants).where(tenants.c.tenant_id == tenant.id).values(timezone="")
        )
    metrics = gateway.state.metrics
    scheduled = "core:rules.scheduled"

    async with db.platform_transaction() as conn:
        both = [await get_tenant(conn, tenant.id), healthy]
    counts = await run_jobs_once(db, gateway.registry, metrics=metrics, tenants=both)

    assert scheduled in counts
    failed_for = [
        args[1]
        for record in caplog.records
        if record.msg == "job %s failed for tenant %s"
        and isinstance(args := record.args, tuple)
        and args[0] == scheduled
    ]
    assert tenant.id in failed_for
    assert healthy.id not in failed_for  # its jobs ran, after the broken tenant's failed
    assert metrics.job_runs.labels(scheduled, "ok")._value.get() >= 1
    failed = metrics.job_runs.labels(scheduled, "failed")._value.get()
    assert failed == len(failed_for)  # every failure counted, once
    exposed = (await gateway.client.get("/metrics")).text
    assert f'loyalty_job_runs_total{{job="{scheduled}",outcome="failed"}} {failed}' in exposed


_GATEWAYS: dict[Any, Any] = {}


def _errors(body: dict[str, Any], name: str) -> list[tuple[str, str | None]]:
    """The payload's errors; a value no field takes (a NUL) is refused before the mutation
    runs, as a request error on the variable's field, which reads the same here."""
    if "data" not in body:
        return [
            (e["extensions"]["code"], e["extensions"]["field"].removeprefix("i."))
            for e in body["errors"]
        ]
    assert "errors" not in body, body
    return [(e["code"], e["field"]) for e in body["data"][name]["errors"]]


async def _stored(db: Database, tenant: Tenant) -> tuple[Any, ...]:
    """The tenant row as configured, and how many audit lines it has: what a refused
    change must leave as it was."""
    async with db.tenant_transaction(tenant.id) as conn:
        row = (
            await conn.execute(
                select(tenants.c.timezone, tenants.c.default_currency, tenants.c.settings).where(
                    tenants.c.tenant_id == tenant.id
                )
            )
        ).one()
        audits = await conn.scalar(select(func.count()).where(audit_log.c.tenant_id == tenant.id))
    return (*row, audits)
