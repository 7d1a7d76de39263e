"""Partner offers: offers members activate, funded by whoever makes them.

The hook implementations (this package is the entry point). The work lives in the modules
named by what they hold: ``catalogue`` (offers created or synced by version), ``members``
(what a member sees, activation with frozen terms, hiding), ``attribution`` (rewards on
purchases and their reversal on refunds, in the writer's transaction), ``effects``
(rewards through other modules' rule effects), ``funding`` (what partners fund, and what it
cost them, for clearing's hook), ``partners`` and ``hookspecs`` (who the partners are,
from the module that keeps them), ``reporting`` (performance per offer and day, CSV),
``repository`` and ``tables`` (SQL), ``schema`` (GraphQL), ``routes`` (NDJSON bulk sync),
``privacy``, ``demo``. Only ``loyalty_core.sdk`` is imported from the core, and nothing
from other modules.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from types import ModuleType

from loyalty_core.sdk import (
    SDK_VERSION,
    DemoSeed,
    EventHandler,
    MemberData,
    ModuleInfo,
    SchemaContribution,
    Tenant,
    TenantProvisioning,
    TypeExtension,
    hookimpl,
)
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.routing import Route

from loyalty_partner_offers import demo, hookspecs
from loyalty_partner_offers import repository as repo
from loyalty_partner_offers.attribution import on_event_ingested
from loyalty_partner_offers.funding import OfferFunding
from loyalty_partner_offers.privacy import MEMBER_DATA
from loyalty_partner_offers.routes import ROUTES
from loyalty_partner_offers.schema import OfferMutation, OfferQuery, member_offers
from loyalty_partner_offers.settings import NAME, OfferSettings

__version__ = "0.1.0"


@hookimpl
def loyalty_module() -> ModuleInfo:
    return ModuleInfo(
        name=NAME,
        version=__version__,
        description="Partner offers: offers members activate, funded by whoever makes them.",
        settings_model=OfferSettings,
        sdk_version=SDK_VERSION,
    )


@hookimpl
def loyalty_migrations() -> Path:
    return Path(str(resources.files("loyalty_partner_offers") / "migrations" / "versions"))


@hookimpl
def loyalty_schema() -> SchemaContribution:
    return SchemaContribution(query=OfferQuery, mutation=OfferMutation)


@hookimpl
def loyalty_type_extensions() -> list[TypeExtension]:
    return [TypeExtension("Member", member_offers)]


@hookimpl
def loyalty_event_handlers() -> list[EventHandler]:
    return [EventHandler("event.ingested", on_event_ingested)]


@hookimpl
def loyalty_routes() -> list[Route]:
    return ROUTES


@hookimpl
def loyalty_member_data() -> MemberData:
    return MEMBER_DATA


@hookimpl
def loyalty_hookspecs() -> ModuleType:
    return hookspecs


@hookimpl(optionalhook=True)
def loyalty_clearing_funding_sources() -> list[object]:
    """Partner-funded rewards, charged to their partners by clearing (its hook)."""
    return [OfferFunding()]


@hookimpl
def loyalty_tenant_enabled() -> TenantProvisioning:
    return TenantProvisioning(run=provision)


@hookimpl
def loyalty_demo() -> DemoSeed:
    return demo.DEMO


async def provision(conn: AsyncConnection, tenant: Tenant, settings: BaseModel) -> None:
    """The tenant's catalogue row (its revision), kept when enabled again."""
    await repo.ensure_catalogue(conn, tenant.id)


__all__ = [
    "loyalty_clearing_funding_sources",
    "loyalty_demo",
    "loyalty_event_handlers",
    "loyalty_hookspecs",
    "loyalty_member_data",
    "loyalty_migrations",
    "loyalty_module",
    "loyalty_routes",
    "loyalty_schema",
    "loyalty_tenant_enabled",
    "loyalty_type_extensions",
    "provision",
]
