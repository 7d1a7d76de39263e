"""A digital stamp card: a stamp per qualifying purchase, points when the card is full.

The module's hook implementations (its entry point in group ``loyalty.modules``). Written
against the module guide and the SDK only, as any third party's module is.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from loyalty_core.sdk import (
    EventHandler,
    ModuleInfo,
    SchemaContribution,
    TypeExtension,
    hookimpl,
)

from loyalty_stamp_card.schema import StampCardMutation, member_stamp_card
from loyalty_stamp_card.service import stamp_purchase
from loyalty_stamp_card.settings import StampCardSettings


@hookimpl
def loyalty_module() -> ModuleInfo:
    return ModuleInfo(
        name="stamp_card",
        version="0.1.0",
        description="A stamp per qualifying purchase, points when the card is full.",
        settings_model=StampCardSettings,
        sdk_version=">=1.1,<2",
    )


@hookimpl
def loyalty_migrations() -> Path:
    return Path(str(resources.files("loyalty_stamp_card") / "migrations" / "versions"))


@hookimpl
def loyalty_schema() -> SchemaContribution:
    return SchemaContribution(mutation=StampCardMutation)


@hookimpl
def loyalty_type_extensions() -> list[TypeExtension]:
    return [TypeExtension("Member", member_stamp_card)]


@hookimpl
def loyalty_event_handlers() -> list[EventHandler]:
    return [EventHandler("event.ingested", stamp_purchase)]
