"""Tiers: status levels earned and kept over qualification windows, and paid memberships.

The hook implementations (this package is the entry point). The work lives in the modules
named by what they hold: ``ladder`` (levels, windows and policies as pure rules),
``service`` (the metric an event adds, upgrades, overrides, what a member sees),
``memberships`` and ``subscriptions`` (paid membership plans and the provider's events),
``routes`` (its signed webhook), ``repository`` and ``tables`` (SQL), ``jobs`` (window
ends, grace, override expiry, warnings), ``facts`` (``member.tier`` for CEL), ``schema``
(GraphQL), ``privacy`` and ``demo``. Only ``loyalty_core.sdk`` is imported from the core.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from loyalty_core.sdk import (
    SDK_VERSION,
    DemoSeed,
    DomainEvent,
    EventHandler,
    EventTypeSpec,
    HandlerContext,
    Job,
    MemberData,
    MemberFact,
    ModuleInfo,
    SchemaContribution,
    Tenant,
    TenantProvisioning,
    TypeExtension,
    events,
    hookimpl,
    ledger,
)
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.routing import Route

from loyalty_tiers import service, subscriptions
from loyalty_tiers.demo import DEMO
from loyalty_tiers.facts import TIER
from loyalty_tiers.jobs import WINDOW_JOB
from loyalty_tiers.privacy import MEMBER_DATA
from loyalty_tiers.routes import ROUTES
from loyalty_tiers.schema import (
    NAME,
    TierMutation,
    TierQuery,
    member_membership,
    member_tier,
    member_tier_history,
    member_tier_progress,
)
from loyalty_tiers.settings import TierSettings

__version__ = "0.1.0"


@hookimpl
def loyalty_module() -> ModuleInfo:
    return ModuleInfo(
        name=NAME,
        version=__version__,
        description="Tiers: status levels earned and kept over qualification windows.",
        settings_model=TierSettings,
        sdk_version=SDK_VERSION,
    )


@hookimpl
def loyalty_migrations() -> Path:
    return Path(str(resources.files("loyalty_tiers") / "migrations" / "versions"))


@hookimpl
def loyalty_schema() -> SchemaContribution:
    return SchemaContribution(query=TierQuery, mutation=TierMutation)


@hookimpl
def loyalty_type_extensions() -> list[TypeExtension]:
    return [
        TypeExtension("Member", member_tier),
        TypeExtension("Member", member_tier_progress),
        TypeExtension("Member", member_tier_history),
        TypeExtension("Member", member_membership),
    ]


@hookimpl
def loyalty_rule_conditions() -> list[MemberFact]:
    return [TIER]


@hookimpl
def loyalty_event_handlers() -> list[EventHandler]:
    return [EventHandler("event.ingested", count_event)]


@hookimpl
def loyalty_event_types() -> list[EventTypeSpec]:
    return [
        EventTypeSpec(
            subscriptions.SUBSCRIPTION_EVENT,
            subscriptions.SUBSCRIPTION_SCHEMA,
            "A paid membership's lifecycle event (started, renewed, payment_failed, "
            "cancelled, ended), ingested by the retailer's backend instead of the webhook.",
        )
    ]


@hookimpl
def loyalty_jobs() -> list[Job]:
    return [WINDOW_JOB]


@hookimpl
def loyalty_routes() -> list[Route]:
    return list(ROUTES)


@hookimpl
def loyalty_member_data() -> MemberData:
    return MEMBER_DATA


@hookimpl
def loyalty_tenant_enabled() -> TenantProvisioning:
    return TenantProvisioning(run=provision)


@hookimpl
def loyalty_demo() -> DemoSeed:
    return DEMO


async def count_event(event: DomainEvent, context: HandlerContext) -> None:
    """Add what the event counts toward the tenant's ladder (nothing without one), in the
    writer's transaction: one locked row, one statement for the metric, and a write only
    when the level changes."""
    assert context.conn is not None
    assert isinstance(context.settings, TierSettings)
    ingested = events.EventIngested.of(event)
    if ingested.type == subscriptions.SUBSCRIPTION_EVENT:
        await subscriptions.receive(
            context.conn,
            context.tenant_id,
            provider_event_id=f"{ingested.source}:{ingested.external_id}",
            member_id=ingested.member_id,
            event=subscriptions.ingested_event(ingested.payload, ingested.occurred_at),
            grace_days=context.settings.membership_grace_days,
        )
        return
    found = await service.programme(context.conn, context.tenant_id, context.settings)
    if found is None:
        return
    amount, aggregates = await service.contribution(
        context.conn, context.tenant_id, found, ingested
    )
    if amount or aggregates:
        await service.record(context.conn, context.tenant_id, found, ingested, amount, aggregates)


async def provision(conn: AsyncConnection, tenant: Tenant, settings: BaseModel) -> None:
    """The tenant's status points asset: points that count toward a level and cannot be
    spent (the core's ledger refuses to redeem, hold or transfer an asset that is not
    spendable; campaigns award them with the ``asset_award`` effect, beside or instead of
    spendable points). An existing asset named by ``status_asset`` is made not spendable."""
    assert isinstance(settings, TierSettings)
    found = await ledger.get_asset(conn, tenant.id, settings.status_asset)
    if found is None:
        await ledger.create_asset(
            conn,
            tenant.id,
            code=settings.status_asset,
            name="Status points",
            kind=ledger.AssetKind.POINTS,
            spendable=False,
            actor=f"module:{NAME}",
        )
    elif found.spendable:
        await ledger.update_asset(
            conn, tenant.id, found.code, spendable=False, actor=f"module:{NAME}"
        )
    await subscriptions.save_webhook_config(
        conn, tenant.id, settings.membership_webhook_secret, settings.membership_grace_days
    )
    service.forget(tenant.id)


__all__ = [
    "count_event",
    "loyalty_demo",
    "loyalty_event_handlers",
    "loyalty_event_types",
    "loyalty_jobs",
    "loyalty_member_data",
    "loyalty_migrations",
    "loyalty_module",
    "loyalty_routes",
    "loyalty_rule_conditions",
    "loyalty_schema",
    "loyalty_tenant_enabled",
    "loyalty_type_extensions",
    "provision",
]
