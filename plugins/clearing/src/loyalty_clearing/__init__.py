"""Clearing: who owes whom among the partners of a coalition programme.

The hook implementations (this package is the entry point). The work lives in the modules
named by what they hold: ``service`` (partners, their keys, rate cards, point blocks),
``attribution`` (the partner behind a credential), ``ingestion`` (pricing what partners
issue and redeem, in the writer's transaction), ``positions`` and ``accounts`` (the ledger
postings), ``pricing`` (the one rounding rule), ``periods`` and ``settlement`` (closing
periods into statements, adjustments), ``exports`` (CSV, JSON, HTML), ``access`` (who may
read what), ``schema`` (GraphQL), ``hookspecs`` and ``funding`` (how other modules have
partners fund what they give), ``demo``. Only ``loyalty_core.sdk`` is imported from the
core.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from types import ModuleType

from loyalty_core.sdk import (
    SDK_VERSION,
    DemoSeed,
    EventHandler,
    ModuleInfo,
    SchemaContribution,
    hookimpl,
)

from loyalty_clearing import hookspecs
from loyalty_clearing.demo import DEMO
from loyalty_clearing.funding import PartnerDirectory
from loyalty_clearing.ingestion import on_event_ingested, on_points_redeemed, on_points_refunded
from loyalty_clearing.schema import ClearingMutation, ClearingQuery
from loyalty_clearing.settings import NAME, ClearingSettings

__version__ = "0.1.0"


@hookimpl
def loyalty_module() -> ModuleInfo:
    return ModuleInfo(
        name=NAME,
        version=__version__,
        description="Clearing: partners, rate cards, positions in the ledger, statements.",
        settings_model=ClearingSettings,
        sdk_version=SDK_VERSION,
    )


@hookimpl
def loyalty_migrations() -> Path:
    return Path(str(resources.files("loyalty_clearing") / "migrations" / "versions"))


@hookimpl
def loyalty_schema() -> SchemaContribution:
    return SchemaContribution(query=ClearingQuery, mutation=ClearingMutation)


@hookimpl
def loyalty_event_handlers() -> list[EventHandler]:
    return [
        EventHandler("event.ingested", on_event_ingested),
        EventHandler("points.redeemed", on_points_redeemed),
        EventHandler("points.refunded", on_points_refunded),
    ]


@hookimpl
def loyalty_hookspecs() -> ModuleType:
    return hookspecs


@hookimpl
def loyalty_demo() -> DemoSeed:
    return DEMO


@hookimpl(optionalhook=True)
def loyalty_partner_offers_partners() -> list[object]:
    """The tenant's partners for the partner offers module (its hook; see ``funding``)."""
    return [PartnerDirectory()]


__all__ = [
    "loyalty_demo",
    "loyalty_event_handlers",
    "loyalty_hookspecs",
    "loyalty_migrations",
    "loyalty_module",
    "loyalty_partner_offers_partners",
    "loyalty_schema",
]
