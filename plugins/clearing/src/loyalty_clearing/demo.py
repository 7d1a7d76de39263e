"""How clearing shows itself in ``loyalty demo``: the Berlin coffee-and-books programme has
become a small neighbourhood coalition. A bakery issues and accepts its points, a cinema
takes them as payment, and a bicycle shop issues from a prepaid block; each has a rate card
from the start of the month and a key for its tills. The bakery's opening fee credit is an
adjustment with a reason, as an operator would record it.
"""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

from loyalty_core.sdk import DemoContext, DemoSeed, Scope, ledger, tenants

from loyalty_clearing import service, settlement
from loyalty_clearing.models import Billing, Contact, PartnerRole
from loyalty_clearing.settings import ClearingSettings, PeriodLength

_TILL_SCOPES = [Scope.EVENTS_WRITE.value, Scope.MEMBERS_READ.value, Scope.POINTS_REDEEM.value]


async def seed(demo: DemoContext) -> None:
    zone = tenants.zone_of(demo.tenant)
    local = demo.now.astimezone(zone)
    month_start = datetime.combine(local.date().replace(day=1), time(), tzinfo=zone)
    partners = (
        ("Kiezbäckerei Schmidt", [PartnerRole.ISSUER, PartnerRole.ACCEPTOR], Billing.POSTPAID,
         Contact("Anna Schmidt", "buchhaltung@kiezbaeckerei.example", None, "accounting")),
        ("Spree-Kino", [PartnerRole.ACCEPTOR], Billing.POSTPAID,
         Contact("Jonas Weber", "kasse@spreekino.example", None, "box office")),
        ("Fahrradladen Kreuzberg", [PartnerRole.ISSUER], Billing.PREPAID,
         Contact("Selin Kaya", "selin@rad-kreuzberg.example", None, "owner")),
    )  # fmt: skip
    for name, roles, billing, contact in partners:
        partner = await service.create_partner(
            demo.conn,
            demo.tenant.id,
            service.PartnerDraft(
                name=name,
                roles=roles,
                currency="EUR",
                billing=billing,
                contacts=[contact],
                reorder_threshold=2_000 if billing is Billing.PREPAID else None,
            ),
            actor=demo.actor,
        )
        await service.create_partner_key(
            demo.conn,
            demo.tenant.id,
            partner.id,
            name=f"{name} till",
            scopes=_TILL_SCOPES,
            actor=demo.actor,
        )
        await service.set_rate_card(
            demo.conn,
            demo.tenant.id,
            partner.id,
            service.RateCardDraft(
                asset_code=ledger.DEFAULT_ASSET_CODE,
                currency=None,
                effective_from=month_start,
                issue_price=Decimal("0.0100"),
                redeem_reimbursement=Decimal("0.0090"),
                fee_percent=Decimal("0.5"),
                fee_fixed=500 if PartnerRole.ISSUER in roles else 0,
            ),
            actor=demo.actor,
            closed_until=None,
        )
        if billing is Billing.PREPAID:
            await service.purchase_block(
                demo.conn,
                demo.tenant.id,
                partner.id,
                asset_code=ledger.DEFAULT_ASSET_CODE,
                points=10_000,
                price=9_500,
                expires_at=None,
                idempotency_key="demo-first-block",
                actor=demo.actor,
                now=demo.now,
            )
        if name.startswith("Kiezbäckerei"):
            await settlement.adjust(
                demo.conn, demo.tenant.id, ClearingSettings(period=PeriodLength.MONTHLY), zone,
                partner.id, amount=2_500, reason="welcome credit: first month's signage",
                idempotency_key="demo-welcome", day=None, actor=demo.actor, now=demo.now,
            )  # fmt: skip


DEMO = DemoSeed(settings={"period": "monthly"}, seed=seed)

__all__ = ["DEMO", "seed"]
