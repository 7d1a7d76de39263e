"""``member.tier`` for CEL: the member's level as campaigns and segments see it.

A scalar subquery by primary key that the rules engine adds to the statement reading the
member's aggregates (``MemberFact``): no statement of its own, no scan. It is the level the
member is shown (:func:`loyalty_tiers.service.standing_of` decides the same in Python): an
override that has not expired; else the level a paid membership gives while it runs, when
the ladder ranks it above the earned level; else the earned level; null without one.
"Double points for gold" is then an ordinary campaign with the condition ``member.tier ==
"gold"``, and a segment ``member.tier in ["gold", "platinum"]`` targets by tier.
"""

from __future__ import annotations

from typing import Any

from loyalty_core.sdk import MemberFact
from sqlalchemy import String, column, text

GIVING = """
    m.state <> 'ended'
    AND NOT (m.state = 'past_due' AND m.grace_until <= now())
    AND NOT (m.state = 'cancelled' AND m.period_end <= now())
    AND NOT (m.state IN ('trialing', 'active')
             AND m.period_end + make_interval(days => coalesce(w.grace_days, 0)) <= now())
"""
"""A membership that gives now: ``memberships.state_at`` in SQL."""

TIER_SQL = f"""
SELECT CASE
    WHEN s.override_level IS NOT NULL AND s.override_expires_at > now() THEN s.override_level
    WHEN g.level IS NOT NULL AND coalesce(r.given, 0) > coalesce(r.earned, 0) THEN g.level
    ELSE s.level
  END AS tier
FROM (SELECT 1) AS one
LEFT JOIN tiers_members AS s ON s.tenant_id = :tenant_id AND s.member_id = :member_id
LEFT JOIN LATERAL (
  SELECT p.level
  FROM tiers_memberships AS m
  JOIN tiers_plans AS p ON p.tenant_id = m.tenant_id AND p.id = m.plan_id
  LEFT JOIN tiers_webhooks AS w ON w.tenant_id = m.tenant_id
  WHERE m.tenant_id = :tenant_id AND m.member_id = :member_id AND {GIVING}
) AS g ON true
LEFT JOIN LATERAL (
  SELECT max(e.n) FILTER (WHERE e.value ->> 'name' = g.level) AS given,
         max(e.n) FILTER (WHERE e.value ->> 'name' = s.level) AS earned
  FROM tiers_ladders AS l,
       jsonb_array_elements(l.definition -> 'levels') WITH ORDINALITY AS e(value, n)
  WHERE l.tenant_id = :tenant_id AND g.level IS NOT NULL
) AS r ON true
"""  # noqa: S608 - no value is formatted in: GIVING is a constant


def tier_column(tenant_id: Any, member_id: Any) -> Any:
    statement = text(TIER_SQL).bindparams(tenant_id, member_id)
    return statement.columns(column("tier", String)).scalar_subquery()


TIER = MemberFact(
    name="tier",
    column=tier_column,
    description="The member's tier level by name (an override while it lasts, else a paid "
    "membership's level while it gives one above the earned level, else the earned level); "
    "null without one.",
)

__all__ = ["TIER", "tier_column"]
