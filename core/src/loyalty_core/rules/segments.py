"""Segments: named groups of members defined by a CEL condition over the member.

Membership is computed on demand, from the member facts a trigger loads anyway (attributes,
counts, spend), with every segment's program compiled once and cached by the conditions LRU.
Nothing is stored per member, so membership can never be stale, and a backtest sees the
segments a member was in at each event: the same answer live evaluation gave.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.audit.service import record
from loyalty_core.db.prepared import Prepared
from loyalty_core.errors import ErrorCode, LoyaltyError, NotFound, ValidationFailed
from loyalty_core.ids import new_id
from loyalty_core.rules import conditions
from loyalty_core.rules.tables import rule_segments

NAME = re.compile(r"[a-z][a-z0-9_-]{0,63}")

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Segment:
    id: uuid.UUID
    name: str
    condition: str
    created_at: datetime
    updated_at: datetime


_SEGMENTS = Prepared(
    select(rule_segments)
    .where(rule_segments.c.tenant_id == bindparam("tenant_id"))
    .order_by(rule_segments.c.name)
)
"""Built once, run by asyncpg: every ingestion with campaigns reads the segments."""


async def list_segments(conn: AsyncConnection, tenant_id: uuid.UUID) -> list[Segment]:
    return [_segment(row) for row in await _SEGMENTS.all(conn, {"tenant_id": tenant_id})]


async def member_segments(
    conn: AsyncConnection, tenant_id: uuid.UUID, member: Mapping[str, Any], now: datetime
) -> list[str]:
    """Names of the segments whose condition holds for ``member`` (condition variables). A
    segment whose condition fails for this member (a division by zero...) does not hold it:
    a retailer's definition never stops an ingestion."""
    variables = {"member": member, "now": now}
    return [s.name for s in await list_segments(conn, tenant_id) if _holds(s, variables)]


def _holds(segment: Segment, variables: Mapping[str, Any]) -> bool:
    try:
        return conditions.evaluate(segment.condition, variables)
    except conditions.ConditionFailed as failure:
        _log.warning(
            "segment condition failed",
            extra={"segment": segment.name, "error": str(failure)[:500]},
        )
        return False


async def save(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    segment_id: uuid.UUID | None,
    *,
    name: str | None,
    condition: str | None,
    actor: str,
    facts: Iterable[str] = (),
) -> Segment:
    """Create (no id) or change a segment after checking its name and condition (which may
    read the member ``facts`` of the tenant's modules)."""
    if name is not None and not NAME.fullmatch(name):
        raise ValidationFailed(
            "name: a lowercase letter, then up to 63 of a-z 0-9 _ -", field="name"
        )
    if condition is not None:
        conditions.check_segment(condition, facts=facts)
    if segment_id is None:
        if name is None or condition is None:
            raise ValidationFailed("a segment needs a name and a condition", field="name")
        segment_id = new_id()
        statement: Any = insert(rule_segments).values(
            tenant_id=tenant_id, id=segment_id, name=name, condition=condition
        )
    else:
        values = {k: v for k, v in {"name": name, "condition": condition}.items() if v is not None}
        statement = (
            update(rule_segments)
            .where(rule_segments.c.tenant_id == tenant_id, rule_segments.c.id == segment_id)
            .values(**values, updated_at=func.now())
        )
    try:
        async with conn.begin_nested():
            await conn.execute(statement)
    except IntegrityError as exc:
        raise LoyaltyError(
            f"a segment is already named {name!r}", code=ErrorCode.ALREADY_EXISTS, field="name"
        ) from exc
    await record(
        conn, tenant_id, actor=actor, action="segment.save", target=f"segment:{segment_id}"
    )
    return await get(conn, tenant_id, segment_id)


async def remove(
    conn: AsyncConnection, tenant_id: uuid.UUID, segment_id: uuid.UUID, actor: str
) -> None:
    """Delete a segment: campaigns targeting it by name then reach nobody through it."""
    found = await conn.execute(
        delete(rule_segments)
        .where(rule_segments.c.tenant_id == tenant_id, rule_segments.c.id == segment_id)
        .returning(rule_segments.c.id)
    )
    if found.first() is None:
        raise NotFound("segment not found", field="id")
    await record(
        conn, tenant_id, actor=actor, action="segment.delete", target=f"segment:{segment_id}"
    )


async def get(conn: AsyncConnection, tenant_id: uuid.UUID, segment_id: uuid.UUID) -> Segment:
    row = (
        await conn.execute(
            select(rule_segments).where(
                rule_segments.c.tenant_id == tenant_id, rule_segments.c.id == segment_id
            )
        )
    ).first()
    if row is None:
        raise NotFound("segment not found", field="id")
    return _segment(row)


def _segment(row: Any) -> Segment:
    return Segment(row.id, row.name, row.condition, row.created_at, row.updated_at)


__all__ = ["Segment", "get", "list_segments", "member_segments", "remove", "save"]
