"""Rewards through other modules: an offer may pay, instead of points, any rule effect an
enabled module offers campaigns (``loyalty_rule_effects()``: a gift card, a reward, a
voucher), named as campaigns name it, ``<module>.<effect>``, with parameters the effect's own
model validates when the offer is saved (and normalises, so the frozen terms hold them as
the effect reads them).

The effect runs in the purchase's transaction, in a savepoint together with the offer's
claims (the member's limit, the day's cap, the budget), with an idempotency key naming the
offer and the purchase: a replayed purchase applies nothing twice, and an effect that fails
(its module disabled since, an amount its settings refuse) is undone with its claims, counted
on the offer (``effectFailures``), and the purchase is ingested as if the offer had not
matched. Modules are reached only through the registry and the tenant's enabled modules the
SDK hands a handler, never imported.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from loyalty_core.sdk import (
    EffectContext,
    EffectResult,
    ErrorCode,
    LoyaltyError,
    ModuleRegistry,
    Tenant,
    events,
)
from loyalty_core.sdk.effects import module_effects, validated_params
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_partner_offers.settings import NAME


def normalised(
    effect: Mapping[str, Any], registry: ModuleRegistry | None, enabled: Iterable[str]
) -> dict[str, Any]:
    """An offer's effect (``{kind, params}``) with its parameters validated and normalised
    by the effect's model. A kind no installed module offers is ``UNKNOWN_EFFECT``; one of
    a module the tenant has not enabled, ``MODULE_NOT_ENABLED``."""
    found = module_effects(registry, enabled)
    kind = effect.get("kind")
    if not isinstance(kind, str) or kind not in found:
        installed = module_effects(registry, [] if registry is None else registry.modules)
        if isinstance(kind, str) and kind in installed:
            raise LoyaltyError(
                f"the {installed[kind][0]} module is not enabled",
                code=ErrorCode.MODULE_NOT_ENABLED,
                field="effect.kind",
            )
        known = ", ".join(sorted(found)) or "none"
        raise LoyaltyError(
            f"no rule effect {kind!r} among the enabled modules' ({known})",
            code=ErrorCode.UNKNOWN_EFFECT,
            field="effect.kind",
        )
    model = found[kind][1].params_model
    params = validated_params(model, effect.get("params") or {}, field="effect.params")
    return {"kind": kind, "params": params.model_dump(mode="json")}


@dataclass(frozen=True)
class Runner:
    """What applying an effect needs besides the purchase: the tenant, and the registry and
    enabled modules (with their settings) the handler was given."""

    tenant: Tenant
    registry: ModuleRegistry | None
    enabled: Mapping[str, BaseModel]

    async def apply(
        self,
        conn: AsyncConnection,
        effect: Mapping[str, Any],
        *,
        offer_id: uuid.UUID,
        key: str,
        event: events.EventIngested,
    ) -> EffectResult:
        """Apply the effect for the purchase's member; raises what it raised (the caller's
        savepoint undoes it), ``LookupError`` when its module is no longer enabled."""
        kind = str(effect["kind"])
        found = module_effects(self.registry, self.enabled)
        if kind not in found:
            raise LookupError(f"the module of {kind!r} is not enabled")
        module, declared = found[kind]
        params = declared.params_model.model_validate(effect.get("params") or {})
        context = EffectContext(
            conn=conn,
            tenant=self.tenant,
            member_id=event.member_id,
            campaign_id=offer_id,
            campaign_version=0,
            idempotency_key=key,
            now=event.occurred_at,
            actor=f"module:{NAME}",
            event_id=event.event_id,
            event={
                "type": event.type,
                "amount": event.amount,
                "currency": event.currency,
                "payload": event.payload,
            },
            module_settings=self.enabled.get(module),
            registry=self.registry,
            enabled_modules=self.enabled,
        )
        return await declared.apply(context, params)


__all__ = ["Runner", "normalised"]
