"""Rewards: points posted through the ledger (:func:`earn`), where a reward that cannot be
posted fails its definition alone, never the event; and rewards through other modules: a
badge or a challenge may pay, besides points, any rule effect an enabled module offers campaigns
(``loyalty_rule_effects()``: a gift card, a voucher, an entitlement), chosen as
``<module>.<effect>`` with parameters its own model validates when the badge is saved.

The effect runs in the event's transaction, inside a savepoint, with an idempotency key
naming the badge, member, period and completion: a replayed write applies nothing twice,
and an effect that fails (a module disabled since, an amount its settings refuse) is
undone alone, counted on the badge's health, and the event is ingested as if the badge had
no effect.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from loyalty_core.sdk import (
    EffectContext,
    LoyaltyError,
    ModuleRegistry,
    Tenant,
    ValidationFailed,
    ledger,
)
from loyalty_core.sdk.effects import ModuleEffects, module_effects, validated_params
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection


def normalised(reward: Mapping[str, Any] | None, offered: ModuleEffects) -> dict[str, Any] | None:
    """A definition's reward effect (``{effect, params}``) with its parameters validated and
    normalised by the effect's own model; an effect no enabled module offers is refused."""
    if reward is None:
        return None
    name = reward.get("effect")
    if not isinstance(name, str) or name not in offered:
        known = ", ".join(sorted(offered)) or "none"
        raise ValidationFailed(
            f"no rule effect {name!r} among the enabled modules' ({known})",
            field="rewardEffect.effect",
        )
    params = validated_params(
        offered[name][1].params_model, reward.get("params") or {}, field="rewardEffect.params"
    )
    return {"effect": name, "params": params.model_dump(mode="json")}


async def apply(
    conn: AsyncConnection,
    tenant: Tenant,
    registry: ModuleRegistry | None,
    settings: Mapping[str, BaseModel],
    reward: Mapping[str, Any],
    *,
    definition_id: uuid.UUID,
    member_id: uuid.UUID,
    key: str,
    event_id: uuid.UUID,
    event: Mapping[str, Any],
    now: datetime,
) -> None:
    """Apply a badge's (a challenge's) reward effect in a savepoint; raises what the effect
    raised (after undoing it) for the caller to count."""
    offered = module_effects(registry, settings)
    name = str(reward["effect"])
    if name not in offered:
        raise LookupError(f"the module of {name!r} is not enabled")
    module, effect = offered[name]
    params = effect.params_model.model_validate(reward.get("params") or {})
    context = EffectContext(
        conn=conn,
        tenant=tenant,
        member_id=member_id,
        campaign_id=definition_id,
        campaign_version=0,
        idempotency_key=key,
        now=now,
        actor="module:gamification",
        event_id=event_id,
        event=event,
        module_settings=settings.get(module),
        registry=registry,
        enabled_modules=settings,
    )
    async with conn.begin_nested():
        await effect.apply(context, params)


async def earn(
    conn: AsyncConnection,
    posting: ledger.Posting,
    *,
    member_id: uuid.UUID,
    asset_code: str,
    amount: int,
) -> uuid.UUID:
    """Post a reward of points and return its ledger transaction. Raises, for the caller to
    count on the definition's health, ``LookupError`` for an asset that is gone and the
    ledger's refusals (``LoyaltyError``: a key taken by another request), both before
    anything is written, so the event's transaction goes on without a savepoint (two round
    trips per reward saved). A database error fails the event, as any would."""
    asset = await ledger.get_asset(conn, posting.tenant_id, asset_code)
    if asset is None:
        raise LookupError(f"no asset {asset_code!r} to pay the reward in")
    posted = await ledger.earn(conn, posting, member_id=member_id, asset=asset, amount=amount)
    return posted.transaction.id


REFUSED = (LookupError, LoyaltyError)
"""What :func:`earn` raises for a reward that cannot be posted."""


__all__ = [
    "REFUSED",
    "apply",
    "earn",
    "normalised",
]
