"""What a module declares through its hooks. Plain frozen dataclasses: hooks return these,
the host decides when and how to use them (no pluggy call per request or per field)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from loyalty_core.modules.origin import ModuleOrigin

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from loyalty_core.db.engine import Database
    from loyalty_core.events.models import EventInput, IngestResult
    from loyalty_core.modules.manager import ModuleRegistry
    from loyalty_core.tenants.models import Tenant


class NoSettings(BaseModel):
    """The settings model of a module that has none."""


@dataclass(frozen=True)
class ModuleInfo:
    """Who a module is. ``sdk_version`` is the range of SDK versions it supports, a PEP 440
    specifier (``">=1.1,<2"``); a bare version (``"1.1"``, ``SDK_VERSION`` at build time)
    means that version or a later minor one, and a bare int ``N`` (the old form) any ``N.x``.
    A core outside the range refuses to load it instead of failing at the first request."""

    name: str
    version: str
    description: str
    settings_model: type[BaseModel] = NoSettings
    requires: tuple[str, ...] = ()
    sdk_version: str | int = 1


@dataclass(frozen=True)
class SchemaContribution:
    """Strawberry root types and extra types a module adds to the schema of tenants that
    enable it. Root types are merged field by field; a field name two modules share is a
    start-up error naming both."""

    query: type | None = None
    mutation: type | None = None
    subscription: type | None = None
    types: Sequence[type] = ()


@dataclass(frozen=True)
class TypeExtension:
    """A field a module adds to a core type, e.g. ``Member.giftCards``: ``field`` is a
    ``strawberry.field`` whose resolver takes the core object as ``root``."""

    type_name: str
    field: Any


@dataclass(frozen=True)
class EventTypeSpec:
    """An event type a module accepts or emits, with the JSON Schema of its payload."""

    name: str
    json_schema: dict[str, Any]
    description: str = ""


class HandlerPhase(StrEnum):
    """When a handler runs: in the writer's transaction (its failure rolls the write back) or after
    commit (its failure is logged)."""

    IN_TRANSACTION = "in_transaction"
    AFTER_COMMIT = "after_commit"


@dataclass(frozen=True)
class DomainEvent:
    """Something that happened, announced to modules and written to the outbox.

    ``payload`` is the JSON the outbox keeps. ``data`` is the typed payload the publisher
    built (one of :mod:`loyalty_core.modules.topics`), handed to handlers as is: read it with
    the topic's ``of`` (``EventIngested.of(event)``), which parses ``payload`` only when
    ``data`` is absent."""

    topic: str
    tenant_id: uuid.UUID
    payload: dict[str, Any]
    data: object | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, tenant_id: uuid.UUID, data: Any) -> DomainEvent:
        """The domain event of a typed payload (a class with ``TOPIC`` and ``to_payload``)."""
        return cls(topic=data.TOPIC, tenant_id=tenant_id, payload=data.to_payload(), data=data)


@dataclass(frozen=True)
class HandlerContext:
    """What a domain event handler may use: the writer's connection (in-transaction phase)
    or the database (after commit), and the tenant's settings for the module.

    ``tenant`` is the tenant as the writer read it (its time zone for a local day, its
    default currency), when the writer had it (requests and the demo do), so that a handler
    on the ingest path need not read it again per event; None otherwise (read it with
    ``sdk.tenants.get_tenant``). ``registry`` and ``enabled_modules`` (the tenant's, with
    their settings) let a handler reach other modules' declarations, as a job can: a
    module that rewards with any module's rule effect applies it through them."""

    tenant_id: uuid.UUID
    settings: BaseModel
    conn: AsyncConnection | None
    database: Database
    tenant: Tenant | None = None
    registry: ModuleRegistry | None = None
    enabled_modules: Mapping[str, BaseModel] = field(default_factory=dict)


@dataclass(frozen=True)
class EventHandler:
    """A handler of a domain event topic (``event.ingested``...), run in the writer's transaction
    or after it committed."""

    topic: str
    handler: Callable[[DomainEvent, HandlerContext], Awaitable[None]]
    phase: HandlerPhase = HandlerPhase.IN_TRANSACTION


@dataclass(frozen=True)
class EffectContext:
    """Where a rule effect runs: in the transaction that processes the trigger (an event,
    or a scheduled occurrence such as a birthday), for one member and one campaign version.

    ``idempotency_key`` is unique per campaign version, trigger occurrence and effect: use it
    (or derive from it) for every ledger posting, so a replayed trigger writes nothing twice.
    ``registry`` and ``enabled_modules`` (the tenant's, with their settings) let an effect
    reach what other modules declare through its module's hooks, as a request can (a reward
    of a kind another module registers).
    """

    conn: AsyncConnection
    tenant: Tenant
    member_id: uuid.UUID
    campaign_id: uuid.UUID
    campaign_version: int
    idempotency_key: str
    now: datetime
    actor: str
    event_id: uuid.UUID | None = None
    event: Mapping[str, Any] = field(default_factory=dict)
    """The triggering event as rules see it (type, payload, amount, currency...)."""
    module_settings: BaseModel | None = None
    registry: ModuleRegistry | None = None
    enabled_modules: Mapping[str, BaseModel] = field(default_factory=dict)


@dataclass(frozen=True)
class EffectResult:
    """What an effect did: ``points`` count against the campaign's budget and limits."""

    points: int = 0
    transaction_ids: tuple[uuid.UUID, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class RuleEffect:
    """An effect campaigns can use (``loyalty_rule_effects()``): ``params_model`` validates a
    campaign's parameters when it is saved; ``apply`` runs in the trigger's transaction;
    ``simulate`` says what ``apply`` would do, without writing, for backtests."""

    name: str
    params_model: type[BaseModel]
    apply: Callable[[EffectContext, BaseModel], Awaitable[EffectResult]]
    simulate: Callable[[BaseModel, Mapping[str, Any]], EffectResult] | None = None
    description: str = ""


@dataclass(frozen=True)
class MemberFact:
    """A fact about a member that a module contributes to CEL conditions and segments
    (``loyalty_rule_conditions()``): ``member.<name>``, a tier, a membership state.

    ``column(tenant_id, member_id)`` returns a scalar SQL expression (a correlated scalar
    subquery, by primary key) over the two bound parameters it is given. The rules engine
    adds it to the one statement that reads the member's aggregates, so a fact costs no
    statement of its own and no scan per event; its value is the fact's as the trigger's
    transaction sees it (now), not as of the event. A member without a value reads ``null``.
    """

    name: str
    column: Callable[[Any, Any], Any]
    description: str = ""


@dataclass(frozen=True)
class JobContext:
    """What one run of a job for one tenant may use.

    ``settings`` are the tenant's settings of the module that declared the job;
    ``enabled_modules`` are every module the tenant enabled, with their settings, and
    ``registry`` what this process loaded, so a job can reach other modules' declarations
    (the core's scheduled campaigns apply module effects through them). ``now`` is the moment
    the run is for: compare due dates against it rather than reading the clock again.
    """

    database: Database
    tenant: Tenant
    settings: BaseModel
    registry: ModuleRegistry
    enabled_modules: Mapping[str, BaseModel]
    now: datetime


@dataclass(frozen=True)
class Job:
    """A periodic job, run per tenant that enabled the module; must be idempotent, since two
    replicas may run it at once. ``run`` returns how many things it did."""

    name: str
    run: Callable[[JobContext], Awaitable[int]]
    interval: timedelta = timedelta(minutes=1)


@dataclass(frozen=True)
class MemberDataContext:
    """Whose data a privacy request is about, in the transaction that serves it: an export
    reads, an erasure writes, and both see one tenant only.

    ``database``, ``registry`` and ``enabled_modules`` (the tenant's, with their settings) let
    an erasure close what is open through the module's own path, as a till or a job would
    (the payment module voids open authorisations through their tenders); None and empty
    where the caller serves no such module.
    """

    conn: AsyncConnection
    tenant_id: uuid.UUID
    member_id: uuid.UUID
    now: datetime
    actor: str
    database: Database | None = None
    registry: ModuleRegistry | None = None
    enabled_modules: Mapping[str, BaseModel] = field(default_factory=dict)


@dataclass(frozen=True)
class MemberData:
    """How a module takes part in privacy requests (``loyalty_member_data()``).

    ``export`` returns the module's data about one member as JSON-compatible values (Art. 15
    and 20); ``erase`` removes or blanks every piece of personal data the module holds about
    the member (Art. 17) and returns how many rows it changed. Both run in the core's
    transaction for the request, for every installed module: data a tenant keeps in a module
    it disabled is still its data.
    """

    export: Callable[[MemberDataContext], Awaitable[Mapping[str, Any]]]
    erase: Callable[[MemberDataContext], Awaitable[int]]


@dataclass(frozen=True)
class MigrationLocation:
    path: Path


@dataclass(frozen=True)
class TenantProvisioning:
    """Work to do when a tenant enables a module (in the enabling transaction)."""

    run: Callable[[AsyncConnection, Tenant, BaseModel], Awaitable[None]]


@dataclass(frozen=True)
class DemoMember:
    """A member of the demo tenant, as a module seeding demo data sees them."""

    id: uuid.UUID
    name: str
    email: str


@dataclass(frozen=True)
class DemoContext:
    """What a module's demo seed gets: the demo tenant's transaction (everything the seed
    writes commits with the rest of the demo, or nothing does), its members in the order they
    were enrolled (the first is the one whose credentials the demo prints), the actor to
    record, the seed's time, and ``ingest``: an event ingested as a touchpoint's would be, so
    rules, campaigns and every enabled module's handlers run on it. ``ingest_as`` ingests it
    as sent by another actor (``touchpoint:<API key id>`` of a key the seed made: a
    partner's till). Points a seed spends or gives back with ``ledger.spend`` and
    ``ledger.give_back`` are announced to the modules' handlers as a request's are.
    ``registry`` and ``enabled_modules`` (the demo tenant's, with their settings) let a seed
    reach what modules seeded before it offer through hooks (the partners of a coalition
    whose offers another module funds)."""

    conn: AsyncConnection
    tenant: Tenant
    members: Sequence[DemoMember]
    actor: str
    now: datetime
    ingest: Callable[[EventInput], Awaitable[IngestResult]]
    ingest_as: Callable[[EventInput, str], Awaitable[IngestResult]]
    registry: ModuleRegistry | None = None
    enabled_modules: Mapping[str, BaseModel] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoSeed:
    """How the module shows itself in ``loyalty demo``: the settings the demo tenant enables
    it with, and ``seed``, which writes believable data through the module's own services
    after the demo's members and purchase history exist (so it may also ingest more events,
    once its definitions are in place, for progress and history to show)."""

    settings: Mapping[str, object] = field(default_factory=dict)
    seed: Callable[[DemoContext], Awaitable[None]] | None = None


@dataclass
class ModuleContributions:
    """Everything one loaded module declared, gathered at start-up."""

    info: ModuleInfo
    migrations: Path | None = None
    schema: SchemaContribution | None = None
    type_extensions: list[TypeExtension] = field(default_factory=list)
    event_types: list[EventTypeSpec] = field(default_factory=list)
    rule_effects: list[RuleEffect] = field(default_factory=list)
    rule_conditions: list[MemberFact] = field(default_factory=list)
    event_handlers: list[EventHandler] = field(default_factory=list)
    routes: list[Any] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    provisioning: TenantProvisioning | None = None
    member_data: MemberData | None = None
    demo: DemoSeed | None = None
    hookspecs: Any = None
    """The namespace of hooks this module defines for other modules (``loyalty_hookspecs``)."""
    extensions: dict[str, Any] = field(default_factory=dict)
    """What this module returned from hooks other modules define, by hook name."""
    origin: ModuleOrigin | None = None
    """The distribution it came from; None for a module loaded by import (tests)."""


__all__ = [
    "DemoContext",
    "DemoMember",
    "DemoSeed",
    "DomainEvent",
    "EffectContext",
    "EffectResult",
    "EventHandler",
    "EventTypeSpec",
    "HandlerContext",
    "HandlerPhase",
    "Job",
    "JobContext",
    "MemberData",
    "MemberDataContext",
    "MemberFact",
    "MigrationLocation",
    "ModuleContributions",
    "ModuleInfo",
    "NoSettings",
    "RuleEffect",
    "SchemaContribution",
    "TenantProvisioning",
    "TypeExtension",
]
