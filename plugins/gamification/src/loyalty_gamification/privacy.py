"""The module's part in privacy requests: what it keeps about a member, for export.

Badge progress, contributions and awards hold ids, numbers and times, never text about the
person: erasure keeps them (the awards' ledger transactions are the core's records, and the
member row they point to is anonymised by the core), so ``erase`` changes nothing.
"""

from __future__ import annotations

from loyalty_core.sdk import MemberData, MemberDataContext
from sqlalchemy import select

from loyalty_gamification.tables import awards, contributions, progress


async def export(ctx: MemberDataContext) -> dict[str, object]:
    found: dict[str, object] = {}
    for name, table in (
        ("badgeProgress", progress),
        ("badgeContributions", contributions),
        ("badgeAwards", awards),
    ):
        rows = await ctx.conn.execute(
            select(table).where(
                table.c.tenant_id == ctx.tenant_id, table.c.member_id == ctx.member_id
            )
        )
        found[name] = [dict(row._mapping) for row in rows]
    return found


async def erase(ctx: MemberDataContext) -> int:
    return 0


MEMBER_DATA = MemberData(export=export, erase=erase)

__all__ = ["MEMBER_DATA"]
