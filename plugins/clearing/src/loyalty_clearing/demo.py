"""How clearing shows itself in ``loyalty demo``: the Berlin coffee-and-books programme has
become a small neighbourhood coalition, with last month already settled.

A bakery issues and accepts the points, a petrol station takes them as payment, a cinema
too, and a bicycle shop issues from a prepaid block; each has a rate card from the start of
last month and a key for its tills. Last month the bakery's till sent two purchases, the
bicycle shop's one (drawn from its block), the petrol station's till took points for fuel
and the cinema's for a ticket, all through the partners' own keys, so clearing priced them
as it prices any touchpoint's; the bakery got a welcome credit as an adjustment with a
reason. Then the operator closed last month: every partner has a statement at once. This
month the bakery has sold once more, an open line of the next statement. Mia's points are
untouched (the demo prints her credentials; her balance is the programme's own history).
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from decimal import Decimal

from loyalty_core.sdk import DemoContext, DemoSeed, Scope, events, ledger, tenants

from loyalty_clearing import service, settlement
from loyalty_clearing.models import Billing, Contact, PartnerRole
from loyalty_clearing.settings import ClearingSettings, PeriodLength

_TILL_SCOPES = [Scope.EVENTS_WRITE.value, Scope.MEMBERS_READ.value, Scope.POINTS_REDEEM.value]
_SETTINGS = ClearingSettings(period=PeriodLength.MONTHLY)
BAKERY = "Kiezbäckerei Schmidt"
PETROL = "Tankstelle am Südstern"
CINEMA = "Spree-Kino"
BIKES = "Fahrradladen Kreuzberg"


async def seed(demo: DemoContext) -> None:
    zone = tenants.zone_of(demo.tenant)
    local = demo.now.astimezone(zone)
    month_start = datetime.combine(local.date().replace(day=1), time(), tzinfo=zone)
    last_month = datetime.combine(
        (month_start.date() - timedelta(days=1)).replace(day=1), time(), tzinfo=zone
    )
    partners = (
        (BAKERY, [PartnerRole.ISSUER, PartnerRole.ACCEPTOR], Billing.POSTPAID,
         Contact("Anna Schmidt", "buchhaltung@kiezbaeckerei.example", None, "accounting")),
        (PETROL, [PartnerRole.ACCEPTOR], Billing.POSTPAID,
         Contact("Deniz Arslan", "kasse@tankstelle-suedstern.example", None, "station manager")),
        (CINEMA, [PartnerRole.ACCEPTOR], Billing.POSTPAID,
         Contact("Jonas Weber", "kasse@spreekino.example", None, "box office")),
        (BIKES, [PartnerRole.ISSUER], Billing.PREPAID,
         Contact("Selin Kaya", "selin@rad-kreuzberg.example", None, "owner")),
    )  # fmt: skip
    tills: dict[str, str] = {}
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
        key = await service.create_partner_key(
            demo.conn,
            demo.tenant.id,
            partner.id,
            name=f"{name} till",
            scopes=_TILL_SCOPES,
            actor=demo.actor,
        )
        tills[name] = f"touchpoint:{key.api_key.id}"
        await service.set_rate_card(
            demo.conn,
            demo.tenant.id,
            partner.id,
            service.RateCardDraft(
                asset_code=ledger.DEFAULT_ASSET_CODE,
                currency=None,
                effective_from=last_month,
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
                now=last_month + timedelta(days=1, hours=10),
            )
        if name == BAKERY:
            await settlement.adjust(
                demo.conn, demo.tenant.id, _SETTINGS, zone, partner.id, amount=2_500,
                reason="welcome credit: first month's signage", idempotency_key="demo-welcome",
                day=last_month.date(), actor=demo.actor, now=demo.now,
            )  # fmt: skip

    lukas, emma, noah = (m.id for m in demo.members[1:4])
    sales = (
        (BAKERY, lukas, 4, 2_460, "bakery-0001"),
        (BAKERY, emma, 11, 1_890, "bakery-0002"),
        (BIKES, noah, 16, 34_900, "bikes-0001"),
    )
    for name, member_id, day, amount, external_id in sales:
        at = last_month + timedelta(days=day, hours=9)
        await _sale(demo, tills[name], member_id, at, amount, external_id)
    redemptions = (
        (PETROL, noah, 20, 150, "fuel paid with points"),
        (CINEMA, lukas, 23, 20, "a film ticket paid with points"),
    )
    for name, member_id, day, points, reason in redemptions:
        at = last_month + timedelta(days=day, hours=18)
        await _redeem(demo, tills[name], member_id, at, points, reason)
    await settlement.close(
        demo.conn, demo.tenant.id, _SETTINGS, zone, last_month.date(), actor=demo.actor,
        now=demo.now,
    )  # fmt: skip
    if local - month_start > timedelta(hours=8):  # this month's first sale, once it has begun
        when = month_start + (local - month_start) / 2
        await _sale(demo, tills[BAKERY], emma, when, 1_240, "bakery-0003")


async def _sale(
    demo: DemoContext,
    till: str,
    member_id: uuid.UUID,
    at: datetime,
    amount: int,
    external_id: str,
) -> None:
    """A purchase sent by a partner's till (its key's actor)."""
    event = events.EventInput(
        type=events.PURCHASE,
        source="partner-till",
        external_id=external_id,
        member_id=member_id,
        occurred_at=at,
        payload={"amount": amount, "currency": "EUR", "store": external_id.split("-")[0]},
    )
    await demo.ingest_as(event, till)


async def _redeem(
    demo: DemoContext, till: str, member_id: uuid.UUID, at: datetime, points: int, reason: str
) -> None:
    """Points paid at an acceptor's till: a spend by its key, which the SDK announces, so
    the acceptor is reimbursed as for any redemption."""
    asset = await ledger.get_asset(demo.conn, demo.tenant.id, ledger.DEFAULT_ASSET_CODE)
    assert asset is not None, "every tenant has its points asset"
    await ledger.spend(
        demo.conn,
        ledger.Posting(
            tenant_id=demo.tenant.id,
            idempotency_key=f"demo:partner-redeem:{till}",
            reason=reason,
            cause=ledger.Cause(kind="redemption", id=till),
            actor=till,
            now=at,
        ),
        member_id=member_id,
        asset=asset,
        amount=points,
    )


DEMO = DemoSeed(settings={"period": "monthly"}, seed=seed)

__all__ = ["DEMO", "seed"]
