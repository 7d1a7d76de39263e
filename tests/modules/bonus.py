"""A module contributing a rule effect: ``bonus.points`` credits points through the SDK's
ledger, with the campaign as the cause, and counts them against budgets and limits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loyalty_core.sdk import EffectContext, EffectResult, ModuleInfo, RuleEffect, hookimpl, ledger
from pydantic import BaseModel, Field

NAME = "bonus"


class BonusParams(BaseModel):
    points: int = Field(gt=0)


async def apply(context: EffectContext, params: BaseModel) -> EffectResult:
    assert isinstance(params, BonusParams)
    asset = await ledger.get_asset(context.conn, context.tenant.id, "points")
    assert asset is not None
    posted = await ledger.earn(
        context.conn,
        ledger.Posting(
            tenant_id=context.tenant.id,
            idempotency_key=context.idempotency_key,
            reason=f"bonus of campaign {context.campaign_id} v{context.campaign_version}",
            cause=ledger.Cause(
                kind="rule",
                event_id=context.event_id,
                rule_id=context.campaign_id,
                rule_version=context.campaign_version,
            ),
            actor=context.actor,
            now=context.now,
        ),
        member_id=context.member_id,
        asset=asset,
        amount=params.points,
    )
    return EffectResult(points=params.points, transaction_ids=(posted.transaction.id,))


def simulate(params: BaseModel, event: Mapping[str, Any]) -> EffectResult:
    assert isinstance(params, BonusParams)
    return EffectResult(points=params.points)


@hookimpl
def loyalty_module() -> ModuleInfo:
    return ModuleInfo(name=NAME, version="1.0.0", description="Bonus points as a rule effect.")


@hookimpl
def loyalty_rule_effects() -> list[RuleEffect]:
    return [RuleEffect("points", BonusParams, apply, simulate, "Bonus points from a module.")]
