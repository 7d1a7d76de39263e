"""What the ingestions of one request share, whichever way the events came (``eventIngest``,
``eventIngestBatch``, the NDJSON endpoint): the module event types, and the campaigns step
that reads and parses the active campaigns once (a batch sees the campaigns active when its
first event of a type was ingested)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from loyalty_core.auth import require_principal
from loyalty_core.context import RequestContext
from loyalty_core.events import service
from loyalty_core.modules.contributions import EventTypeSpec
from loyalty_core.modules.dispatch import DomainEvents
from loyalty_core.rules import engine

Ingestions = Callable[[DomainEvents], service.Ingestion]
"""An ingestion for each transaction of the request, given its domain event publisher."""


def campaigns(ctx: RequestContext) -> engine.Campaigns:
    """The campaigns step of the request (the effects and member facts of the tenant's
    enabled modules)."""
    effects = engine.module_effects(ctx.registry, ctx.enabled_modules)
    facts = engine.module_facts(ctx.registry, ctx.enabled_modules)
    return engine.Campaigns(effects, ctx.enabled_modules, facts, ctx.registry)


def ingestions(ctx: RequestContext, step: engine.Campaigns) -> Ingestions:
    """Ingestions for the events of one request, sharing ``step`` and the module types."""
    assert ctx.tenant is not None
    tenant, actor = ctx.tenant, require_principal(ctx.principal).actor
    types = module_types(ctx)
    rewards: list[service.RewardStep] = [service.base_earn, step]

    def ingestion(events: DomainEvents) -> service.Ingestion:
        return service.Ingestion(
            tenant=tenant,
            actor=actor,
            now=ctx.now(),
            domain_events=events,
            module_event_types=types,
            rewards=rewards,
        )

    return ingestion


def module_types(ctx: RequestContext) -> Mapping[str, EventTypeSpec]:
    """The event types of the tenant's enabled modules, by name."""
    return {
        spec.name: spec
        for name in ctx.enabled_modules
        if (module := ctx.registry.get(name)) is not None
        for spec in module.event_types
    }


__all__ = ["Ingestions", "campaigns", "ingestions", "module_types"]
