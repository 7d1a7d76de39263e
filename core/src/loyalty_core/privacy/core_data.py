"""The core's own part of a privacy request: the member, its identifiers, balances, ledger
entries and events (export), and the member's personal data (erasure).

Erasure keeps the ledger whole: entries and transactions are history and carry no personal
data (actors are ids, reasons are the programme's words), so they stay; what is left of the
member's points is forfeited to breakage by balanced transactions, so the sum per asset stays
zero and every tenant total is unchanged. Events stay too, tied to an id that no longer names
anybody; their payloads are the touchpoint's business data (baskets, amounts), which is why
the API guide asks touchpoints to keep personal data out of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from sqlalchemy import delete, select, text, update

from loyalty_core.audit.service import record
from loyalty_core.events.tables import events
from loyalty_core.ledger import service as ledger
from loyalty_core.ledger.queries import member_ledger
from loyalty_core.ledger.tables import (
    ledger_lots,
)
from loyalty_core.members.models import MemberStatus
from loyalty_core.members.tables import member_identifiers, members
from loyalty_core.modules.contributions import MemberData, MemberDataContext

_TENANT_CHANGED = text("SELECT pg_notify('loyalty_tenant_changed', :tenant)")
"""The channel of migration 0006: delivered at commit, so a rolled-back erasure says nothing."""


async def export_core(ctx: MemberDataContext) -> Mapping[str, Any]:
    """Everything the core keeps about the member, as plain JSON values."""
    conn, tenant_id, member_id = ctx.conn, ctx.tenant_id, ctx.member_id
    member = (
        (
            await conn.execute(
                select(members).where(members.c.tenant_id == tenant_id, members.c.id == member_id)
            )
        )
        .mappings()
        .one()
    )
    identifiers = await conn.execute(
        select(
            member_identifiers.c.kind, member_identifiers.c.value, member_identifiers.c.created_at
        )
        .where(
            member_identifiers.c.tenant_id == tenant_id,
            member_identifiers.c.member_id == member_id,
        )
        .order_by(member_identifiers.c.id)
    )
    return {
        "member": {k: v for k, v in member.items() if k != "tenant_id"},
        "identifiers": [dict(row._mapping) for row in identifiers],
        "balances": [
            {"asset": b.asset.code, "available": b.available, "pending": b.pending, "held": b.held}
            for b in await ledger.balances(conn, tenant_id, member_id)
        ],
        "ledgerEntries": await _ledger_entries(ctx),
        "events": await _events(ctx),
    }


async def erase_core(ctx: MemberDataContext) -> int:
    """Forfeit the member's points, then remove its profile, attributes and identifiers."""
    conn, tenant_id, member_id = ctx.conn, ctx.tenant_id, ctx.member_id
    lots = await conn.execute(
        select(ledger_lots.c.id)
        .where(
            ledger_lots.c.tenant_id == tenant_id,
            ledger_lots.c.member_id == member_id,
            ledger_lots.c.remaining > 0,
        )
        .order_by(ledger_lots.c.id)
    )
    forfeited = 0
    for (lot_id,) in lots.all():
        if await ledger.forfeit_lot(conn, tenant_id, lot_id, now=ctx.now) is not None:
            forfeited += 1
    removed = await conn.execute(
        delete(member_identifiers).where(
            member_identifiers.c.tenant_id == tenant_id,
            member_identifiers.c.member_id == member_id,
        )
    )
    await conn.execute(
        update(members)
        .where(members.c.tenant_id == tenant_id, members.c.id == member_id)
        .values(
            profile=text("'{}'::jsonb"),
            attributes=text("'{}'::jsonb"),
            status=MemberStatus.ERASED.value,
            updated_at=ctx.now,
        )
    )
    # Gateways cache which members' tokens may act; the erased one's must stop at once.
    await conn.execute(_TENANT_CHANGED, {"tenant": str(tenant_id)})
    await record(
        conn,
        tenant_id,
        actor=ctx.actor,
        action="member.erase",
        target=f"member:{member_id}",
        data={"forfeitedLots": forfeited},
    )
    return 1 + removed.rowcount + forfeited


async def _ledger_entries(ctx: MemberDataContext) -> list[dict[str, Any]]:
    """Every entry on the member's accounts, oldest first, with its reason and cause: the
    same lines the member's ledger shows, all of them."""
    lines = await member_ledger(ctx.conn, ctx.tenant_id, ctx.member_id, after=None, limit=None)
    return [asdict(line) for line in reversed(lines)]


async def _events(ctx: MemberDataContext) -> list[dict[str, Any]]:
    rows = await ctx.conn.execute(
        select(
            events.c.id,
            events.c.type,
            events.c.source,
            events.c.external_id,
            events.c.occurred_at,
            events.c.amount,
            events.c.currency,
            events.c.payload,
        )
        .where(events.c.tenant_id == ctx.tenant_id, events.c.member_id == ctx.member_id)
        .order_by(events.c.id)
    )
    return [dict(row._mapping) for row in rows]


CORE_MEMBER_DATA = MemberData(export=export_core, erase=erase_core)

__all__ = ["CORE_MEMBER_DATA", "erase_core", "export_core"]
