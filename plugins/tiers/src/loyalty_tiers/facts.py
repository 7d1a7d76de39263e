"""``member.tier`` for CEL: the member's level as campaigns and segments see it.

A correlated scalar subquery by primary key that the rules engine adds to the statement
reading the member's aggregates (``MemberFact``): no statement of its own, no scan. It is
the level shown to the member: an override that has not expired, else the earned level;
null for a member without one. "Double points for gold" is then an ordinary campaign with
the condition ``member.tier == "gold"``, and a segment ``member.tier in ["gold",
"platinum"]`` targets by tier.
"""

from __future__ import annotations

from typing import Any

from loyalty_core.sdk import MemberFact
from sqlalchemy import and_, case, func, select

from loyalty_tiers.tables import members


def tier_column(tenant_id: Any, member_id: Any) -> Any:
    overridden = and_(
        members.c.override_level.is_not(None), members.c.override_expires_at > func.now()
    )
    return (
        select(case((overridden, members.c.override_level), else_=members.c.level))
        .where(members.c.tenant_id == tenant_id, members.c.member_id == member_id)
        .scalar_subquery()
    )


TIER = MemberFact(
    name="tier",
    column=tier_column,
    description="The member's tier level by name (an override while it lasts, else the "
    "earned level); null without one.",
)

__all__ = ["TIER", "tier_column"]
