"""The demo: a Berlin coffee-and-books shop's catalogue (one reward for regulars only), and a
member who redeemed from it."""

from __future__ import annotations

from loyalty_core.sdk import DemoContext, LoyaltyError

from loyalty_rewards import catalogue, redemptions
from loyalty_rewards.models import RewardText
from loyalty_rewards.settings import RewardSettings

CATALOGUE = (
    catalogue.Draft(
        name="Free filter coffee",
        kind="VOUCHER",
        points=100,
        cancel_window_minutes=60,
        texts=(
            RewardText("de-DE", "Gratis Filterkaffee", "Ein Filterkaffee aufs Haus."),
            RewardText("en", "Free filter coffee", "A filter coffee on the house."),
        ),
        params={"discount": "item", "item_sku": "FILTER-COFFEE", "max_uses": 1, "valid_days": 30},
    ),
    catalogue.Draft(
        name="5 EUR off books",
        kind="VOUCHER",
        points=400,
        member_limit=1,
        member_limit_days=30,
        params={"discount": "amount", "amount": 500, "currency": "EUR", "min_basket": 2000},
    ),
    catalogue.Draft(
        name="Free delivery for a month",
        kind="ENTITLEMENT",
        points=300,
        params={"name": "free_delivery", "days": 30},
    ),
    catalogue.Draft(
        name="Regulars: a free cinnamon bun",
        kind="VOUCHER",
        points=150,
        segment="member.purchaseCount >= 3",
        texts=(
            RewardText("de-DE", "Für Stammgäste: eine Zimtschnecke", "Ab dem dritten Einkauf."),
            RewardText("en", "For regulars: a cinnamon bun", "From your third purchase on."),
        ),
        params={"discount": "item", "item_sku": "CINNAMON-BUN", "max_uses": 1, "valid_days": 14},
    ),
    catalogue.Draft(
        name="Kreuzberg tote bag",
        kind="PHYSICAL",
        points=800,
        stock=50,
        cancel_window_minutes=1_440,
    ),
)


async def seed(demo: DemoContext) -> None:
    """The catalogue, then the first member able to afford it redeems a free coffee."""
    made = [
        await catalogue.create(demo.conn, demo.tenant.id, draft, module_kinds={}, now=demo.now)
        for draft in CATALOGUE
    ]
    issuing = redemptions.Issuing(settings=RewardSettings(), module_kinds={}, module_settings={})
    for member in demo.members:
        try:
            async with demo.conn.begin_nested():
                await redemptions.redeem(
                    demo.conn,
                    demo.tenant.id,
                    issuing,
                    made[0].id,
                    member_id=member.id,
                    idempotency_key=f"demo:coffee:{member.id}",
                    actor=demo.actor,
                    cause="member",
                    now=demo.now,
                )
            return
        except LoyaltyError:  # not enough points yet: the next member
            continue


__all__ = ["CATALOGUE", "seed"]
