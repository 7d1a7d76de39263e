"""How gift cards show in ``loyalty demo``: the shop sells cards in euros. The member whose
credentials the demo prints got one for her birthday and has spent part of it at the café
(so ``Member.giftCards`` shows a card with history), another member holds a fresh one, and a
card sold anonymously at the till waits for whoever got it as a present."""

from __future__ import annotations

from datetime import timedelta

from loyalty_core.sdk import DemoContext

from loyalty_giftcards import service
from loyalty_giftcards.settings import GiftCardSettings

CURRENCY = "EUR"
BIRTHDAY_CARD = 5_000
"""Cents loaded on the first member's birthday card."""
CAFE_SPEND = 1_280
"""Cents she has spent of it: two flat whites and a croissant."""
CARDS = ((1, 2_500), (None, 3_000))
"""(member index or None for a card sold at the till, cents) of the other cards."""


async def seed(demo: DemoContext) -> None:
    settings = GiftCardSettings(currencies=[CURRENCY])
    actor = service.Actor(demo.actor)
    if demo.members:
        birthday = await service.issue(
            demo.conn,
            demo.tenant.id,
            settings,
            currency=CURRENCY,
            amount=BIRTHDAY_CARD,
            actor=actor,
            now=demo.now - timedelta(days=12),
            member_id=demo.members[0].id,
            idempotency_key="demo-birthday-card",
        )
        await service.redeem(
            demo.conn,
            demo.tenant.id,
            settings,
            birthday.card.id,
            amount=CAFE_SPEND,
            idempotency_key="demo-birthday-card-cafe",
            actor=actor,
            now=demo.now - timedelta(days=3),
        )
    for index, amount in CARDS:
        holder = None if index is None or index >= len(demo.members) else demo.members[index]
        await service.issue(
            demo.conn,
            demo.tenant.id,
            settings,
            currency=CURRENCY,
            amount=amount,
            actor=actor,
            now=demo.now - timedelta(days=1),
            member_id=None if holder is None else holder.id,
            idempotency_key=f"demo-card-{index}",
        )
