"""The ``GIFT_CARD`` reward kind: a card loaded with a fixed amount, issued to the member
when a reward of that kind is redeemed in the rewards module.

The rewards module asks every enabled module for reward kinds (its hook
``loyalty_rewards_kinds``, implemented in ``__init__``) and calls them through a structural
contract (``loyalty_rewards.kinds.RewardKind``). Gift cards never import the rewards module,
so they work where it is not installed: this class has the attributes and coroutines the
contract names, and nothing else is shared but the SDK.

Issuing is :func:`loyalty_giftcards.service.issue` in the redemption's transaction, keyed by
the redemption (a replayed redemption finds its card), with the redemption as the cause in
the ledger and the card's event log; the card is the member's, its code sealed for the
member to reveal (``giftCardReveal``). Cancelling the redemption cancels the card, its value
going back to the liability it came from, but only while no value has moved on it: a card
already spent from, reloaded, transferred or closed cannot be taken back.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from loyalty_core.sdk import parse_id
from pydantic import BaseModel
from pydantic import ValidationError as PydanticError
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_giftcards import repository as repo
from loyalty_giftcards import service
from loyalty_giftcards.effects import IssueGiftCardParams
from loyalty_giftcards.models import CardStatus, EventKind
from loyalty_giftcards.settings import GiftCardSettings

KIND = "GIFT_CARD"
NAME = "giftcards"
_REFERENCE = "giftcard:"
_UNTOUCHED = {EventKind.ISSUED, EventKind.ASSIGNED, EventKind.REVEALED, EventKind.RELEASED}
"""Events that move no value: a card with only these may still be taken back."""


class GiftCardReward:
    """A digital card of ``amount`` minor units of ``currency`` (``{"amount": 1000,
    "currency": "EUR"}``), for the member who redeems the reward."""

    name = KIND
    description = "A digital gift card loaded with a fixed amount, issued to the member."

    def check(self, params: Mapping[str, Any]) -> None:
        try:
            IssueGiftCardParams.model_validate(params)
        except PydanticError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "params"
            raise ValueError(f"{where}: {first['msg']}") from error

    async def issue(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        *,
        member_id: uuid.UUID,
        params: Mapping[str, Any],
        module_settings: Mapping[str, BaseModel],
        idempotency_key: str,
        actor: str,
        now: datetime,
    ) -> str:
        card = IssueGiftCardParams.model_validate(params)
        issued = await service.issue(
            conn,
            tenant_id,
            _settings(module_settings),
            currency=card.currency,
            amount=card.amount,
            actor=service.Actor(actor, "reward", idempotency_key),
            now=now,
            member_id=member_id,
            idempotency_key=idempotency_key,
        )
        return f"{_REFERENCE}{issued.card.id}"

    async def cancel(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        *,
        reference: str,
        module_settings: Mapping[str, BaseModel],
        idempotency_key: str,
        actor: str,
        now: datetime,
    ) -> None:
        card_id = parse_id(reference.removeprefix(_REFERENCE))
        if not reference.startswith(_REFERENCE) or card_id is None:
            raise ValueError(f"not a gift card: {reference}")
        card = await repo.lock_card(conn, tenant_id, card_id)
        moved = {
            event.kind for event in (await repo.events_of(conn, tenant_id, [card_id]))[card_id]
        }
        if card.status is not CardStatus.ACTIVE or moved - _UNTOUCHED:
            raise ValueError("the gift card was already used or closed; it cannot be taken back")
        await service.cancel(
            conn,
            tenant_id,
            card_id,
            actor=service.Actor(actor, "reward", idempotency_key),
            now=now,
        )


def _settings(module_settings: Mapping[str, BaseModel]) -> GiftCardSettings:
    settings = module_settings.get(NAME)
    if not isinstance(settings, GiftCardSettings):  # rewards offers the kind only when enabled
        raise RuntimeError("the GIFT_CARD reward needs the gift card settings")
    return settings


__all__ = ["KIND", "GiftCardReward"]
