"""Read-only views for admins and members: funnel figures, the review queue, recorded
messages, a member's cards."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_onboarding.enrolment import enrolment_of
from loyalty_onboarding.issuing import card_of
from loyalty_onboarding.models import Card, Enrolment, Review
from loyalty_onboarding.tables import cards, enrolments, messages


@dataclass(frozen=True)
class Funnel:
    """How far the enrolments of one channel got: each figure counts enrolments that
    reached the step, so ``started >= verified >= completed >= first_purchase``."""

    channel: str
    started: int
    verified: int
    completed: int
    first_purchase: int


@dataclass(frozen=True)
class SentMessage:
    id: uuid.UUID
    enrolment_id: uuid.UUID | None
    medium: str
    recipient: str
    subject: str
    body: str
    created_at: datetime
    member_id: uuid.UUID | None = None


async def funnel(
    conn: AsyncConnection, tenant_id: uuid.UUID, *, since: datetime | None = None
) -> list[Funnel]:
    query = (
        select(
            enrolments.c.channel,
            func.count().label("started"),
            func.count(enrolments.c.verified_at).label("verified"),
            func.count(enrolments.c.completed_at).label("completed"),
            func.count(enrolments.c.first_purchase_at).label("first_purchase"),
        )
        .where(enrolments.c.tenant_id == tenant_id)
        .group_by(enrolments.c.channel)
        .order_by(enrolments.c.channel)
    )
    if since is not None:
        query = query.where(enrolments.c.created_at >= since)
    rows = await conn.execute(query)
    return [
        Funnel(row.channel, row.started, row.verified, row.completed, row.first_purchase)
        for row in rows
    ]


async def review_queue(conn: AsyncConnection, tenant_id: uuid.UUID, limit: int) -> list[Enrolment]:
    """Enrolments waiting for an admin's decision, oldest first."""
    rows = await conn.execute(
        select(enrolments)
        .where(enrolments.c.tenant_id == tenant_id, enrolments.c.review == Review.PENDING.value)
        .order_by(enrolments.c.id)
        .limit(limit)
    )
    return [enrolment_of(row) for row in rows]


async def sent_messages(
    conn: AsyncConnection, tenant_id: uuid.UUID, limit: int
) -> list[SentMessage]:
    """Messages the development sender recorded, newest first."""
    rows = await conn.execute(
        select(messages)
        .where(messages.c.tenant_id == tenant_id)
        .order_by(messages.c.id.desc())
        .limit(limit)
    )
    return [
        SentMessage(
            row.id,
            row.enrolment_id,
            row.medium,
            row.recipient,
            row.subject,
            row.body,
            row.created_at,
            row.member_id,
        )
        for row in rows
    ]


async def member_cards(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_id: uuid.UUID
) -> list[Card]:
    rows = await conn.execute(
        select(cards)
        .where(cards.c.tenant_id == tenant_id, cards.c.member_id == member_id)
        .order_by(cards.c.id)
    )
    return [card_of(row) for row in rows]


__all__ = ["Funnel", "SentMessage", "funnel", "member_cards", "review_queue", "sent_messages"]
