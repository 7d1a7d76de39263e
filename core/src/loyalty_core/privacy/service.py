"""Serving a privacy request: the core and every installed module, in one transaction.

Every installed module takes part, not only those the tenant enabled now: a tenant that
disabled a module still keeps that module's rows about the member. Modules run in name order
(the core last for erasure, so a module may still read the member while it erases its own
rows); no module's result depends on another's.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.db.engine import Database
from loyalty_core.errors import NotFound
from loyalty_core.members import repository as members
from loyalty_core.members.models import MemberStatus
from loyalty_core.modules.contributions import DomainEvent, MemberData, MemberDataContext
from loyalty_core.modules.dispatch import DomainEvents
from loyalty_core.modules.manager import CORE_MODULE, ModuleRegistry
from loyalty_core.modules.topics import MemberErased

EXPORT_FORMAT = "loyalty-member-export/1"


async def export_member(registry: ModuleRegistry, context: MemberDataContext) -> dict[str, Any]:
    """All of a member's data, by module, as a JSON object (ids and times as strings)."""
    await _require_member(context, lock=False)
    data: dict[str, Any] = {}
    for name, member_data in _participants(registry):
        data[name] = await member_data.export(context)
    document = {
        "format": EXPORT_FORMAT,
        "tenantId": context.tenant_id,
        "memberId": context.member_id,
        "exportedAt": context.now,
        "modules": data,
    }
    result: dict[str, Any] = orjson.loads(
        orjson.dumps(document, default=str, option=orjson.OPT_NON_STR_KEYS)
    )
    return result


async def erase_member(
    registry: ModuleRegistry,
    events: DomainEvents,
    context: MemberDataContext,
) -> dict[str, int] | None:
    """Erase the member's personal data in every module, then the core's; publish
    ``member.erased`` so after-commit handlers can tell systems outside. None when the
    member was erased already: a repeated erasure is a replay, which writes nothing (no
    second event, no second audit line)."""
    if await _require_member(context) is MemberStatus.ERASED:
        return None
    changed: dict[str, int] = {}
    participants = _participants(registry)
    ordered = [p for p in participants if p[0] != CORE_MODULE] + [
        p for p in participants if p[0] == CORE_MODULE
    ]
    for name, member_data in ordered:
        changed[name] = await member_data.erase(context)
    await events.publish(
        context.conn,
        DomainEvent.of(context.tenant_id, MemberErased(member_id=context.member_id)),
    )
    return changed


def member_data_context(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    now: datetime,
    actor: str,
    database: Database | None = None,
    registry: ModuleRegistry | None = None,
    enabled_modules: Mapping[str, BaseModel] | None = None,
) -> MemberDataContext:
    return MemberDataContext(
        conn=conn,
        tenant_id=tenant_id,
        member_id=member_id,
        now=now,
        actor=actor,
        database=database,
        registry=registry,
        enabled_modules=enabled_modules or {},
    )


def _participants(registry: ModuleRegistry) -> list[tuple[str, MemberData]]:
    return [
        (name, module.member_data)
        for name, module in sorted(registry.modules.items())
        if module.member_data is not None
    ]


async def _require_member(context: MemberDataContext, *, lock: bool = True) -> MemberStatus:
    """The member's status; erasure locks the row so two erasures run one after the other."""
    find = members.get_for_update if lock else members.get
    member = await find(context.conn, context.tenant_id, context.member_id)
    if member is None:
        raise NotFound("member not found", field="memberId")
    return member.status


__all__ = ["EXPORT_FORMAT", "erase_member", "export_member", "member_data_context"]
