"""Badge definitions: create, change, archive, each checked before anything is saved.

A definition is refused with a code naming the field: an event type the tenant does not have
(``UNKNOWN_EVENT_TYPE``), a condition that does not compile or names a field such events
lack (``INVALID_CONDITION``, with line and column), a target, cap or reward that is not
positive, a window that ends before it starts, a reward asset that does not exist
(``INVALID_INPUT``). Every accepted change raises the tenant's catalogue version in the same
transaction, so the ingest path picks it up at the next event.

Changing a live badge does not rewrite history: progress counted so far stays, and events
count by the new definition from the change on.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from loyalty_core.sdk import (
    EventTypeSpec,
    NotFound,
    ValidationFailed,
    conditions,
    ledger,
)
from loyalty_core.sdk.effects import ModuleEffects
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_gamification import health
from loyalty_gamification import repository as repo
from loyalty_gamification.catalogue import live
from loyalty_gamification.models import Award, Badge, Measure, Period, Status
from loyalty_gamification.rewards import normalised
from loyalty_gamification.tables import badges

MAX_NAME = 200
MAX_DESCRIPTION = 2000


@dataclass(frozen=True)
class BadgeSpec:
    """What a retailer defines; see the GraphQL input for what each field means."""

    name: str
    event_type: str
    target: int
    measure: Measure = Measure.COUNT
    sum_field: str | None = None
    condition: str = ""
    period: Period = Period.ALL_TIME
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    repeatable: bool = False
    secret: bool = False
    revoke_on_refund: bool = False
    daily_cap: int | None = None
    reward_points: int = 0
    reward_asset: str = ledger.DEFAULT_ASSET_CODE
    reward_effect: Mapping[str, Any] | None = None
    description: str = ""
    status: Status = Status.ACTIVE

    @classmethod
    def of(cls, badge: Badge) -> BadgeSpec:
        return cls(
            name=badge.name,
            event_type=badge.event_type,
            target=badge.target,
            measure=badge.measure,
            sum_field=badge.sum_field,
            condition=badge.condition,
            period=badge.period,
            starts_at=badge.starts_at,
            ends_at=badge.ends_at,
            repeatable=badge.repeatable,
            secret=badge.secret,
            revoke_on_refund=badge.revoke_on_refund,
            daily_cap=badge.daily_cap,
            reward_points=badge.reward_points,
            reward_asset=badge.reward_asset,
            reward_effect=badge.reward_effect,
            description=badge.description,
            status=badge.status,
        )


async def create(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    spec: BadgeSpec,
    module_types: Mapping[str, EventTypeSpec],
    *,
    now: datetime,
    effects: ModuleEffects | None = None,
) -> Badge:
    """Save a new badge, live from the next event on. ``effects``: the rule effects of the
    tenant's enabled modules, which a badge may reward with (:func:`rewards.effects_of`)."""
    spec = _with_effect(spec, effects or {})
    health.status_change(Status.ACTIVE, spec.status)
    await _check(conn, tenant_id, spec, module_types)
    row = await repo.insert_definition(conn, badges, tenant_id, _values(spec), now)
    return Badge.of(row)


async def update(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    badge_id: uuid.UUID,
    changes: Mapping[str, Any],
    module_types: Mapping[str, EventTypeSpec],
    *,
    now: datetime,
    effects: ModuleEffects | None = None,
) -> Badge:
    """Change a badge (the fields in ``changes``, by :class:`BadgeSpec` name), checked as a
    whole as a new one is. Archiving it (``status``) stops it counting; ``ACTIVE`` resumes
    a badge that paused itself (see ``health``)."""
    row = await repo.lock_definition(conn, badges, tenant_id, badge_id)
    if row is None:
        raise NotFound("no such badge", field="id")
    current = Badge.of(row)
    spec = replace(BadgeSpec.of(current), **changes)
    if "reward_effect" in changes:
        spec = _with_effect(spec, effects or {})
    resumed = health.status_change(current.status, spec.status)
    await _check(conn, tenant_id, spec, module_types)
    values = {**_values(spec), **resumed}
    updated = await repo.update_definition(conn, badges, tenant_id, badge_id, values, now)
    return Badge.of(updated)


async def _check(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    spec: BadgeSpec,
    module_types: Mapping[str, EventTypeSpec],
) -> None:
    if not 1 <= len(spec.name.strip()) <= MAX_NAME:
        raise ValidationFailed(f"a name has 1 to {MAX_NAME} characters", field="name")
    if len(spec.description) > MAX_DESCRIPTION:
        raise ValidationFailed(
            f"a description has at most {MAX_DESCRIPTION} characters", field="description"
        )
    if spec.target <= 0:
        raise ValidationFailed("the target must be positive", field="target")
    if spec.daily_cap is not None and spec.daily_cap <= 0:
        raise ValidationFailed("a daily cap must be positive", field="dailyCap")
    if spec.reward_points < 0:
        raise ValidationFailed("a reward cannot be negative", field="rewardPoints")
    _check_period(spec)
    await conditions.check(conn, tenant_id, spec.event_type, spec.condition, module_types)
    if spec.measure is Measure.SUM:
        if not spec.sum_field:
            raise ValidationFailed("a sum needs the field it sums", field="sumField")
        path = spec.sum_field
        await conditions.check(
            conn, tenant_id, spec.event_type, f"event.{path} > 0", module_types, field="sumField"
        )
    elif spec.sum_field is not None:
        raise ValidationFailed("only a sum has a field to sum", field="sumField")
    if spec.reward_points and await ledger.get_asset(conn, tenant_id, spec.reward_asset) is None:
        raise ValidationFailed(f"no asset {spec.reward_asset!r}", field="rewardAsset")


def _with_effect(spec: BadgeSpec, effects: ModuleEffects) -> BadgeSpec:
    """The spec with its reward effect validated (:func:`rewards.normalised`)."""
    return replace(spec, reward_effect=normalised(spec.reward_effect, effects))


def _check_period(spec: BadgeSpec) -> None:
    if spec.period is Period.WINDOW:
        if spec.starts_at is None or spec.ends_at is None:
            raise ValidationFailed("a window needs startsAt and endsAt", field="startsAt")
        if spec.starts_at >= spec.ends_at:
            raise ValidationFailed("a window ends after it starts", field="endsAt")
    elif spec.starts_at is not None or spec.ends_at is not None:
        raise ValidationFailed("only a window has startsAt and endsAt", field="startsAt")


def _values(spec: BadgeSpec) -> dict[str, Any]:
    return {
        "name": spec.name.strip(),
        "description": spec.description,
        "event_type": spec.event_type,
        "condition": spec.condition,
        "measure": spec.measure.value,
        "sum_field": spec.sum_field,
        "target": spec.target,
        "period": spec.period.value,
        "starts_at": spec.starts_at,
        "ends_at": spec.ends_at,
        "repeatable": spec.repeatable,
        "secret": spec.secret,
        "revoke_on_refund": spec.revoke_on_refund,
        "daily_cap": spec.daily_cap,
        "reward_points": spec.reward_points,
        "reward_asset": spec.reward_asset,
        "reward_effect": None if spec.reward_effect is None else dict(spec.reward_effect),
        "status": spec.status.value,
    }


@dataclass(frozen=True)
class MemberBadge:
    """A live badge as a member sees it: progress in the current period, and every
    completion (held or revoked) in any period."""

    badge: Badge
    period_key: str | None
    value: int
    earned: int
    awards: tuple[Award, ...]


async def member_badges(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_ids: list[uuid.UUID],
    *,
    now: datetime,
    zone: ZoneInfo,
    with_secret: bool,
) -> list[list[MemberBadge]]:
    """Per member (in order), every live badge with its progress now; a secret badge only
    once the member earned it, unless ``with_secret`` (a tenant admin looking)."""
    catalogue = await live(conn, tenant_id)
    progress: dict[tuple[uuid.UUID, uuid.UUID, str], Any] = {
        (row.member_id, row.badge_id, row.period_key): row
        for row in await repo.member_progress(conn, tenant_id, member_ids)
    }
    awards: dict[tuple[uuid.UUID, uuid.UUID], list[Award]] = {}
    for row in await repo.member_awards(conn, tenant_id, member_ids):
        awards.setdefault((row.member_id, row.badge_id), []).append(Award.of(row))
    found: list[list[MemberBadge]] = []
    for member_id in member_ids:
        mine: list[MemberBadge] = []
        for badge in sorted(catalogue.by_id.values(), key=lambda b: b.id):
            held = tuple(awards.get((member_id, badge.id), ()))
            if badge.secret and not with_secret and not held:
                continue
            key = badge.period_key(now, zone)
            current = None if key is None else progress.get((member_id, badge.id, key))
            value, earned = (0, 0) if current is None else (current.value, current.earned)
            mine.append(MemberBadge(badge, key, value, earned, held))
        found.append(mine)
    return found


__all__ = ["BadgeSpec", "MemberBadge", "create", "member_badges", "update"]
