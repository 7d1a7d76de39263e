"""Who may see a reward: its ``segment``, a condition over the member in CEL, the SDK's
(``sdk.conditions``), so segments (``"regulars" in member.segments``), the member's spend
and counts, and the facts other modules contribute (``member.tier``) all apply.

- **Checked on save** (``conditions.check_member``): a condition that does not compile, or
  names a field a member lacks, is INVALID_CONDITION on ``segment`` with its line and column,
  so a typo never reaches a member.
- **Compiled once** per expression text for the process (the SDK's cache) and evaluated
  against the member's variables, read once per request for every reward of a page: the
  member's row, plus its aggregates, facts and segments only when a condition names them.
- **Never fatal**: a condition that fails for a member at run time (a division by zero, a
  number compared with a string) hides the reward from that member and is counted on the
  reward (``segmentFailures``, ``segmentError``) for the retailer to fix, in a short
  transaction of its own after the request's work.

Tenant admins see every reward. A campaign gives a reward to whom it targets, whatever the
reward's segment: the campaign is the retailer's choice of audience.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from loyalty_core.sdk import Database, MemberFact, conditions
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_rewards.models import Reward
from loyalty_rewards.tables import rewards

MAX_ERROR = 500


@dataclass
class Audience:
    """One member looking at the catalogue (or redeeming from it) now. ``failed`` collects
    the rewards whose condition failed, with the error, for :func:`record_failures`."""

    conn: AsyncConnection
    tenant_id: uuid.UUID
    member_id: uuid.UUID
    now: datetime
    facts: Sequence[MemberFact] = ()
    failed: dict[uuid.UUID, str] = field(default_factory=dict)

    async def visible(self, found: Sequence[Reward]) -> list[Reward]:
        """The rewards of ``found`` the member may see, in order; the member's variables are
        read only when one of them has a segment."""
        targeted = {reward.segment for reward in found if reward.segment}
        if not targeted:
            return list(found)
        variables = await conditions.member_variables(
            self.conn, self.tenant_id, self.member_id, targeted, now=self.now, facts=self.facts
        )
        return [r for r in found if not r.segment or self._holds(r, r.segment, variables)]

    def _holds(self, reward: Reward, segment: str, variables: Mapping[str, object]) -> bool:
        try:
            return conditions.evaluate(segment, variables)
        except conditions.ConditionFailed as failure:
            self.failed[reward.id] = f"{failure.error_class}: {failure}"[:MAX_ERROR]
            return False


def untargeted(found: Sequence[Reward]) -> list[Reward]:
    """What a caller seeing the catalogue for no member in particular may see."""
    return [reward for reward in found if not reward.segment]


async def record_failures(
    database: Database, tenant_id: uuid.UUID, failed: Mapping[uuid.UUID, str], now: datetime
) -> None:
    """Count each failed condition on its reward, with the last error (its own transaction:
    the request that met it may roll back, and a read writes nothing else)."""
    if not failed:
        return
    async with database.tenant_transaction(tenant_id) as conn:
        for reward_id, message in sorted(failed.items()):
            await conn.execute(
                update(rewards)
                .where(rewards.c.tenant_id == tenant_id, rewards.c.id == reward_id)
                .values(
                    segment_failures=rewards.c.segment_failures + 1,
                    segment_error=message,
                    segment_failed_at=now,
                )
            )


__all__ = ["Audience", "record_failures", "untargeted"]
