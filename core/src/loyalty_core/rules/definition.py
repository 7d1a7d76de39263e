"""What a campaign version says, validated when it is saved and stored as JSON.

Every check that can fail is made here, before anything is written, so a bad definition is
a clear error naming the field and never a half-saved campaign. Effects are validated by
their own parameter models: the built-in ones below, or a module's ``params_model``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from loyalty_core.errors import ErrorCode, LoyaltyError, ValidationFailed
from loyalty_core.modules.contributions import RuleEffect

ModelT = TypeVar("ModelT", bound=BaseModel)

ROUNDING = {"down": ROUND_DOWN, "up": ROUND_CEILING, "halfUp": ROUND_HALF_UP}

MAX_AWARD = 2**31 - 1
"""The most one effect may award. The ledger's columns hold 64 bits, but the API shows amounts
as GraphQL's 32-bit ``Int``: a larger award could be written and never read back, and
balances summing such awards would reach the columns' limit. Fixed amounts above it are
refused when a campaign is saved; computed ones (per currency unit, multipliers) are checked
when they are computed, and one above it is a failure of the campaign for that event."""
DEFAULT_PAUSE_AFTER = 10
"""Consecutive failures after which an active campaign pauses itself, unless it says."""


BIRTHDAY = "schedule.birthday"
ANNIVERSARY = "schedule.anniversary"
INACTIVITY = "schedule.inactivity"
FIXED_DATE = "schedule.date"
SCHEDULES = frozenset({BIRTHDAY, ANNIVERSARY, INACTIVITY, FIXED_DATE})
"""Triggers the scheduled job fires (per member, once per occurrence), not events."""


class Stacking(StrEnum):
    STACK = "stack"
    EXCLUSIVE = "exclusive"


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True
    )


class FixedPoints(_Strict):
    """``points``: a fixed number of points per qualifying trigger."""

    points: int = Field(gt=0, le=MAX_AWARD)


class PointsPerUnit(_Strict):
    """``pointsPerUnit``: points per currency unit of the event's amount, rounded."""

    points: Decimal = Field(gt=0, le=MAX_AWARD)
    rounding: Literal["down", "up", "halfUp"] = "down"


class Multiplier(_Strict):
    """``multiplier``: the base earn times ``factor`` in total, i.e. ``factor - 1`` extra."""

    factor: Decimal = Field(gt=1, le=100)


class AssetAward(_Strict):
    """``assetAward``: a fixed amount of another asset of the tenant (e.g. ``miles``)."""

    asset: str = Field(min_length=1, max_length=32)
    amount: int = Field(gt=0, le=MAX_AWARD)


BUILTIN_EFFECTS: dict[str, type[BaseModel]] = {
    "points": FixedPoints,
    "pointsPerUnit": PointsPerUnit,
    "multiplier": Multiplier,
    "assetAward": AssetAward,
}


class Window(_Strict):
    """When a campaign applies, in the tenant's time zone: ``[startsAt, endsAt)``, ISO days of
    the week (1 = Monday), and hours ``[hoursFrom, hoursTo)``."""

    starts_at: datetime | None = None
    ends_at: datetime | None = None
    days_of_week: tuple[int, ...] | None = None
    hours_from: int = Field(0, ge=0, le=23)
    hours_to: int = Field(24, ge=1, le=24)


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    CAMPAIGN = "campaign"


class Limit(_Strict):
    """At most ``maxAwards`` awards and/or ``maxPoints`` points per member and period."""

    period: Period
    max_awards: int | None = Field(None, ge=1)
    max_points: int | None = Field(None, ge=1)


class EffectSpec(_Strict):
    kind: str
    params: dict[str, Any] = Field(default_factory=dict)


class Definition(_Strict):
    """A campaign version: trigger, condition, effects, window, priority, stacking, budget,
    limits. Stored as JSON in ``rule_campaign_versions.definition``."""

    trigger: str = Field(min_length=1, max_length=64)
    condition: str = ""
    effects: tuple[EffectSpec, ...]
    window: Window = Window()
    priority: int = Field(0, ge=-1000, le=1000)
    stacking: Stacking = Stacking.STACK
    budget: int | None = Field(None, ge=0)
    limits: tuple[Limit, ...] = ()
    segments: tuple[str, ...] = ()
    """Target segments by name: only their members qualify (any of them); empty: everyone."""
    inactive_days: int | None = Field(None, ge=1, le=3650)
    """For ``schedule.inactivity``: days without any event."""
    on_date: date | None = None
    """For ``schedule.date``: the day (tenant's time zone) every active member is rewarded."""
    pending_days: int | None = Field(None, ge=0, le=365)
    """Days the points stay pending (released by the job); None: the asset's own."""
    pause_after_failures: int | None = Field(None, ge=1, le=10_000)
    """Consecutive failures (see ``rules.health``) after which the campaign pauses itself;
    None: :data:`DEFAULT_PAUSE_AFTER`."""

    @property
    def pause_after(self) -> int:
        return self.pause_after_failures or DEFAULT_PAUSE_AFTER

    @field_validator("effects")
    @classmethod
    def _some_effect(cls, value: tuple[EffectSpec, ...]) -> tuple[EffectSpec, ...]:
        if not 1 <= len(value) <= 10:
            raise ValueError("give 1 to 10 effects")
        return value


@dataclass(frozen=True)
class Effect:
    """An effect ready to run: its kind, validated parameters, and the module's declaration
    when a module contributed it."""

    kind: str
    params: BaseModel
    module: RuleEffect | None = None
    module_name: str | None = None


def parse(data: Mapping[str, Any]) -> Definition:
    """A definition from its JSON form, or ValidationFailed naming the field at fault."""
    try:
        definition = Definition.model_validate(dict(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(_camel(str(p)) for p in first["loc"])
        raise ValidationFailed(f"{where}: {first['msg']}", field=where) from exc
    _check_window(definition.window)
    if definition.trigger == INACTIVITY and definition.inactive_days is None:
        raise ValidationFailed(
            "inactiveDays: required by schedule.inactivity", field="inactiveDays"
        )
    if definition.trigger == FIXED_DATE and definition.on_date is None:
        raise ValidationFailed("onDate: required by schedule.date", field="onDate")
    return definition


def resolve_effects(
    definition: Definition, module_effects: Mapping[str, tuple[str, RuleEffect]]
) -> list[Effect]:
    """The effects of ``definition`` with parameters validated; ``module_effects`` maps
    ``<module>.<effect>`` to the enabled module's declaration."""
    resolved: list[Effect] = []
    for index, spec in enumerate(definition.effects):
        where = f"effects.{index}"
        if spec.kind in BUILTIN_EFFECTS:
            model, module, module_name = BUILTIN_EFFECTS[spec.kind], None, None
        elif spec.kind in module_effects:
            module_name, module = module_effects[spec.kind]
            model = module.params_model
        else:
            raise LoyaltyError(
                f"{where}.kind: unknown effect {spec.kind!r}",
                code=ErrorCode.UNKNOWN_EFFECT,
                field=f"{where}.kind",
            )
        params = validated_params(model, spec.params, field=f"{where}.params")
        resolved.append(Effect(spec.kind, params, module, module_name))
    return resolved


def validated_params(model: type[ModelT], params: object, *, field: str) -> ModelT:
    """``params`` as an effect's model reads them, or ``INVALID_INPUT`` naming the first
    wrong one under ``field`` (``effects.0.params.points``)."""
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        named = f"{field}.{where}".rstrip(".")
        raise ValidationFailed(f"{named}: {first['msg']}", field=named) from exc


def _check_window(window: Window) -> None:
    if window.starts_at is not None and window.starts_at.tzinfo is None:
        raise ValidationFailed("window.startsAt needs a time zone", field="window.startsAt")
    if window.ends_at is not None and window.ends_at.tzinfo is None:
        raise ValidationFailed("window.endsAt needs a time zone", field="window.endsAt")
    if window.starts_at and window.ends_at and window.starts_at >= window.ends_at:
        raise ValidationFailed("window: endsAt must be after startsAt", field="window.endsAt")
    if window.days_of_week is not None:
        if not window.days_of_week:
            raise ValidationFailed("window.daysOfWeek: empty window", field="window.daysOfWeek")
        if any(not 1 <= day <= 7 for day in window.days_of_week):
            raise ValidationFailed(
                "window.daysOfWeek: 1 (Monday) to 7 (Sunday)", field="window.daysOfWeek"
            )
    if window.hours_from >= window.hours_to:
        raise ValidationFailed("window: hoursTo must be after hoursFrom", field="window.hoursTo")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


__all__ = [
    "ANNIVERSARY",
    "BIRTHDAY",
    "BUILTIN_EFFECTS",
    "DEFAULT_PAUSE_AFTER",
    "FIXED_DATE",
    "INACTIVITY",
    "MAX_AWARD",
    "ROUNDING",
    "SCHEDULES",
    "AssetAward",
    "Definition",
    "Effect",
    "EffectSpec",
    "FixedPoints",
    "Limit",
    "Multiplier",
    "Period",
    "PointsPerUnit",
    "Stacking",
    "Window",
    "parse",
    "resolve_effects",
]
