"""How partner offers show themselves in ``loyalty demo``: the Berlin coffee-and-books
retailer runs its own offers (funded by itself, so they work with or without clearing):
double points on Tuesdays and a welcome bonus on a first purchase for those who activate
them, and three points per euro on coffee beans for everyone. Lukas clipped the Tuesday
offer, and Emma's bag of beans earned the bean bonus.

When the coalition is there too (clearing's demo, seeded before this one), its bakery,
Kiezbäckerei Schmidt, funds two offers in the shop's café: 100 points on a breakfast of 8
EUR or more for members who activate it (Mia and Lukas did; Lukas had breakfast), and 2
points per euro on cakes for everyone (Noah's cheesecake earned them). The bakery is
charged for them at its rate card, so its open statement and ``offerPerformance`` show the
points and the money it owes.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from loyalty_core.sdk import DemoContext, DemoSeed, events

from loyalty_partner_offers import catalogue, members
from loyalty_partner_offers.models import Activation, Requirements, RewardKind, Terms
from loyalty_partner_offers.partners import directories, partner_named

BEANS = "coffee-beans"
CAKES = "cakes"
BAKERY = "Kiezbäckerei Schmidt"
"""The clearing demo's issuing partner that funds the café's offers."""


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

    await _bakery(demo)


async def _bakery(demo: DemoContext) -> None:
    """The bakery's offers, where the demo tenant has the coalition (else nothing)."""
    tenant_id = demo.tenant.id
    found = directories(demo.registry, demo.enabled_modules)
    bakery = await partner_named(demo.conn, tenant_id, found, BAKERY)
    if bakery is None or len(demo.members) < 4:
        return
    start, end = demo.now - timedelta(days=1), demo.now + timedelta(days=30)
    offers = (
        ("Kiezbäckerei breakfast: 100 extra points", Activation.CLIP,
         Terms(RewardKind.FIXED, Decimal(100), Requirements(minimum_spend=800)),
         "Activate it, then have breakfast in our café for 8 EUR or more: the bakery adds "
         "100 points."),
        ("Kiezbäckerei cakes: 2 points per euro", Activation.AUTO,
         Terms(RewardKind.PER_UNIT, Decimal(2), Requirements(categories=(CAKES,)),
               per_member_limit=20),
         "On every cake from the Kiezbäckerei in our café, on top of the usual points."),
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
            terms_text="Funded by Kiezbäckerei Schmidt, a partner of the programme.",
            budget=2_000,
            daily_cap=200,
        )
        created.append(
            await catalogue.create(
                demo.conn, tenant_id, draft, partner_id=bakery, external_id=None, actor=demo.actor
            )
        )
    mia, lukas, _, noah = (m.id for m in demo.members[:4])
    for member_id in (mia, lukas):
        await members.activate(demo.conn, tenant_id, created[0].id, member_id, demo.now)
    baskets = (
        (lukas, "offers-demo-breakfast", 940, [
            {"sku": "BRUNCH-2", "quantity": 1, "unitPrice": 940, "name": "Breakfast for two",
             "category": "breakfast"}]),
        (noah, "offers-demo-cake", 1_180, [
            {"sku": "CAKE-CHEESE", "quantity": 2, "unitPrice": 420, "name": "Cheesecake",
             "category": CAKES},
            {"sku": "FLAT-WHITE", "quantity": 1, "unitPrice": 340, "name": "Flat white",
             "category": "coffee"}]),
    )  # fmt: skip
    for member_id, external_id, amount, items in baskets:
        await demo.ingest(
            events.EventInput(
                type=events.PURCHASE,
                source="till-kreuzberg",
                external_id=external_id,
                member_id=member_id,
                occurred_at=demo.now,
                payload={"amount": amount, "currency": "EUR", "store": "kreuzberg",
                         "items": items},
            )
        )  # fmt: skip


DEMO = DemoSeed(settings={}, seed=seed)

__all__ = ["DEMO", "seed"]
