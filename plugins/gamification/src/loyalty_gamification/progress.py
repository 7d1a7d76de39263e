"""Progress on the ingest path: every ingested event counts toward the badges of its type,
in the writer's transaction, and a refund takes back what its purchase counted.

Per event: the catalogue's version (one look-up; definitions are cached per process), then
for each live badge of the event's type only: its condition (compiled once per text), one
upsert of the member's progress that also claims any completion, one insert of the
contribution that explains it, and for a capped badge one upsert of the member's day. A
completion pays its reward through the ledger with a key naming the badge, member, period
and completion, so a replayed write pays nothing twice.

A badge whose condition fails for an event (a division by zero, a string compared with a
number) or whose summed field is not a whole number is skipped for that event, and the
failure is counted and shown on the badge (``Badge.health``). It never fails the ingestion.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from loyalty_core.sdk import (
    DomainEvent,
    HandlerContext,
    conditions,
    events,
    ledger,
    new_id,
    tenants,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_gamification import repository as repo
from loyalty_gamification.catalogue import Catalogue, live
from loyalty_gamification.models import Badge, Measure, kept_after_refund

NAME = "gamification"
ACTOR = f"module:{NAME}"

_log = logging.getLogger(__name__)


class NotCountable(Exception):
    """An event a badge cannot count (its summed field is missing or not a whole number)."""


async def on_event_ingested(event: DomainEvent, context: HandlerContext) -> None:
    """Count an ingested event toward the badges of its type, or take back what a refund's
    purchase counted."""
    assert context.conn is not None
    ingested = events.EventIngested.of(event)
    catalogue = await live(context.conn, context.tenant_id)
    if not catalogue.by_id:
        return
    counter = _Counter(context.conn, context.tenant_id, ingested)
    if ingested.is_refund and ingested.purchase_event_id is not None:
        await counter.refund(catalogue, ingested.purchase_event_id)
    for badge in catalogue.by_type.get(ingested.type, ()):
        await counter.count(badge)


class _Counter:
    """One event's work: the tenant's zone read once, when a badge needs it."""

    def __init__(self, conn: AsyncConnection, tenant_id: uuid.UUID, event: events.EventIngested):
        self.conn = conn
        self.tenant_id = tenant_id
        self.event = event
        self.now = datetime.now(UTC)
        self._zone: ZoneInfo | None = None

    async def zone(self) -> ZoneInfo:
        if self._zone is None:
            self._zone = tenants.zone_of(await tenants.get_tenant(self.conn, self.tenant_id))
        return self._zone

    async def count(self, badge: Badge) -> None:
        event = self.event
        zone = await self.zone() if badge.zoned else ZoneInfo("UTC")
        period_key = badge.period_key(event.occurred_at, zone)
        if period_key is None:
            return
        try:
            offered = await self._offered(badge)
        except (conditions.ConditionFailed, NotCountable) as exc:
            await self._failed(badge, exc)
            return
        if offered <= 0:
            return
        granted = offered
        if badge.daily_cap is not None:
            day = event.occurred_at.astimezone(zone).date()
            granted = await repo.count_day(
                self.conn,
                self.tenant_id,
                badge.id,
                event.member_id,
                day,
                offered=offered,
                cap=badge.daily_cap,
            )
        await repo.insert_contribution(
            self.conn,
            {
                "tenant_id": self.tenant_id,
                "badge_id": badge.id,
                "event_id": event.event_id,
                "member_id": event.member_id,
                "period_key": period_key,
                "amount": granted,
                "offered": offered,
                "occurred_at": event.occurred_at,
            },
        )
        if granted <= 0:
            return
        row = await repo.count_progress(
            self.conn,
            self.tenant_id,
            badge.id,
            event.member_id,
            period_key,
            delta=granted,
            target=badge.target,
            repeatable=badge.repeatable,
            now=self.now,
        )
        for seq in range(row.awarded - row.change + 1, row.awarded + 1):
            await self._award(badge, period_key, seq)

    async def _offered(self, badge: Badge) -> int:
        """What the event brings to the badge: 0 when its condition does not hold."""
        variables = await conditions.variables(
            self.conn, self.tenant_id, self.event, badge.condition
        )
        if not conditions.evaluate(badge.condition, variables):
            return 0
        if badge.measure is Measure.COUNT:
            return 1
        assert badge.sum_field is not None
        return _field(variables["event"], badge.sum_field)

    async def _failed(self, badge: Badge, error: Exception) -> None:
        message = f"{type(error).__name__}: {error}"
        await repo.record_failure(self.conn, self.tenant_id, badge.id, message, self.now)
        _log.warning(
            "badge skipped for an event it failed for",
            extra={
                "tenant": str(self.tenant_id),
                "badge": str(badge.id),
                "event": str(self.event.event_id),
                "error": message,
            },
        )

    async def _award(self, badge: Badge, period_key: str, seq: int) -> None:
        event = self.event
        transaction_id = None
        if badge.reward_points:
            asset = await ledger.get_asset(self.conn, self.tenant_id, badge.reward_asset)
            if asset is not None:
                posted = await ledger.earn(
                    self.conn,
                    self._posting(
                        f"badge:{badge.id}:{event.member_id}:{period_key}:{seq}",
                        f"badge earned: {badge.name}",
                        badge,
                    ),
                    member_id=event.member_id,
                    asset=asset,
                    amount=badge.reward_points,
                )
                transaction_id = posted.transaction.id
        await repo.insert_award(
            self.conn,
            {
                "tenant_id": self.tenant_id,
                "id": new_id(),
                "badge_id": badge.id,
                "member_id": event.member_id,
                "period_key": period_key,
                "seq": seq,
                "event_id": event.event_id,
                "transaction_id": transaction_id,
                "earned_at": event.occurred_at,
            },
        )

    def _posting(self, key: str, reason: str, badge: Badge) -> ledger.Posting:
        return ledger.Posting(
            tenant_id=self.tenant_id,
            idempotency_key=f"{NAME}:{key}",
            reason=reason,
            cause=ledger.Cause(kind=NAME, id=f"badge:{badge.id}", event_id=self.event.event_id),
            actor=ACTOR,
            now=self.now,
        )

    async def refund(self, catalogue: Catalogue, purchase_id: uuid.UUID) -> None:
        """Take back, per badge the purchase counted toward, what the refunded share of it
        brought; a badge that revokes loses the completions its progress no longer reaches,
        and their rewards are reversed."""
        rows = await repo.contributions_of_purchase(self.conn, self.tenant_id, purchase_id)
        if not rows:
            return
        purchase = await events.get_event(self.conn, self.tenant_id, purchase_id)
        if purchase is None or not purchase.amount:
            return
        for row in rows:
            badge = catalogue.by_id.get(row.badge_id)
            if badge is None or row.granted is None:
                continue
            kept = kept_after_refund(int(row.granted), purchase.amount, purchase.refunded_amount)
            taken = int(row.net) - kept
            if taken <= 0:
                continue
            await self._take_back(badge, row.member_id, row.period_key, purchase_id, taken)

    async def _take_back(
        self,
        badge: Badge,
        member_id: uuid.UUID,
        period_key: str,
        purchase_id: uuid.UUID,
        taken: int,
    ) -> None:
        event = self.event
        await repo.insert_contribution(
            self.conn,
            {
                "tenant_id": self.tenant_id,
                "badge_id": badge.id,
                "event_id": event.event_id,
                "member_id": member_id,
                "period_key": period_key,
                "purchase_event_id": purchase_id,
                "amount": -taken,
                "offered": 0,
                "occurred_at": event.occurred_at,
            },
        )
        row = await repo.take_back_progress(
            self.conn,
            self.tenant_id,
            badge.id,
            member_id,
            period_key,
            delta=taken,
            target=badge.target,
            repeatable=badge.repeatable,
            revoke=badge.revoke_on_refund,
            now=self.now,
        )
        if row.change >= 0:
            return
        revoked = await repo.revoke_awards(
            self.conn,
            self.tenant_id,
            badge.id,
            member_id,
            period_key,
            count=-row.change,
            by=event.event_id,
            at=event.occurred_at,
        )
        for award in revoked:
            if award.transaction_id is not None:
                await self._reverse(badge, member_id, award.id, award.transaction_id)

    async def _reverse(
        self, badge: Badge, member_id: uuid.UUID, award_id: uuid.UUID, transaction_id: uuid.UUID
    ) -> None:
        original = await ledger.get_transaction(self.conn, self.tenant_id, transaction_id)
        asset = await ledger.get_asset(self.conn, self.tenant_id, badge.reward_asset)
        if original is None or asset is None:
            return
        posted = await ledger.reverse(
            self.conn,
            self._posting(f"revoke:{award_id}", f"badge revoked: {badge.name}", badge),
            original=original,
            member_id=member_id,
            asset=asset,
            amount=badge.reward_points,
        )
        await repo.set_revocation_transaction(
            self.conn, self.tenant_id, award_id, posted.transaction.id
        )


def _field(event: dict[str, Any], path: str) -> int:
    value: Any = event
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return 0
        value = value[part]
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise NotCountable(f"{path} is {value!r}, not a whole number")
    return value


__all__ = ["NAME", "on_event_ingested"]
