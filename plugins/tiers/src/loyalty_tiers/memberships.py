"""Paid memberships: plans, and the state a member's subscription is in.

The money is taken by the retailer's payment provider, never by us: the provider tells us
what happened (``started``, ``renewed``, ``payment_failed``, ``cancelled``, ``ended``)
through a signed webhook (``routes``). Events may arrive late, twice or out of order, so the
state is never updated in place from the latest request: every event is stored once (its
provider id is unique) and the state is the fold of all the member's events in the order
they happened (:func:`fold`), recomputed under the membership row's lock. A replay changes
nothing, and an event that arrives after a later one lands where it belongs.

States: ``trialing`` (a plan with trial days, until the trial ends), ``active``,
``past_due`` (a payment failed; the membership still gives what it gives for the tenant's
grace days), ``cancelled`` (runs until the period paid for ends), ``ended``. A lapse needs
no event: a past-due membership whose grace ran out, a cancelled one whose period ended,
or an active one not renewed within the grace after its period, reads ``ended``
(:func:`state_at`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from loyalty_core.sdk import NotFound, ValidationFailed

PERIOD_DAYS = {"month": 30, "year": 365}
MAX_TRIAL_DAYS = 365


class Period(StrEnum):
    MONTH = "month"
    YEAR = "year"


class State(StrEnum):
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELLED = "cancelled"
    ENDED = "ended"


class Kind(StrEnum):
    STARTED = "started"
    RENEWED = "renewed"
    PAYMENT_FAILED = "payment_failed"
    CANCELLED = "cancelled"
    ENDED = "ended"


@dataclass(frozen=True)
class Plan:
    id: uuid.UUID
    code: str
    name: str
    price: int
    currency: str
    period: Period
    trial_days: int
    level: str | None
    benefits: tuple[str, ...]


@dataclass(frozen=True)
class Event:
    kind: Kind
    occurred_at: datetime
    plan_code: str
    subscription: str
    period_end: datetime | None


@dataclass(frozen=True)
class Subscription:
    """What the events say, in their order."""

    state: State
    plan_code: str
    subscription: str
    started_at: datetime
    period_end: datetime | None
    grace_until: datetime | None
    last_event_at: datetime


def fold(events: Sequence[Event], plans: dict[str, Plan], grace_days: int) -> Subscription | None:
    """The subscription after ``events`` (sorted by when they happened); None before a
    start. Events before the first start are kept but change nothing."""
    found: Subscription | None = None
    for event in events:
        plan = plans.get(event.plan_code)
        if event.kind is Kind.STARTED and plan is not None:
            trial = plan.trial_days > 0 and found is None
            end = event.period_end or event.occurred_at + timedelta(
                days=plan.trial_days if trial else PERIOD_DAYS[plan.period]
            )
            found = Subscription(
                state=State.TRIALING if trial else State.ACTIVE,
                plan_code=plan.code,
                subscription=event.subscription,
                started_at=event.occurred_at,
                period_end=end,
                grace_until=None,
                last_event_at=event.occurred_at,
            )
        elif found is None:
            continue
        elif event.kind is Kind.RENEWED:
            period = PERIOD_DAYS[plans[found.plan_code].period] if found.plan_code in plans else 30
            base = found.period_end or event.occurred_at
            found = _with(
                found,
                event,
                state=State.ACTIVE,
                period_end=event.period_end or base + timedelta(days=period),
                grace_until=None,
            )
        elif event.kind is Kind.PAYMENT_FAILED:
            grace = event.occurred_at + timedelta(days=grace_days)
            found = _with(found, event, state=State.PAST_DUE, grace_until=grace)
        elif event.kind is Kind.CANCELLED:
            found = _with(found, event, state=State.CANCELLED, grace_until=None)
        else:
            found = _with(found, event, state=State.ENDED, grace_until=None)
    return found


def _with(found: Subscription, event: Event, **changes: Any) -> Subscription:
    values = {**found.__dict__, **changes, "last_event_at": event.occurred_at}
    return Subscription(**values)


def state_at(
    state: State,
    period_end: datetime | None,
    grace_until: datetime | None,
    grace_days: int,
    now: datetime,
) -> State:
    """The state at ``now``: lapses need no event (see the module docstring)."""
    if state is State.PAST_DUE and grace_until is not None and now >= grace_until:
        return State.ENDED
    if state is State.CANCELLED and period_end is not None and now >= period_end:
        return State.ENDED
    running = state in (State.TRIALING, State.ACTIVE) and period_end is not None
    if running and period_end is not None and now >= period_end + timedelta(days=grace_days):
        return State.ENDED
    return state


def gives(state: State) -> bool:
    """Whether a membership in ``state`` gives its level and benefits."""
    return state is not State.ENDED


def check_plan(
    *,
    code: str,
    name: str,
    price: int,
    currency: str,
    trial_days: int,
    level: str | None,
    benefits: Sequence[str],
    levels: Sequence[str],
) -> None:
    """Raise :class:`ValidationFailed` (or NOT_FOUND for a level) for a plan that is not one."""
    if not re.fullmatch(r"[a-z][a-z0-9_-]{0,39}", code):
        raise ValidationFailed(
            "code: a lowercase letter, then up to 39 of a-z 0-9 _ -", field="code"
        )
    if not 1 <= len(name.strip()) <= 200:
        raise ValidationFailed("name: 1 to 200 characters", field="name")
    if not 0 < price <= 10**9:
        raise ValidationFailed("price: more than 0, in minor units", field="price")
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValidationFailed("currency: an ISO 4217 code", field="currency")
    if not 0 <= trial_days <= MAX_TRIAL_DAYS:
        raise ValidationFailed(f"trialDays: 0 to {MAX_TRIAL_DAYS}", field="trialDays")
    if len(benefits) > 20 or any(not 1 <= len(b.strip()) <= 200 for b in benefits):
        raise ValidationFailed("benefits: up to 20 of 1 to 200 characters", field="benefits")
    if level is not None and level not in levels:
        raise NotFound(f"the ladder has no level {level!r}", field="level")


__all__ = [
    "Event",
    "Kind",
    "Period",
    "Plan",
    "State",
    "Subscription",
    "check_plan",
    "fold",
    "gives",
    "state_at",
]
