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
    DemoSeed,
    EventHandler,
    EventTypeSpec,
    Job,
    MemberData,
    MemberFact,
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
    """Name, version, description, settings model, required modules and the SDK versions it
    supports. The only hook every module implements.

    Example::

        @hookimpl
        def loyalty_module() -> ModuleInfo:
            return ModuleInfo(
                name="stamps",
                version="1.0.0",
                description="A stamp per purchase, points when the card is full.",
                settings_model=StampSettings,
                sdk_version=SDK_VERSION,
            )
    """


@hookspec
def loyalty_migrations() -> Path | None:
    """The Alembic version location of the module's tables (prefixed with its name), resolved
    from the installed package; None for a module without tables.

    Example::

        @hookimpl
        def loyalty_migrations() -> Path:
            return Path(str(resources.files("loyalty_stamps") / "migrations" / "versions"))
    """


@hookspec
def loyalty_schema() -> SchemaContribution | None:
    """Strawberry query, mutation and subscription types and extra types of the module, merged
    field by field into the schema of each tenant that enables it.

    Example::

        @hookimpl
        def loyalty_schema() -> SchemaContribution:
            return SchemaContribution(query=StampQuery, mutation=StampMutation)
    """


@hookspec
def loyalty_type_extensions() -> Sequence[TypeExtension]:  # type: ignore[empty-body]
    """Fields the module adds to core types, such as ``Member.giftCards``; the resolver gets
    the core object as ``root``.

    Example::

        @hookimpl
        def loyalty_type_extensions() -> list[TypeExtension]:
            return [TypeExtension("Member", member_stamp_card)]
    """


@hookspec
def loyalty_event_types() -> Sequence[EventTypeSpec]:  # type: ignore[empty-body]
    """Event types the module accepts or emits, with their JSON Schemas; tenants that enable
    the module can ingest them.

    Example::

        @hookimpl
        def loyalty_event_types() -> list[EventTypeSpec]:
            schema = {"type": "object", "properties": {"machine": {"type": "string"}}}
            return [EventTypeSpec("stamps.scanned", schema, "A stamp scanned at a machine.")]
    """


@hookspec
def loyalty_rule_effects() -> Sequence[RuleEffect]:  # type: ignore[empty-body]
    """Rule effects the module offers to campaigns: a parameters model, ``apply`` (in the
    trigger's transaction, with its idempotency key) and ``simulate`` (for backtests).

    Example::

        @hookimpl
        def loyalty_rule_effects() -> list[RuleEffect]:
            return [RuleEffect("add_stamp", AddStampParams, apply=apply, simulate=simulate)]
    """


@hookspec
def loyalty_rule_conditions() -> Sequence[MemberFact]:  # type: ignore[empty-body]
    """Facts about a member the module contributes to CEL conditions and segments
    (``member.tier``): each a scalar SQL expression the engine reads in the same statement
    as the member's aggregates. Only tenants that enabled the module see them.

    Example::

        @hookimpl
        def loyalty_rule_conditions() -> list[MemberFact]:
            def stamps(tenant_id, member_id):
                return (
                    select(cards.c.stamps)
                    .where(cards.c.tenant_id == tenant_id, cards.c.member_id == member_id)
                    .scalar_subquery()
                )

            return [MemberFact("stamps", stamps, "Stamps on the member's card.")]
    """


@hookspec
def loyalty_event_handlers() -> Sequence[EventHandler]:  # type: ignore[empty-body]
    """Async handlers for domain events, run in the writer's transaction or after commit; read
    the typed payload with the topic's ``of`` (``events.EventIngested.of(event)``).

    Example::

        async def count_stamp(event: DomainEvent, context: HandlerContext) -> None:
            ingested = events.EventIngested.of(event)
            if ingested.is_purchase and (ingested.amount or 0) >= 500:
                ...  # add a stamp with context.conn


        @hookimpl
        def loyalty_event_handlers() -> list[EventHandler]:
            return [EventHandler(events.EventIngested.TOPIC, count_stamp)]
    """


@hookspec
def loyalty_routes() -> Sequence[Any]:  # type: ignore[empty-body]
    """Starlette routes (callbacks, webhooks), mounted under ``/modules/<name>/``; the
    request's ``RequestContext`` is at ``request.state.context``.

    Example::

        @hookimpl
        def loyalty_routes() -> list[Route]:
            return [Route("/callback", provider_callback, methods=["POST"])]
    """


@hookspec
def loyalty_jobs() -> Sequence[Job]:  # type: ignore[empty-body]
    """Periodic jobs of the module (expiry, settlement, catalogue sync), run per tenant that
    enabled it; idempotent, since replicas may run them at the same time.

    Example::

        @hookimpl
        def loyalty_jobs() -> list[Job]:
            return [Job("stamps.expiry", expire_cards, interval=timedelta(hours=1))]
    """


@hookspec
def loyalty_tenant_enabled() -> TenantProvisioning | None:
    """Provisioning to run when a tenant enables the module, in the enabling transaction
    (no DDL).

    Example::

        @hookimpl
        def loyalty_tenant_enabled() -> TenantProvisioning:
            return TenantProvisioning(run=create_default_card_design)
    """


@hookspec
def loyalty_member_data() -> MemberData | None:
    """How the module exports and erases one member's data (privacy requests).

    Example::

        @hookimpl
        def loyalty_member_data() -> MemberData:
            return MemberData(export=export_stamps, erase=erase_stamps)
    """


@hookspec
def loyalty_demo() -> DemoSeed | None:
    """How the module appears in ``loyalty demo``: the settings the demo tenant enables it
    with, and a seed that writes believable data through the module's services (it runs in
    the demo's transaction, after the members and their purchases exist). Installed modules
    with this hook are enabled in the demo, those they require first.

    Example::

        @hookimpl
        def loyalty_demo() -> DemoSeed:
            return DemoSeed(settings={"stamps_per_card": 8}, seed=seed_demo_stamp_cards)


        async def seed_demo_stamp_cards(demo: DemoContext) -> None:
            for member in demo.members[:3]:
                await stamps.open_card(demo.conn, demo.tenant.id, member.id, actor=demo.actor)
    """


@hookspec
def loyalty_hookspecs() -> object | None:
    """A namespace (a Python module or class) of ``@hookspec`` functions this module defines
    for other modules to implement, such as the payment module's tender providers. Other
    modules implement them with ``@hookimpl`` like core hooks, without importing the module
    that defines them; it reads their declarations with ``ModuleRegistry.extensions``.

    Example::

        @hookimpl
        def loyalty_hookspecs() -> ModuleType:
            return hookspecs  # the module's own file of @hookspec functions
    """


__all__ = ["PROJECT", "hookimpl", "hookspec"]
