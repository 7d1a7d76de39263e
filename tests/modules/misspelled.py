"""A module with a misspelled hook: the registry must refuse it, not ignore the hook."""

from __future__ import annotations

from loyalty_core.sdk import ModuleInfo, SchemaContribution, hookimpl


@hookimpl
def loyalty_module() -> ModuleInfo:
    return ModuleInfo(name="misspelled", version="1.0.0", description="Misspells a hook.")


@hookimpl
def loyalty_shcema() -> SchemaContribution:
    return SchemaContribution()
