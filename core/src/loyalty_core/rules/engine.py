"""The rules engine: which campaigns a trigger qualifies for, and what they award.

``evaluate`` is the one evaluation path. Live ingestion gives it a :class:`LedgerSink`
(budget and limits reserved by conditional updates, effects posted through the ledger, all
inside a savepoint so a refused reservation leaves nothing); backtests give it a
:class:`MemorySink` (the same decisions, counted in memory). Campaigns run by descending
priority; an exclusive campaign only applies when nothing awarded before it, and stops the
rest once it awarded.

A campaign that fails for a trigger (its condition cannot be evaluated, an effect cannot be
applied: :class:`health.CampaignFailed`) is skipped for it and told to a
:class:`health.Tally`, which the caller records; the trigger goes on as if that campaign did
not exist. Nothing a failing campaign does is left in the transaction: a condition fails in
Python before anything is written, an effect's amount is checked before it is posted, and
effects that write before they can fail (a module's) run in a savepoint.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.errors import LoyaltyError
from loyalty_core.events.builtin import PURCHASE
from loyalty_core.events.models import StoredEvent
from loyalty_core.ids import new_id
from loyalty_core.ledger import repository as ledger_repo
from loyalty_core.ledger import service as ledger
from loyalty_core.ledger.models import Asset, Cause, LedgerTransaction
from loyalty_core.members import service as members
from loyalty_core.members.models import Member
from loyalty_core.modules.contributions import EffectContext, EffectResult, MemberFact, RuleEffect
from loyalty_core.money import to_major
from loyalty_core.rules import conditions, segments
from loyalty_core.rules import repository as repo
from loyalty_core.rules.definition import (
    MAX_AWARD,
    ROUNDING,
    AssetAward,
    Definition,
    Effect,
    FixedPoints,
    Multiplier,
    Period,
    PointsPerUnit,
    Stacking,
    Window,
    parse,
    resolve_effects,
)
from loyalty_core.rules.health import CONDITION, EFFECT, CampaignFailed, Tally
from loyalty_core.tenants.models import Tenant
from loyalty_core.tenants.service import DEFAULT_ASSET_CODE

if TYPE_CHECKING:
    from loyalty_core.events.service import Ingestion
    from loyalty_core.modules.manager import ModuleRegistry

ModuleEffects = Mapping[str, tuple[str, RuleEffect]]
"""``<module>.<effect>`` -> (module name, declaration), for the tenant's enabled modules."""


def module_effects(registry: ModuleRegistry | None, enabled: Iterable[str]) -> ModuleEffects:
    """The effects of the ``enabled`` modules this process loaded, by ``<module>.<effect>``
    (none without a registry)."""
    if registry is None:
        return {}
    return {
        f"{name}.{effect.name}": (name, effect)
        for name in enabled
        if (module := registry.get(name)) is not None
        for effect in module.rule_effects
    }


ModuleFacts = tuple[MemberFact, ...]
"""The member facts the tenant's enabled modules contribute (``member.tier``)."""


def module_facts(registry: ModuleRegistry, enabled: Iterable[str]) -> ModuleFacts:
    """The member facts of the ``enabled`` modules this process loaded, in a stable order."""
    return tuple(
        fact
        for name in sorted(enabled)
        if (module := registry.get(name)) is not None
        for fact in module.rule_conditions
    )


@dataclass(frozen=True)
class CampaignVersion:
    campaign_id: uuid.UUID
    version: int
    name: str
    definition: Definition
    consecutive_failures: int = 0
    """As read with the active campaigns: a success must reset it when it is not zero."""


@dataclass(frozen=True)
class Trigger:
    """One occurrence that campaigns may reward: who, when (the event's time), what."""

    tenant: Tenant
    member_id: uuid.UUID
    at: datetime
    variables: Mapping[str, Any]
    base_points: int
    event: StoredEvent | None = None
    occurrence: str | None = None
    """For scheduled triggers: which one (``birthday:2026``), part of every ledger key."""


@dataclass(frozen=True)
class Planned:
    """An effect about to be applied, with the points it will count."""

    effect: Effect
    index: int
    points: int
    asset_code: str | None = None
    amount: int = 0


class Sink(Protocol):
    """Where awards go: the ledger (live) or counters in memory (backtests)."""

    async def award(
        self, version: CampaignVersion, trigger: Trigger, planned: Sequence[Planned]
    ) -> bool: ...


async def evaluate(
    versions: Sequence[CampaignVersion],
    trigger: Trigger,
    sink: Sink,
    effects: ModuleEffects,
    tally: Tally,
) -> int:
    """Apply every campaign the trigger qualifies for; returns how many awarded. A campaign
    that fails is skipped and told to ``tally``, as is one evaluated without failing."""
    awarded = 0
    for version in sorted(versions, key=lambda v: (-v.definition.priority, v.campaign_id)):
        exclusive = version.definition.stacking is Stacking.EXCLUSIVE
        if exclusive and awarded:
            continue
        if not in_window(version.definition.window, trigger.at, trigger.tenant.timezone):
            continue
        if not _targets(version.definition, trigger):
            continue
        try:
            applied = await _apply(version, trigger, sink, effects)
        except CampaignFailed as failure:
            tally.failed(version, failure)
            continue
        tally.succeeded(version)
        if applied:
            awarded += 1
            if exclusive:
                break
    return awarded


async def _apply(
    version: CampaignVersion, trigger: Trigger, sink: Sink, effects: ModuleEffects
) -> bool:
    """Whether the campaign awarded; :class:`CampaignFailed` when it could not be applied."""
    try:
        if not conditions.evaluate(version.definition.condition, trigger.variables):
            return False
    except conditions.ConditionFailed as failed:
        raise CampaignFailed.of(CONDITION, failed) from failed
    try:
        planned = plan(version.definition, trigger, effects)
    except LoyaltyError:
        return False  # an effect of a module the tenant has since disabled: nothing to do
    return bool(planned) and await sink.award(version, trigger, planned)


def _targets(definition: Definition, trigger: Trigger) -> bool:
    if not definition.segments:
        return True
    member_segments = trigger.variables.get("member", {}).get("segments", [])
    return any(name in member_segments for name in definition.segments)


def in_window(window: Window, at: datetime, timezone: str) -> bool:
    local = at.astimezone(ZoneInfo(timezone))
    if window.starts_at is not None and at < window.starts_at:
        return False
    if window.ends_at is not None and at >= window.ends_at:
        return False
    if window.days_of_week is not None and local.isoweekday() not in window.days_of_week:
        return False
    return window.hours_from <= local.hour < window.hours_to


def plan(definition: Definition, trigger: Trigger, effects: ModuleEffects) -> list[Planned]:
    """The effects with their points; effects that would award nothing are left out, and
    :class:`CampaignFailed` when one computes more than an award may give (``MAX_AWARD``:
    a large amount per currency unit, or a multiplier of a large base)."""
    planned: list[Planned] = []
    for index, effect in enumerate(resolve_effects(definition, effects)):
        params = effect.params
        if effect.module is not None:
            planned.append(Planned(effect, index, 0))
        elif isinstance(params, AssetAward):
            planned.append(Planned(effect, index, 0, params.asset, params.amount))
        elif (points := _points(params, trigger)) > 0:
            if points > MAX_AWARD:
                raise CampaignFailed(
                    EFFECT,
                    f"effects.{index} ({effect.kind}) computed {points} points, more than one "
                    f"award may give ({MAX_AWARD})",
                    "AwardOutOfRange",
                )
            planned.append(Planned(effect, index, points, DEFAULT_ASSET_CODE, points))
    return planned


def base_points(tenant: Tenant, event: StoredEvent) -> int:
    """What the base earn gives a purchase: the multiplier effect's reference."""
    if event.type != PURCHASE or event.amount is None or event.currency is None:
        return 0
    major = to_major(event.amount, event.currency) * tenant.earn_rate(event.currency)
    return int(major.to_integral_value(ROUND_DOWN))


def _points(params: BaseModel, trigger: Trigger) -> int:
    if isinstance(params, FixedPoints):
        return params.points
    if isinstance(params, Multiplier):
        extra = trigger.base_points * (params.factor - 1)
        return int(extra.to_integral_value(ROUND_DOWN))
    if isinstance(params, PointsPerUnit):
        event = trigger.event
        if event is None or event.amount is None or event.currency is None:
            return 0
        value = to_major(event.amount, event.currency) * params.points
        return int(value.to_integral_value(ROUNDING[params.rounding]))
    return 0


def periods(definition: Definition, at: datetime, timezone: str) -> dict[str, Period]:
    """The counter key of each limit's period containing ``at`` (tenant's local time)."""
    local = at.astimezone(ZoneInfo(timezone))
    iso = local.isocalendar()
    keys = {
        Period.DAY: f"day:{local.date().isoformat()}",
        Period.WEEK: f"week:{iso.year}-W{iso.week:02d}",
        Period.MONTH: f"month:{local.year}-{local.month:02d}",
        Period.CAMPAIGN: "campaign",
    }
    return {keys[limit.period]: limit.period for limit in definition.limits}


async def trigger_of_event(
    conn: AsyncConnection,
    tenant: Tenant,
    event: StoredEvent,
    member: Member | None = None,
    *,
    history: bool = True,
    facts: ModuleFacts = (),
) -> Trigger:
    """The trigger an event makes, with the member as rules see it at that event (``member``:
    the event's member if the caller read it already in this transaction). Without
    ``history`` the member's aggregates, module ``facts`` and segments are left out (see
    :func:`needs_history`), and with them two reads."""
    if member is None:
        member = await members.get_member(conn, tenant.id, event.member_id)
    aggregates = None
    if history:
        aggregates = await repo.member_aggregates(
            conn,
            tenant.id,
            event.member_id,
            event_type=event.type,
            upto=event.id,
            at=event.occurred_at,
            facts=facts,
        )
    variables = {
        "event": {
            "type": event.type,
            "source": event.source,
            "externalId": event.external_id,
            "amount": event.amount,
            "currency": event.currency,
            "occurredAt": event.occurred_at,
            "payload": event.payload,
        },
        "member": await member_variables(
            conn, tenant.id, member, aggregates, event.occurred_at, facts
        ),
        "now": event.occurred_at,
    }
    return Trigger(
        tenant=tenant,
        member_id=event.member_id,
        at=event.occurred_at,
        variables=variables,
        base_points=base_points(tenant, event),
        event=event,
    )


def needs_history(definition: Definition) -> bool:
    """Whether a campaign reads the member's history: it targets segments, or its condition
    reads a member field the member's row does not hold (or the member as a whole)."""
    if definition.segments:
        return True
    fields = conditions.member_fields(definition.condition)
    return fields is None or not fields <= conditions.MEMBER_ROW_FIELDS


async def member_variables(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member: Member,
    aggregates: Any | None,
    at: datetime,
    facts: ModuleFacts = (),
) -> dict[str, Any]:
    """The member as conditions see it at ``at`` (see ``conditions.MEMBER_FIELDS``), with the
    module ``facts`` the aggregates were read with; with no ``aggregates``, only the fields of
    the member's row (no campaign reads the others)."""
    found: dict[str, Any] = {
        "id": str(member.id),
        "status": member.status.value,
        "attributes": member.attributes,
        "enrolledAt": member.created_at,
    }
    if aggregates is None:
        return found
    found |= {
        "purchaseCount": int(aggregates.purchase_count),
        "eventCount": int(aggregates.event_count),
        "totalSpend": int(aggregates.total_spend),
    }
    for days in conditions.WINDOWS:
        found[f"spendLast{days}Days"] = int(getattr(aggregates, f"spend_{days}"))
        found[f"purchasesLast{days}Days"] = int(getattr(aggregates, f"purchases_{days}"))
        found[f"eventsLast{days}Days"] = int(getattr(aggregates, f"events_{days}"))
    for fact in facts:
        found[fact.name] = getattr(aggregates, repo.fact_label(fact))
    found["segments"] = await segments.member_segments(conn, tenant_id, found, at)
    return found


_DEFINITIONS: dict[tuple[uuid.UUID, int], Definition] = {}
"""Parsed definitions by (campaign, version). A version never changes once written (a change
adds one), and validating its JSON again on every ingest and dashboard cost more than
reading it. Emptied when it reaches :data:`_MAX_DEFINITIONS`, since old versions go unused."""
_MAX_DEFINITIONS = 4096


def version_of(row: Any) -> CampaignVersion:
    """A row of the active campaigns (``repository.active_versions``) as the engine runs it."""
    key = (row.campaign_id, row.version)
    definition = _DEFINITIONS.get(key)
    if definition is None:
        if len(_DEFINITIONS) >= _MAX_DEFINITIONS:
            _DEFINITIONS.clear()
        definition = _DEFINITIONS[key] = parse(row.definition)
    return CampaignVersion(
        row.campaign_id, row.version, row.name, definition, row.consecutive_failures
    )


class Campaigns:
    """The engine as a reward step of ingestion (after the base earn). One serves the
    ingestions of one request (one event's, or a batch's), and reads and parses the active
    campaigns of an event type at most once for them."""

    def __init__(
        self,
        effects: ModuleEffects,
        settings: Mapping[str, BaseModel],
        facts: ModuleFacts = (),
        registry: ModuleRegistry | None = None,
    ) -> None:
        self.effects = effects
        self.settings = settings
        self.facts = facts
        self.registry = registry
        self._active: dict[str, list[CampaignVersion]] = {}
        self._plannable: dict[str, bool] = {}

    async def versions(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, event_type: str
    ) -> list[CampaignVersion]:
        """The campaigns active for ``event_type`` when this request first asked."""
        versions = self._active.get(event_type)
        if versions is None:
            rows = await repo.active_versions(conn, tenant_id, event_type)
            versions = self._active[event_type] = [version_of(r) for r in rows]
        return versions

    async def plannable(self, conn: AsyncConnection, tenant_id: uuid.UUID, event_type: str) -> bool:
        """Whether :func:`plannable` holds for the campaigns of ``event_type``, decided once."""
        found = self._plannable.get(event_type)
        if found is None:
            versions = await self.versions(conn, tenant_id, event_type)
            found = self._plannable[event_type] = plannable(versions, self.effects)
        return found

    async def __call__(
        self, conn: AsyncConnection, ingestion: Ingestion, event: StoredEvent
    ) -> list[LedgerTransaction]:
        versions = await self.versions(conn, ingestion.tenant.id, event.type)
        if not versions:
            return []
        member = ingestion.members.get(event.member_id)
        history = any(needs_history(v.definition) for v in versions)
        trigger = await trigger_of_event(
            conn, ingestion.tenant, event, member, history=history, facts=self.facts
        )
        sink = LedgerSink(
            conn,
            ingestion.actor,
            ingestion.now,
            self.settings,
            assets=ingestion.assets,
            registry=self.registry,
        )
        tally = Tally(ingestion.now)
        await evaluate(versions, trigger, sink, self.effects, tally)
        await tally.record(conn, ingestion.tenant.id)
        return sink.posted


def plannable(versions: Sequence[CampaignVersion], effects: ModuleEffects) -> bool:
    """Whether what these campaigns award can be computed without the database, so that a
    chunk of a batch (``events.chunks``) plans their awards as :class:`LedgerSink` would:
    none reads the member's history, none can refuse an award (budget, limits) and none runs
    a module's effect."""
    return not any(
        needs_history(v.definition)
        or _refusable(v.definition)
        or any(e.module is not None for e in resolve_effects(v.definition, effects))
        for v in versions
    )


def _refusable(definition: Definition) -> bool:
    return definition.budget is not None or bool(definition.limits)


def award_values(version: CampaignVersion, trigger: Trigger, points: int) -> dict[str, Any]:
    """The ``rule_awards`` row of an award."""
    return {
        "tenant_id": trigger.tenant.id,
        "id": new_id(),
        "campaign_id": version.campaign_id,
        "version": version.version,
        "member_id": trigger.member_id,
        "event_id": trigger.event.id if trigger.event else None,
        "points": points,
        "periods": sorted(periods(version.definition, trigger.at, trigger.tenant.timezone)),
    }


def award_posting(
    version: CampaignVersion, trigger: Trigger, item: Planned, actor: str, now: datetime
) -> ledger.Posting:
    """The posting of an effect of an award."""
    return ledger.Posting(
        tenant_id=trigger.tenant.id,
        idempotency_key=_key(version, trigger, item.index),
        reason=describe(version, item, trigger),
        cause=_cause(version, trigger),
        actor=actor,
        now=now,
    )


@dataclass
class LedgerSink:
    """Live awards: postings and reservations in one savepoint of the trigger's transaction."""

    conn: AsyncConnection
    actor: str
    now: datetime
    settings: Mapping[str, BaseModel] = field(default_factory=dict)
    posted: list[LedgerTransaction] = field(default_factory=list)
    assets: dict[str, Asset] = field(default_factory=dict)
    """Assets by code, read once (shared with the ingestion that runs this sink)."""
    registry: ModuleRegistry | None = None
    """The modules of the process, for effects that reach other modules' hooks."""

    async def award(
        self, version: CampaignVersion, trigger: Trigger, planned: Sequence[Planned]
    ) -> bool:
        """Post, then reserve budget and limits; a refused reservation rolls the savepoint
        back. Posting first keeps one lock order for every writer (the member's accounts,
        then the campaign's counters), whether or not the base earn locked the account
        already: otherwise two ingestions could each wait for the other's lock.

        An award nothing can refuse (no budget, no limits, no module effect) takes no
        savepoint: its assets are found before anything is posted, its amounts were checked
        when planned, so its only failures are the database's, which roll the whole
        transaction back anyway, and a savepoint costs two round trips. In a savepoint, an
        effect that fails (a module's raising, a statement refused) is rolled back and is a
        :class:`CampaignFailed`, unless the database asks the whole transaction to retry."""
        for item in planned:
            if item.asset_code is not None:
                await self._asset(trigger, item.asset_code)
        refusable = _refusable(version.definition) or any(
            item.asset_code is None for item in planned
        )
        if not refusable:
            posted, points = await self._apply(version, trigger, planned)
            await self._record(version, trigger, points)
            self.posted += posted
            return True
        savepoint = await self.conn.begin_nested()
        try:
            posted, points = await self._apply(version, trigger, planned)
            if not await self._reserve(version, trigger, points):
                await savepoint.rollback()
                return False
            await self._record(version, trigger, points)
        except Exception as error:
            await savepoint.rollback()
            if transient(error):
                raise
            raise CampaignFailed.of(EFFECT, error) from error
        except BaseException:
            await savepoint.rollback()
            raise
        await savepoint.commit()
        self.posted += posted
        return True

    async def _asset(self, trigger: Trigger, code: str) -> Asset:
        """The tenant's asset ``code``, read once; :class:`CampaignFailed` when it is gone."""
        asset = self.assets.get(code)
        if asset is None:
            asset = await ledger_repo.get_asset(self.conn, trigger.tenant.id, code)
            if asset is None:
                raise CampaignFailed(EFFECT, f"no asset {code!r}", "UnknownAsset")
            self.assets[code] = asset
        return asset

    async def _record(self, version: CampaignVersion, trigger: Trigger, points: int) -> None:
        await repo.insert_awards(self.conn, [award_values(version, trigger, points)])

    async def _apply(
        self, version: CampaignVersion, trigger: Trigger, planned: Sequence[Planned]
    ) -> tuple[list[LedgerTransaction], int]:
        """Every effect applied: what was posted, and the points that count."""
        posted: list[LedgerTransaction] = []
        points = sum(p.points for p in planned)
        for item in planned:
            if item.asset_code is not None:
                posted.append(await self._earn(version, trigger, item))
                continue
            result = await self._module(version, trigger, item)
            points += result.points
            for transaction_id in result.transaction_ids:
                found = await ledger_repo.get_transaction(
                    self.conn, trigger.tenant.id, transaction_id
                )
                posted += [found] if found else []
        return posted, points

    async def _reserve(self, version: CampaignVersion, trigger: Trigger, points: int) -> bool:
        tenant_id, definition = trigger.tenant.id, version.definition
        # Without a budget nothing is counted: the campaign row would otherwise be a hot row
        # every award of the tenant's campaign waits for.
        if definition.budget is not None and not await repo.reserve_budget(
            self.conn, tenant_id, version.campaign_id, points, definition.budget
        ):
            return False
        keys = periods(definition, trigger.at, trigger.tenant.timezone)
        for limit in definition.limits:
            key = next(k for k, p in keys.items() if p is limit.period)
            if not await repo.reserve_limit(
                self.conn,
                tenant_id,
                version.campaign_id,
                trigger.member_id,
                key,
                points=points,
                max_awards=limit.max_awards,
                max_points=limit.max_points,
            ):
                return False
        return True

    async def _earn(
        self, version: CampaignVersion, trigger: Trigger, item: Planned
    ) -> LedgerTransaction:
        assert item.asset_code is not None
        asset = await self._asset(trigger, item.asset_code)
        posted = await ledger.earn(
            self.conn,
            award_posting(version, trigger, item, self.actor, self.now),
            member_id=trigger.member_id,
            asset=asset,
            amount=item.amount,
            pending_days=version.definition.pending_days,
        )
        return posted.transaction

    async def _module(
        self, version: CampaignVersion, trigger: Trigger, item: Planned
    ) -> EffectResult:
        assert item.effect.module is not None
        context = EffectContext(
            conn=self.conn,
            tenant=trigger.tenant,
            member_id=trigger.member_id,
            campaign_id=version.campaign_id,
            campaign_version=version.version,
            idempotency_key=_key(version, trigger, item.index),
            now=self.now,
            actor=self.actor,
            event_id=trigger.event.id if trigger.event else None,
            event=trigger.variables.get("event", {}),
            module_settings=self.settings.get(item.effect.module_name or ""),
            registry=self.registry,
            enabled_modules=self.settings,
        )
        return await item.effect.module.apply(context, item.effect.params)


@dataclass
class MemorySink:
    """Backtest awards: the same reservations as :class:`LedgerSink`, counted in memory."""

    spent: dict[uuid.UUID, int] = field(default_factory=dict)
    counters: dict[tuple[uuid.UUID, uuid.UUID, str], tuple[int, int]] = field(default_factory=dict)
    awards: list[tuple[uuid.UUID, datetime, int]] = field(default_factory=list)
    """(member, when, points) of every award."""

    async def award(
        self, version: CampaignVersion, trigger: Trigger, planned: Sequence[Planned]
    ) -> bool:
        points = sum(p.points for p in planned)
        for item in planned:
            module = item.effect.module
            if module is not None and module.simulate is not None:
                try:
                    simulated = module.simulate(item.effect.params, trigger.variables["event"])
                except Exception as error:
                    raise CampaignFailed.of(EFFECT, error) from error
                points += simulated.points
        definition = version.definition
        spent = self.spent.get(version.campaign_id, 0)
        if definition.budget is not None and spent + points > definition.budget:
            return False
        keys = periods(definition, trigger.at, trigger.tenant.timezone)
        updates: dict[tuple[uuid.UUID, uuid.UUID, str], tuple[int, int]] = {}
        for limit in definition.limits:
            key = next(k for k, p in keys.items() if p is limit.period)
            slot = (version.campaign_id, trigger.member_id, key)
            awards, total = self.counters.get(slot, (0, 0))
            if limit.max_awards is not None and awards + 1 > limit.max_awards:
                return False
            if limit.max_points is not None and total + points > limit.max_points:
                return False
            updates[slot] = (awards + 1, total + points)
        self.spent[version.campaign_id] = spent + points
        self.counters.update(updates)
        self.awards.append((trigger.member_id, trigger.at, points))
        return True


TRANSIENT_CLASSES = frozenset({"08", "40", "53", "57", "58"})
"""SQLSTATE classes of errors that are no fault of a campaign (connection, transaction
rollback such as a deadlock, resources, operator intervention such as a statement timeout,
system): the whole transaction fails, to be retried as before."""


def transient(error: Exception) -> bool:
    """Whether ``error`` is the database's trouble rather than the campaign's."""
    sqlstate = getattr(getattr(error, "orig", None), "sqlstate", None)
    return isinstance(error, DBAPIError) and str(sqlstate or "")[:2] in TRANSIENT_CLASSES


def describe(version: CampaignVersion, item: Planned, trigger: Trigger) -> str:
    """The cause in words, as ``explainBalance`` shows it."""
    params = item.effect.params
    event = trigger.event
    if event is not None:
        on = f" on {event.type} {event.payload.get('orderReference', event.external_id)}"
    else:
        on = f" ({trigger.occurrence})"
    if isinstance(params, Multiplier):
        what = f"{params.factor}x base"
    elif isinstance(params, PointsPerUnit):
        what = f"{params.points} points per unit"
    elif isinstance(params, AssetAward):
        what = f"{params.amount} {params.asset}"
    else:
        what = f"{item.points} points"
    return f"{version.name} (v{version.version}): {what}{on}"[:500]


def _key(version: CampaignVersion, trigger: Trigger, index: int) -> str:
    if trigger.event is not None:
        occurrence = f"event:{trigger.event.id}"
    else:
        occurrence = f"schedule:{trigger.member_id}:{trigger.occurrence}"
    return f"{occurrence}:rule:{version.campaign_id}:v{version.version}:{index}"


def _cause(version: CampaignVersion, trigger: Trigger) -> Cause:
    event = trigger.event
    return Cause(
        kind="rule",
        id=f"{event.type}:{event.external_id}" if event else trigger.occurrence,
        event_id=event.id if event else None,
        rule_id=version.campaign_id,
        rule_version=version.version,
    )


async def credit_back(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    purchase_id: uuid.UUID,
    reversed_: Sequence[tuple[LedgerTransaction, int]],
    *,
    complete: bool,
) -> None:
    """A refund reversed ``(transaction, points)`` of the purchase's campaign awards: give the
    points back to budgets and limits; a fully refunded purchase gives its awards back too."""
    due: dict[uuid.UUID, int] = {}
    for transaction, points in reversed_:
        if transaction.cause.rule_id is not None:
            due[transaction.cause.rule_id] = due.get(transaction.cause.rule_id, 0) + points
    for award in await repo.awards_of_event(conn, tenant_id, purchase_id):
        points = min(due.pop(award.campaign_id, 0), int(award.points))
        if points == 0 and not complete:
            continue
        if points:
            await repo.credit_budget(conn, tenant_id, award.campaign_id, -points)
        for period in award.periods:
            await repo.credit_limit(
                conn,
                tenant_id,
                award.campaign_id,
                award.member_id,
                period,
                points=points,
                awards=1 if complete else 0,
            )


__all__ = [
    "CampaignVersion",
    "Campaigns",
    "LedgerSink",
    "MemorySink",
    "ModuleEffects",
    "ModuleFacts",
    "Planned",
    "Sink",
    "Trigger",
    "award_posting",
    "award_values",
    "base_points",
    "credit_back",
    "evaluate",
    "in_window",
    "member_variables",
    "module_effects",
    "module_facts",
    "needs_history",
    "periods",
    "plan",
    "plannable",
    "transient",
    "trigger_of_event",
]
