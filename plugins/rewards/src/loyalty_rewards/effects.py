"""Instant rewards as rule effects: any campaign (a purchase, a birthday, a custom event)
gives a catalogue reward on the spot, always or as a surprise.

- ``give_reward`` issues the reward (a voucher, an entitlement, a parcel, a module's item)
  without charging points, through the same redemption as ``rewardRedeem``: stock and the
  per-member limit apply, and the campaign's idempotency key is the redemption's, so a
  replayed trigger finds its first redemption instead of issuing another.
- ``surprise_reward`` draws first: the trigger wins with ``probability``, decided by an HMAC
  of its idempotency key under the tenant's drawing key (uniform, unpredictable without the
  key, and the same on a replay), and a win takes one from the campaign's ``budget`` with a
  conditional UPDATE (``awarded < budget``), so the budget is never exceeded however many
  events race for it.

An out-of-stock reward or a spent budget is not a failure of the campaign: the effect gives
nothing and says so.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping
from typing import Any

from loyalty_core.sdk import EffectContext, EffectResult, LoyaltyError, RuleEffect
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_rewards import kinds, redemptions
from loyalty_rewards import repository as repo
from loyalty_rewards.keys import tenant_keys
from loyalty_rewards.settings import RewardSettings
from loyalty_rewards.tables import budgets


class GiveRewardParams(BaseModel):
    """The catalogue reward a campaign gives (``{"rewardId": ...}``)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    reward_id: uuid.UUID


class SurpriseRewardParams(BaseModel):
    """A reward given to a random share (``probability``) of the qualifying triggers, at most
    ``budget`` times over the campaign's life."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    reward_id: uuid.UUID
    probability: float = Field(gt=0, le=1)
    budget: int = Field(gt=0, le=10_000_000)


async def give(context: EffectContext, params: BaseModel) -> EffectResult:
    assert isinstance(params, GiveRewardParams)
    return await _give(context, params.reward_id)


async def surprise(context: EffectContext, params: BaseModel) -> EffectResult:
    assert isinstance(params, SurpriseRewardParams)
    conn, tenant_id = context.conn, context.tenant.id
    keys = await tenant_keys(conn, tenant_id)  # cached: no statement
    # The draw first: it is the same on a replay, so a trigger that lost, lost the first
    # time too, and most triggers (the losers) cost the ingestion no statement at all.
    if draw(keys.drawing, context.idempotency_key) >= params.probability:
        return EffectResult(description="no surprise this time")
    if await repo.redemption_by_key(conn, tenant_id, context.idempotency_key) is not None:
        return await _give(context, params.reward_id)  # a replay: what it gave the first time
    budget = (f"surprise:{context.campaign_id}:{params.reward_id}", params.budget)
    return await _give(context, params.reward_id, budget)


def draw(key: bytes, trigger: str) -> float:
    """A number in [0, 1) from the trigger's key: uniform, and the same every time."""
    digest = hmac.new(key, trigger.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


async def take_from_budget(
    conn: AsyncConnection, tenant_id: uuid.UUID, name: str, budget: int
) -> bool:
    """Take one award from the budget ``name`` (made with ``budget`` on first use); False when
    it is spent. The budget follows the campaign's current setting."""
    await conn.execute(
        pg_insert(budgets)
        .values(tenant_id=tenant_id, name=name[:250], budget=budget, awarded=0)
        .on_conflict_do_nothing(index_elements=["tenant_id", "name"])
    )
    taken = await conn.execute(
        update(budgets)
        .where(
            budgets.c.tenant_id == tenant_id,
            budgets.c.name == name[:250],
            budgets.c.awarded < budget,
        )
        .values(awarded=budgets.c.awarded + 1, budget=budget)
    )
    return taken.rowcount == 1


class _BudgetSpent(LoyaltyError):
    pass


async def _give(
    context: EffectContext, reward_id: uuid.UUID, budget: tuple[str, int] | None = None
) -> EffectResult:
    """Redeem the reward for free in a savepoint: an empty shelf or a spent budget rolls back
    only this (the award taken from the budget included) and leaves the trigger whole."""
    settings = context.module_settings
    if not isinstance(settings, RewardSettings):  # the engine offers it only when enabled
        raise RuntimeError("instant rewards need the rewards module enabled")
    issuing = redemptions.Issuing(
        settings=settings,
        module_kinds=kinds.module_kinds(
            ()
            if context.registry is None
            else context.registry.extensions(kinds.HOOK, context.enabled_modules)
        ),
        module_settings=dict(context.enabled_modules),
    )
    try:
        async with context.conn.begin_nested():
            if budget is not None and not await take_from_budget(
                context.conn, context.tenant.id, *budget
            ):
                raise _BudgetSpent("the surprise budget is spent")
            given = await redemptions.redeem(
                context.conn,
                context.tenant.id,
                issuing,
                reward_id,
                member_id=context.member_id,
                idempotency_key=context.idempotency_key,
                actor=context.actor,
                cause=f"campaign:{context.campaign_id}:v{context.campaign_version}",
                now=context.now,
                charge=False,
            )
    except LoyaltyError as error:
        return EffectResult(description=f"no reward: {error.message}")
    return EffectResult(description=_describe(given.redemption.reward_id, given.voucher))


def _describe(reward_id: uuid.UUID, voucher: object) -> str:
    what = "a voucher" if voucher is not None else "a reward"
    return f"{what} (reward {reward_id})"


def simulate_give(params: BaseModel, _event: Mapping[str, Any]) -> EffectResult:
    assert isinstance(params, GiveRewardParams | SurpriseRewardParams)
    return EffectResult(description=f"reward {params.reward_id}")


GIVE_REWARD = RuleEffect(
    name="give_reward",
    params_model=GiveRewardParams,
    apply=give,
    simulate=simulate_give,
    description="Give the member a catalogue reward (a voucher, an entitlement...) on the spot.",
)

SURPRISE_REWARD = RuleEffect(
    name="surprise_reward",
    params_model=SurpriseRewardParams,
    apply=surprise,
    simulate=simulate_give,
    description="Give a catalogue reward to a random share of qualifying events, within a budget.",
)

__all__ = ["GIVE_REWARD", "SURPRISE_REWARD", "draw", "take_from_budget"]
