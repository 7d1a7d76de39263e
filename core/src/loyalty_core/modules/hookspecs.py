"""Every hook a module can implement, in one file (the contract of the module author guide).

Hooks are synchronous and return declarations; the host gathers them once at start-up.
None is ``firstresult``; results never depend on the order modules were loaded in.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pluggy

from loyalty_core.modules.contributions import (
    EventHandler,
    EventTypeSpec,
    Job,
    MemberData,
    ModuleInfo,
    RuleEffect,
    SchemaContribution,
    TenantProvisioning,
    TypeExtension,
)

PROJECT = "loyalty"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def loyalty_module() -> ModuleInfo:  # type: ignore[empty-body]
    """Name, version, description, settings model and required modules of this module."""


@hookspec
def loyalty_migrations() -> Path | None:
    """The Alembic version location of the module's tables (prefixed with its name)."""


@hookspec
def loyalty_schema() -> SchemaContribution | None:
    """Strawberry query, mutation and subscription types and extra types of the module."""


@hookspec
def loyalty_type_extensions() -> Sequence[TypeExtension]:  # type: ignore[empty-body]
    """Fields the module adds to core types, such as ``Member.giftCards``."""


@hookspec
def loyalty_event_types() -> Sequence[EventTypeSpec]:  # type: ignore[empty-body]
    """Event types the module accepts or emits, with their JSON Schemas."""


@hookspec
def loyalty_rule_effects() -> Sequence[RuleEffect]:  # type: ignore[empty-body]
    """Rule effects the module offers to campaigns."""


@hookspec
def loyalty_rule_conditions() -> Sequence[Any]:  # type: ignore[empty-body]
    """Rule condition building blocks the module offers to campaigns."""


@hookspec
def loyalty_event_handlers() -> Sequence[EventHandler]:  # type: ignore[empty-body]
    """Async handlers for domain events, run in the writer's transaction or after commit."""


@hookspec
def loyalty_routes() -> Sequence[Any]:  # type: ignore[empty-body]
    """Starlette routes (callbacks, webhooks), mounted under ``/modules/<name>/``."""


@hookspec
def loyalty_jobs() -> Sequence[Job]:  # type: ignore[empty-body]
    """Periodic jobs of the module (expiry, settlement, catalogue sync)."""


@hookspec
def loyalty_tenant_enabled() -> TenantProvisioning | None:
    """Provisioning to run when a tenant enables the module."""


@hookspec
def loyalty_member_data() -> MemberData | None:
    """How the module exports and erases one member's data (privacy requests)."""


@hookspec
def loyalty_hookspecs() -> object | None:
    """A namespace (a Python module or class) of ``@hookspec`` functions this module defines
    for other modules to implement, such as the payment module's tender providers. Other
    modules implement them with ``@hookimpl`` like core hooks, without importing the module
    that defines them; it reads their declarations with ``ModuleRegistry.extensions``."""


__all__ = ["PROJECT", "hookimpl", "hookspec"]
