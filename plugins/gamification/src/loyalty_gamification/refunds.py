"""What a refund leaves of its purchase, for every definition the purchase counted toward.

One rule for badges, challenge steps and streak units: a purchase refunded in full brings
nothing any more; a purchase refunded in part keeps its share of what it brought (a count
stays, a sum follows the money kept) unless the money kept no longer meets the condition
that counted it, in which case it brings nothing either. A step "a purchase of at least
20 EUR" counted by a purchase of 25 EUR is taken back by a refund of 10 EUR; a step "a
coffee" stays until the coffee is refunded in full.

Whether the condition still holds is asked of the purchase's own variables (as the condition
saw them when it counted: the event, ``now`` its time, the member) twice, once with the amount
it was bought for and once with the amount kept (``event.amount``, and ``payload.amount``
where the payload carries it). Only a condition that holds for the first and not for the
second is lost to the refund: a condition that no longer holds for other reasons (the member
left a segment since) is not the refund's doing, and one that fails to evaluate keeps what
was counted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from loyalty_core.sdk import conditions, events
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_gamification.verdicts import Verdicts


class Left:
    """A refunded purchase as its refunds so far leave it."""

    def __init__(self, purchase: events.StoredEvent, bought: Verdicts, kept: Verdicts) -> None:
        self.purchase = purchase
        self._bought = bought
        self._kept = kept

    @classmethod
    async def of(
        cls,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        purchase: events.StoredEvent,
        expressions: Iterable[str],
    ) -> Left:
        """The purchase after its refunds; ``expressions``: the conditions that may be asked
        (the member is read only if one of them names it, and nothing when it was refunded
        in full)."""
        if purchase.refunded_amount >= (purchase.amount or 0):
            return cls(purchase, Verdicts({}), Verdicts({}))
        wanted = [e for e in expressions if e]
        variables: dict[str, Any] = {}
        if wanted:
            variables = await conditions.variables(conn, tenant_id, _ingested(purchase), wanted)
        return cls(purchase, Verdicts(variables), Verdicts(_with_amount(variables, purchase)))

    @property
    def in_full(self) -> bool:
        return self.purchase.refunded_amount >= (self.purchase.amount or 0)

    def lost(self, condition: str) -> bool:
        """Whether the purchase no longer counts for a definition with this condition: it was
        refunded in full, or the money kept no longer meets the condition it met."""
        if self.in_full:
            return True
        if not condition:
            return False
        try:
            return self._bought.holds(condition) and not self._kept.holds(condition)
        except conditions.ConditionFailed:
            return False


def _ingested(purchase: events.StoredEvent) -> events.EventIngested:
    return events.EventIngested(
        event_id=purchase.id,
        type=purchase.type,
        member_id=purchase.member_id,
        occurred_at=purchase.occurred_at,
        source=purchase.source,
        external_id=purchase.external_id,
        transactions=(),
        amount=purchase.amount,
        currency=purchase.currency,
        payload=purchase.payload,
    )


def _with_amount(variables: dict[str, Any], purchase: events.StoredEvent) -> dict[str, Any]:
    """The variables with the amount kept in place of the amount bought."""
    if "event" not in variables:
        return variables
    kept = (purchase.amount or 0) - purchase.refunded_amount
    event = dict(variables["event"])
    payload = dict(event.get("payload") or {})
    if payload.get("amount") == purchase.amount:
        payload["amount"] = kept
    event.update(amount=kept, payload=payload)
    return {**variables, "event": event}


__all__ = ["Left"]
