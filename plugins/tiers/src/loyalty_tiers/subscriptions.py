"""Membership plans and members' subscriptions in the database (the rules are in
``memberships``).

A provider's event is stored once (``INSERT ... ON CONFLICT DO NOTHING`` on its id: a
replay, even two at once, stores nothing and changes nothing), then the member's
membership row is locked and recomputed from all the member's events in the order they
happened, so two events of one member arriving at once, or in the wrong order, leave the
state their times say.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loyalty_core.sdk import ErrorCode, LoyaltyError, NotFound, aware_datetime, members, new_id
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_tiers.memberships import (
    Event,
    Kind,
    Period,
    Plan,
    State,
    check_plan,
    fold,
    gives,
    state_at,
)
from loyalty_tiers.tables import membership_events, memberships, plans, webhooks


@dataclass(frozen=True)
class Membership:
    """A member's membership as the member sees it at a moment."""

    plan: Plan
    state: State
    started_at: datetime
    period_end: datetime | None
    grace_until: datetime | None
    level: str | None
    """What it gives now: the plan's level (none once ended)."""
    benefits: tuple[str, ...]


async def create_plan(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    code: str,
    name: str,
    price: int,
    currency: str,
    period: Period,
    trial_days: int,
    level: str | None,
    benefits: Sequence[str],
    levels: Sequence[str],
) -> Plan:
    check_plan(
        code=code,
        name=name,
        price=price,
        currency=currency,
        trial_days=trial_days,
        level=level,
        benefits=benefits,
        levels=levels,
    )
    plan_id = new_id()
    try:
        async with conn.begin_nested():
            await conn.execute(
                plans.insert().values(
                    tenant_id=tenant_id,
                    id=plan_id,
                    code=code,
                    name=name.strip(),
                    price=price,
                    currency=currency,
                    period=period.value,
                    trial_days=trial_days,
                    level=level,
                    benefits=[b.strip() for b in benefits],
                )
            )
    except IntegrityError as error:
        raise LoyaltyError(
            f"a plan is already coded {code!r}", code=ErrorCode.ALREADY_EXISTS, field="code"
        ) from error
    found = await list_plans(conn, tenant_id)
    return next(plan for plan in found if plan.id == plan_id)


async def list_plans(conn: AsyncConnection, tenant_id: uuid.UUID) -> list[Plan]:
    rows = await conn.execute(
        select(plans).where(plans.c.tenant_id == tenant_id).order_by(plans.c.code)
    )
    return [_plan(row) for row in rows]


def _plan(row: Any) -> Plan:
    return Plan(
        id=row.id,
        code=row.code,
        name=row.name,
        price=int(row.price),
        currency=row.currency,
        period=Period(row.period),
        trial_days=int(row.trial_days),
        level=row.level,
        benefits=tuple(row.benefits),
    )


# -- the provider's events ---------------------------------------------------------------


async def webhook_config(conn: AsyncConnection, tenant_id: uuid.UUID) -> Any:
    """The tenant's webhook secret (None: no webhook) and grace days; None before the
    module was enabled."""
    return (await conn.execute(select(webhooks).where(webhooks.c.tenant_id == tenant_id))).first()


async def save_webhook_config(
    conn: AsyncConnection, tenant_id: uuid.UUID, secret: str | None, grace_days: int
) -> None:
    statement = pg_insert(webhooks).values(
        tenant_id=tenant_id, secret=secret, grace_days=grace_days
    )
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=[webhooks.c.tenant_id],
            set_={"secret": statement.excluded.secret, "grace_days": grace_days},
        )
    )


@dataclass(frozen=True)
class Received:
    """What a provider's event did: ``replayed`` when its id was known already."""

    replayed: bool
    state: State | None


async def receive(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    provider_event_id: str,
    member_id: uuid.UUID,
    event: Event,
    grace_days: int,
) -> Received:
    """Store the provider's event once and recompute the member's membership."""
    await members.get_member(conn, tenant_id, member_id)
    known = {plan.code: plan for plan in await list_plans(conn, tenant_id)}
    if event.plan_code not in known:
        raise NotFound(f"no plan coded {event.plan_code!r}", field="plan")
    stored = await conn.execute(
        pg_insert(membership_events)
        .values(
            tenant_id=tenant_id,
            id=new_id(),
            provider_event_id=provider_event_id,
            member_id=member_id,
            kind=event.kind.value,
            plan_code=event.plan_code,
            subscription=event.subscription,
            occurred_at=event.occurred_at,
            period_end=event.period_end,
        )
        .on_conflict_do_nothing()
        .returning(membership_events.c.id)
    )
    if stored.first() is None:
        return Received(replayed=True, state=None)
    # The member's lock, also before the first event made a row: the next statements see
    # every event another transaction committed for the member before it let go.
    key = func.hashtextextended(f"tiers.membership:{tenant_id}:{member_id}", 0)
    await conn.execute(select(func.pg_advisory_xact_lock(key)))
    history = await _events_of(conn, tenant_id, member_id)
    found = fold(history, known, grace_days)
    if found is None:
        return Received(replayed=False, state=None)
    values = {
        "plan_id": known[found.plan_code].id,
        "state": found.state.value,
        "subscription": found.subscription,
        "started_at": found.started_at,
        "period_end": found.period_end,
        "grace_until": found.grace_until,
        "last_event_at": found.last_event_at,
    }
    insert = pg_insert(memberships).values(tenant_id=tenant_id, member_id=member_id, **values)
    await conn.execute(
        insert.on_conflict_do_update(
            index_elements=[memberships.c.tenant_id, memberships.c.member_id],
            set_={**values, "updated_at": func.now()},
        )
    )
    return Received(replayed=False, state=found.state)


async def _events_of(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_id: uuid.UUID
) -> list[Event]:
    rows = await conn.execute(
        select(membership_events)
        .where(
            membership_events.c.tenant_id == tenant_id,
            membership_events.c.member_id == member_id,
        )
        .order_by(membership_events.c.occurred_at, membership_events.c.provider_event_id)
    )
    return [
        Event(
            kind=Kind(row.kind),
            occurred_at=row.occurred_at,
            plan_code=row.plan_code,
            subscription=row.subscription,
            period_end=row.period_end,
        )
        for row in rows
    ]


SUBSCRIPTION_EVENT = "tiers.subscription"
"""The event type a touchpoint (or the retailer's backend) ingests instead of the webhook."""
SUBSCRIPTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"enum": [kind.value for kind in Kind]},
        "plan": {"type": "string", "minLength": 1, "maxLength": 40},
        "subscription": {"type": "string", "minLength": 1, "maxLength": 200},
        "periodEnd": {"type": "string", "format": "date-time"},
    },
    "required": ["type", "plan", "subscription"],
    "additionalProperties": False,
}


def ingested_event(payload: dict[str, Any], occurred_at: datetime) -> Event:
    """A ``tiers.subscription`` event's payload (validated by its schema) as an event of the
    subscription, at the time the event happened."""
    period_end = payload.get("periodEnd")
    return Event(
        kind=Kind(payload["type"]),
        occurred_at=occurred_at,
        plan_code=str(payload["plan"]),
        subscription=str(payload["subscription"]),
        period_end=None if period_end is None else aware_datetime(period_end, "periodEnd"),
    )


async def membership_of(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_id: uuid.UUID, now: datetime
) -> Membership | None:
    row = (
        await conn.execute(
            select(memberships).where(
                memberships.c.tenant_id == tenant_id, memberships.c.member_id == member_id
            )
        )
    ).first()
    if row is None:
        return None
    config = await webhook_config(conn, tenant_id)
    grace_days = 0 if config is None else int(config.grace_days)
    state = state_at(State(row.state), row.period_end, row.grace_until, grace_days, now)
    plan = next(p for p in await list_plans(conn, tenant_id) if p.id == row.plan_id)
    giving = gives(state)
    return Membership(
        plan=plan,
        state=state,
        started_at=row.started_at,
        period_end=row.period_end,
        grace_until=row.grace_until,
        level=plan.level if giving else None,
        benefits=plan.benefits if giving else (),
    )


__all__ = [
    "SUBSCRIPTION_EVENT",
    "SUBSCRIPTION_SCHEMA",
    "Membership",
    "Received",
    "create_plan",
    "ingested_event",
    "list_plans",
    "membership_of",
    "receive",
    "save_webhook_config",
    "webhook_config",
]
