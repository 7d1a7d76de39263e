"""Progress on the ingest path: every ingested event counts toward the badges of its type,
in the writer's transaction, and a refund takes back what its purchase counted.

Per event: the catalogue's version (one look-up; definitions are cached per process, and
only the live badges of the event's type are looked at), their conditions (compiled once
per text, evaluated in memory; the member is read only if a condition names it), then one
statement for all the badges the event meets (``repository.count_event``: the capped
badges' days, the contributions that explain the progress, the progress itself, which also
claims completions). A completion pays its reward through the ledger with a key naming the
badge, member, period and completion, so a replayed write pays nothing twice. Then one
upsert per live streak of the event's type (``streaks.count``).

A badge, streak or challenge whose condition fails for an event (a division by zero, a
string compared with a number), whose summed field is not a whole number or whose reward
cannot be posted is skipped for that event; the failure is counted and shown on the
definition (``health``), and repeated consecutive failures pause it (see ``health``). It
never fails the ingestion.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from loyalty_core.sdk import (
    DomainEvent,
    HandlerContext,
    ModuleRegistry,
    conditions,
    events,
    ledger,
    new_id,
    tenants,
)
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_gamification import challenges, health, leaderboards, rewards, streaks
from loyalty_gamification import repository as repo
from loyalty_gamification.catalogue import Catalogue, live
from loyalty_gamification.models import Badge, Measure, kept_after_refund
from loyalty_gamification.refunds import Left
from loyalty_gamification.verdicts import Verdicts

NAME = "gamification"
ACTOR = f"module:{NAME}"


class NotCountable(Exception):
    """An event a badge cannot count (its summed field is missing or not a whole number)."""


async def on_event_ingested(event: DomainEvent, context: HandlerContext) -> None:
    """Count an ingested event toward the badges, streaks and leaderboards it concerns, in
    one statement, or take back what a refund's purchase counted."""
    assert context.conn is not None
    ingested = events.EventIngested.of(event)
    catalogue = await live(context.conn, context.tenant_id)
    if catalogue.empty:
        return
    counter = _Counter(context.conn, context.tenant_id, context.tenant, ingested)
    counter.modules = (context.registry, context.enabled_modules)
    if ingested.is_refund and ingested.purchase_event_id is not None:
        await counter.refund(catalogue, ingested.purchase_event_id)
    await counter.count(catalogue)
    await counter.tally.record(context.conn, context.tenant_id, ingested.event_id)


class _Counter:
    """One event's work; the tenant (for its time zone) is read only when the writer did not
    hand it over and a definition needs it."""

    def __init__(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        tenant: tenants.Tenant | None,
        event: events.EventIngested,
    ):
        self.conn = conn
        self.tenant_id = tenant_id
        self.tenant = tenant
        self.event = event
        self.now = datetime.now(UTC)
        self.modules: tuple[ModuleRegistry | None, Mapping[str, BaseModel]] = (None, {})
        """The registry and the tenant's enabled modules: where reward effects come from."""
        self.badge_changes: list[tuple[datetime, int]] = []
        """Completions earned (+) and revoked (-), with when each was earned: what badge
        leaderboards count."""
        self.earned: list[leaderboards.Earned] = []
        """The completions this event made, recorded with the badge boards' scores."""
        self.tally = health.Tally(self.now)
        """How the definitions fared for the event, written last."""
        self.verdicts = Verdicts({})
        """The event's conditions, once evaluated (none before :meth:`count`)."""

    async def zone(self) -> ZoneInfo:
        if self.tenant is None:
            self.tenant = await tenants.get_tenant(self.conn, self.tenant_id)
        return tenants.zone_of(self.tenant)

    async def count(self, catalogue: Catalogue) -> None:
        """Evaluate the conditions of the definitions of the event's type, count the event
        in one statement, then pay what it completed and the milestones it reached."""
        event = self.event
        badges = catalogue.by_type.get(event.type, ())
        runs = catalogue.streaks_by_type.get(event.type, ())
        missions = catalogue.challenges_by_type.get(event.type, ())
        counted: list[repo.Counted] = []
        kept: list[repo.Kept] = []
        scoped = [b.segment_condition for b in catalogue.boards if b.segment is not None]
        if badges or runs or missions or scoped:
            variables = await conditions.variables(
                self.conn,
                self.tenant_id,
                event,
                [
                    *(b.condition for b in badges),
                    *(s.condition for s in runs),
                    *(c.segment_condition for c in missions),
                    *(step.condition for c in missions for step in c.steps),
                    *scoped,
                ],
            )
            self.verdicts = Verdicts(variables)
        verdicts = self.verdicts
        if badges or runs or missions:
            counted = await self._counted(badges, verdicts)
            if runs:
                kept = streaks.kept(
                    runs, verdicts, event.occurred_at, await self.zone(), self.tally
                )
        scores: list[tuple[uuid.UUID, str, int]] = []
        if catalogue.boards:
            scores = await leaderboards.event_deltas(
                self.conn, self.tenant_id, catalogue.boards, event, await self.zone(), verdicts
            )
        steps: dict[uuid.UUID, set[int]] = {}
        if missions:
            steps = challenges.met(missions, event, verdicts, self.tally)
        if not counted and not kept and not scores and not steps:
            await self.record(catalogue)
            return
        opt_in = {c.id for c in missions if c.opt_in}
        done = await repo.count_event(
            self.conn,
            self.tenant_id,
            event.member_id,
            event.event_id,
            event.occurred_at,
            counted=counted,
            kept=kept,
            scores=scores,
            automatic=[i for i in steps if i not in opt_in],
            joined=[i for i in steps if i in opt_in],
            purchase=event.is_purchase,
            now=self.now,
        )
        if done.challenges:
            completed = await challenges.advance(
                self.conn,
                self.tenant_id,
                missions,
                steps,
                done.challenges,
                event,
                self.now,
                self.tally,
            )
            for challenge in completed:
                if challenge.reward_effect is not None:
                    await self._effect(
                        "challenge",
                        challenge,
                        challenge.reward_effect,
                        f"{NAME}:challenge-effect:{challenge.id}:{event.member_id}",
                    )
        by_id = {badge.id: badge for badge in badges}
        for badge_id, period_key, awarded, change in done.completed:
            for seq in range(awarded - change + 1, awarded + 1):
                await self._award(by_id[badge_id], period_key, seq)
            self.badge_changes.append((event.occurred_at, change))
        streak_by_id = {streak.id: streak for streak in runs}
        for streak_id, length, started_unit in done.extended:
            streak = streak_by_id[streak_id]
            reached = await streaks.pay_milestones(
                self.conn,
                self.tenant_id,
                streak,
                length,
                started_unit,
                event,
                self.now,
                self.tally,
            )
            if reached is not None and reached.effect is not None:
                await self._effect(
                    "streak",
                    streak,
                    reached.effect,
                    f"{NAME}:streak-effect:{streak.id}:{event.member_id}:{started_unit}:{length}",
                )
        await self.record(catalogue)

    async def _counted(self, badges: Sequence[Badge], verdicts: Verdicts) -> list[repo.Counted]:
        event = self.event
        utc = ZoneInfo("UTC")
        counted: list[repo.Counted] = []
        for badge in badges:
            zone = await self.zone() if badge.zoned else utc
            period_key = badge.period_key(event.occurred_at, zone)
            if period_key is None:
                continue
            try:
                offered = _offered(badge, verdicts)
            except (conditions.ConditionFailed, NotCountable) as exc:
                self.tally.failed("badge", badge, exc)
                continue
            self.tally.succeeded("badge", badge)
            if offered <= 0:
                continue
            day = event.occurred_at.astimezone(zone).date() if badge.daily_cap else None
            counted.append(
                repo.Counted(
                    badge.id,
                    period_key,
                    offered,
                    badge.daily_cap,
                    day,
                    badge.target,
                    badge.repeatable,
                )
            )
        return counted

    async def record(self, catalogue: Catalogue) -> None:
        """Record the completions this event made, and add those it made or revoked to the
        badge leaderboards, in one statement (none when there are neither)."""
        if not self.badge_changes:
            return
        zone = await self.zone()
        deltas = [
            (board.id, board.window_key(at, zone), change)
            for board in catalogue.boards
            if board.metric is leaderboards.Metric.BADGES
            and (board.segment is None or board.ranks(self.verdicts))
            for at, change in self.badge_changes
        ]
        await leaderboards.add_scores(
            self.conn,
            self.tenant_id,
            self.event.member_id,
            deltas,
            self.now,
            earned=self.earned,
            event_id=self.event.event_id,
            earned_at=self.event.occurred_at,
        )

    async def _award(self, badge: Badge, period_key: str, seq: int) -> None:
        event = self.event
        transaction_id = None
        if badge.reward_points:
            try:
                transaction_id = await rewards.earn(
                    self.conn,
                    self._posting(
                        f"badge:{badge.id}:{event.member_id}:{period_key}:{seq}",
                        f"badge earned: {badge.name}",
                        badge,
                    ),
                    member_id=event.member_id,
                    asset_code=badge.reward_asset,
                    amount=badge.reward_points,
                )
            except rewards.REFUSED as exc:
                self.tally.failed("badge", badge, exc)
        if badge.reward_effect is not None:
            await self._effect(
                "badge",
                badge,
                badge.reward_effect,
                f"{NAME}:badge-effect:{badge.id}:{event.member_id}:{period_key}:{seq}",
            )
        self.earned.append(leaderboards.Earned(new_id(), badge.id, period_key, seq, transaction_id))

    async def _effect(
        self,
        kind: str,
        definition: Badge | challenges.Challenge | streaks.Streak,
        reward: Mapping[str, Any],
        key: str,
    ) -> None:
        """Apply a badge's, challenge's or streak milestone's rule effect; a failure is undone
        alone and counted on the definition."""
        registry, enabled = self.modules
        if self.tenant is None:
            self.tenant = await tenants.get_tenant(self.conn, self.tenant_id)
        event = self.event
        try:
            await rewards.apply(
                self.conn,
                self.tenant,
                registry,
                enabled,
                reward,
                definition_id=definition.id,
                member_id=event.member_id,
                key=key,
                event_id=event.event_id,
                event={"type": event.type, "amount": event.amount, "payload": event.payload},
                now=self.now,
            )
        except Exception as exc:  # any module's effect: its failure must not fail the event
            self.tally.failed(kind, definition, exc)

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
        """Take back what the purchase no longer brings after its refunds so far
        (``refunds.Left``): per badge it counted toward, its share of the money refunded, or
        all of it once the money kept no longer meets the badge's condition; a badge that
        revokes loses the completions its progress no longer reaches, and their rewards are
        reversed. The challenge steps and streak units it counted are taken back once it is
        refunded in full or no longer meets their conditions."""
        purchase = await events.get_event(self.conn, self.tenant_id, purchase_id)
        if purchase is None or not purchase.amount:
            return
        event = self.event
        missions = catalogue.challenges_by_type.get(purchase.type, ())
        runs = catalogue.streaks_by_type.get(purchase.type, ())
        left = await Left.of(
            self.conn,
            self.tenant_id,
            purchase,
            [
                *(b.condition for b in catalogue.by_type.get(purchase.type, ())),
                *(s.condition for s in runs),
                *(step.condition for c in missions for step in c.steps),
            ],
        )
        by_challenge = {c.id: c for c in missions}
        if left.in_full or missions:
            await challenges.refund(
                self.conn,
                self.tenant_id,
                purchase.member_id,
                purchase_id,
                event.event_id,
                lambda challenge_id, index: _step_lost(left, by_challenge.get(challenge_id), index),
                at=event.occurred_at,
                now=self.now,
            )
        lost_runs = None if left.in_full else [s.id for s in runs if left.lost(s.condition)]
        if lost_runs is None or lost_runs:
            await streaks.refund(
                self.conn,
                self.tenant_id,
                purchase.member_id,
                purchase_id,
                lost_runs,
                now=self.now,
            )
        if not catalogue.by_id:
            return
        rows = await repo.contributions_of_purchase(self.conn, self.tenant_id, purchase_id)
        for row in rows:
            badge = catalogue.by_id.get(row.badge_id)
            if badge is None or row.granted is None:
                continue
            kept = 0
            if not left.lost(badge.condition):
                kept = kept_after_refund(
                    int(row.granted), purchase.amount, purchase.refunded_amount
                )
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
            self.badge_changes.append((award.earned_at, -1))
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


def _step_lost(left: Left, challenge: challenges.Challenge | None, index: int) -> bool:
    """Whether a step the purchase counted is lost to its refunds (a challenge no longer live
    takes back only a purchase refunded in full)."""
    if challenge is None or index >= len(challenge.steps):
        return left.in_full
    return left.lost(challenge.steps[index].condition)


def _offered(badge: Badge, verdicts: Verdicts) -> int:
    """What the event brings to the badge: 0 when its condition does not hold."""
    if not verdicts.holds(badge.condition):
        return 0
    if badge.measure is Measure.COUNT:
        return 1
    assert badge.sum_field is not None
    return _field(verdicts.variables["event"], badge.sum_field)


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
