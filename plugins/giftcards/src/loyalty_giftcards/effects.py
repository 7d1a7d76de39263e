"""The rule effect ``issue_gift_card``: a campaign rewards a member with a new card.

It runs in the trigger's transaction with the campaign's idempotency key, so a replayed
trigger finds the card the first run issued instead of issuing another. The card is
assigned to the member and shows in ``Member.giftCards``; nobody sees its code at issue, so
the code is kept sealed and the member reveals it with ``giftCardReveal``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loyalty_core.sdk import EffectContext, EffectResult, RuleEffect
from pydantic import BaseModel, Field

from loyalty_giftcards import service
from loyalty_giftcards.settings import GiftCardSettings


class IssueGiftCardParams(BaseModel):
    """What a campaign gives: ``amount`` minor units of ``currency`` on a new card."""

    amount: int = Field(gt=0, le=2**31 - 1)
    currency: str = Field("EUR", pattern="^[A-Za-z]{3}$")


async def apply(context: EffectContext, params: BaseModel) -> EffectResult:
    assert isinstance(params, IssueGiftCardParams)
    settings = context.module_settings
    if not isinstance(settings, GiftCardSettings):  # the engine offers it only when enabled
        raise RuntimeError("issue_gift_card needs the giftcards module enabled")
    issued = await service.issue(
        context.conn,
        context.tenant.id,
        settings,
        currency=params.currency,
        amount=params.amount,
        actor=service.Actor(
            context.actor, "rule", f"{context.campaign_id}:v{context.campaign_version}"
        ),
        now=context.now,
        member_id=context.member_id,
        idempotency_key=context.idempotency_key,
    )
    transaction = issued.event.transaction_id
    return EffectResult(
        transaction_ids=() if transaction is None else (transaction,),
        description=_describe(params, issued.card.last_four),
    )


def simulate(params: BaseModel, _event: Mapping[str, Any]) -> EffectResult:
    assert isinstance(params, IssueGiftCardParams)
    return EffectResult(description=_describe(params, None))


def _describe(params: IssueGiftCardParams, last_four: str | None) -> str:
    card = "a gift card" if last_four is None else f"gift card ...{last_four}"
    return f"{card} of {params.amount} {params.currency.upper()} (minor units)"


ISSUE_GIFT_CARD = RuleEffect(
    name="issue_gift_card",
    params_model=IssueGiftCardParams,
    apply=apply,
    simulate=simulate,
    description="Issue the member a digital gift card loaded with a fixed amount.",
)

__all__ = ["ISSUE_GIFT_CARD", "IssueGiftCardParams"]
