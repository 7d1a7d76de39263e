"""Tiers' part of privacy requests (``loyalty_member_data()``).

Export: the member's standing (levels, window, grace, override), the metric per month,
the events behind it, every change of level, and the paid membership with the provider's
events.

Erasure: levels, amounts and event ids are not personal; what an operator wrote about the
member is (an override's reason may name a complaint or a circumstance), and so is the
provider's subscription reference (it finds the person at the provider). So the override is
lifted, every reason an operator wrote is blanked and the subscription references with it;
the module's own reasons (metric figures, window dates) and the membership's states and
times stay, so the history still adds up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loyalty_core.sdk import MemberData, MemberDataContext
from sqlalchemy import select, update

from loyalty_tiers.service import MODULE_ACTOR
from loyalty_tiers.tables import (
    contributions,
    history,
    members,
    membership_events,
    memberships,
    metrics,
)

ERASED = "(erased)"


async def export_member(ctx: MemberDataContext) -> Mapping[str, Any]:
    def mine(table: Any) -> Any:
        return select(table).where(
            table.c.tenant_id == ctx.tenant_id, table.c.member_id == ctx.member_id
        )

    standing = (await ctx.conn.execute(mine(members))).first()
    return {
        "standing": None if standing is None else _plain(standing),
        "metric": [_plain(r) for r in await ctx.conn.execute(mine(metrics).order_by("month"))],
        "contributions": [
            _plain(r) for r in await ctx.conn.execute(mine(contributions).order_by("occurred_at"))
        ],
        "history": [_plain(r) for r in await ctx.conn.execute(mine(history).order_by("id"))],
        "membership": [_plain(r) for r in await ctx.conn.execute(mine(memberships))],
        "membershipEvents": [
            _plain(r)
            for r in await ctx.conn.execute(mine(membership_events).order_by("occurred_at"))
        ],
    }


def _plain(row: Any) -> dict[str, Any]:
    return {k: v for k, v in row._mapping.items() if k not in {"tenant_id", "member_id"}}


async def erase_member(ctx: MemberDataContext) -> int:
    lifted = await ctx.conn.execute(
        update(members)
        .where(
            members.c.tenant_id == ctx.tenant_id,
            members.c.member_id == ctx.member_id,
            members.c.override_level.is_not(None),
        )
        .values(
            override_level=None, override_reason=None, override_actor=None, override_expires_at=None
        )
    )
    blanked = await ctx.conn.execute(
        update(history)
        .where(
            history.c.tenant_id == ctx.tenant_id,
            history.c.member_id == ctx.member_id,
            history.c.actor != MODULE_ACTOR,
        )
        .values(reason=ERASED)
    )
    forgotten = 0
    for table in (memberships, membership_events):
        result = await ctx.conn.execute(
            update(table)
            .where(table.c.tenant_id == ctx.tenant_id, table.c.member_id == ctx.member_id)
            .values(subscription=ERASED)
        )
        forgotten += result.rowcount
    return lifted.rowcount + blanked.rowcount + forgotten


MEMBER_DATA = MemberData(export=export_member, erase=erase_member)

__all__ = ["MEMBER_DATA", "erase_member", "export_member"]
