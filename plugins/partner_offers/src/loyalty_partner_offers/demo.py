"""How partner offers show themselves in ``loyalty demo``: the Berlin coffee-and-books
retailer runs its own offers (funded by itself, so they work with or without clearing):
double points on Tuesdays and a welcome bonus on a first purchase for those who activate
them, and three points per euro on coffee beans for everyone. Lukas clipped the Tuesday
offer, and Emma's bag of beans earned the bean bonus.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from loyalty_core.sdk import DemoContext, DemoSeed, events

from loyalty_partner_offers import catalogue, members
from loyalty_partner_offers.models import Activation, Requirements, RewardKind, Terms

BEANS = "coffee-beans"


async def seed(demo: DemoContext) -> None:
    tenant_id = demo.tenant.id
    start, end = demo.now - timedelta(days=1), demo.now + timedelta(days=30)
    offers = (
        ("Double points on Tuesdays", Activation.CLIP,
         Terms(RewardKind.MULTIPLIER, Decimal(2), Requirements(weekdays=(2,)), per_member_limit=4),
         "Activate it, then every Tuesday this month earns twice the points."),
        ("Coffee beans: 3 points per euro", Activation.AUTO,
         Terms(RewardKind.PER_UNIT, Decimal(3), Requirements(categories=(BEANS,)),
               per_member_limit=10),
         "On every bag of beans from our roastery, on top of the usual points."),
        ("Welcome: 50 points on your first purchase", Activation.CLIP,
         Terms(RewardKind.FIXED, Decimal(50), Requirements(first_purchase=True)),
         "Activate it before your first purchase at our tills."),
    )  # fmt: skip
    created = []
    for title, activation, terms, text in offers:
        draft = catalogue.Draft(
            title=title,
            starts_at=start,
            ends_at=end,
            terms=terms,
            activation=activation,
            description=text,
            terms_text="The retailer's own offer. Points are credited with the purchase.",
            budget=5_000,
        )
        created.append(
            await catalogue.create(
                demo.conn, tenant_id, draft, partner_id=None, external_id=None, actor=demo.actor
            )
        )
    if len(demo.members) > 1:
        await members.activate(demo.conn, tenant_id, created[0].id, demo.members[1].id, demo.now)
    if len(demo.members) > 2:
        await demo.ingest(
            events.EventInput(
                type=events.PURCHASE,
                source="till-kreuzberg",
                external_id="offers-demo-beans",
                member_id=demo.members[2].id,
                occurred_at=demo.now,
                payload={
                    "amount": 1_490,
                    "currency": "EUR",
                    "store": "kreuzberg",
                    "items": [
                        {"sku": "ROAST-1KG", "quantity": 1, "unitPrice": 1_490,
                         "name": "Kreuzberg roast, 1 kg", "category": BEANS},
                    ],
                },
            )
        )  # fmt: skip


DEMO = DemoSeed(settings={}, seed=seed)

__all__ = ["DEMO", "seed"]
