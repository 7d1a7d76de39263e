"""Partner offers' part of privacy requests (``loyalty_member_data()``).

Export: the member's activations (which offer, when, the terms it holds, how often used),
its rewards (offer, purchase, points, what refunds took back) and the partners it bought
with first. Erasure: the activations and first purchases are deleted (they describe what
the person chose and where it shops); the rewards stay as history keyed by ids, since the
ledger's transactions and partners' statements depend on them. The module holds no text
about the person; the core forfeits the points.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loyalty_core.sdk import MemberData, MemberDataContext
from sqlalchemy import delete, select

from loyalty_partner_offers.tables import activations, customers, redemptions


async def export_member(ctx: MemberDataContext) -> Mapping[str, Any]:
    conn, tenant_id, member_id = ctx.conn, ctx.tenant_id, ctx.member_id
    activated = await conn.execute(
        select(activations)
        .where(activations.c.tenant_id == tenant_id, activations.c.member_id == member_id)
        .order_by(activations.c.id)
    )
    rewarded = await conn.execute(
        select(redemptions)
        .where(redemptions.c.tenant_id == tenant_id, redemptions.c.member_id == member_id)
        .order_by(redemptions.c.id)
    )
    firsts = await conn.execute(
        select(customers.c.partner_id, customers.c.first_event_id).where(
            customers.c.tenant_id == tenant_id, customers.c.member_id == member_id
        )
    )
    return {
        "activations": [
            {
                "offerId": a.offer_id,
                "state": a.state,
                "terms": a.terms,
                "activatedAt": a.activated_at,
                "endsAt": a.ends_at,
                "redeemed": a.redeemed,
            }
            for a in activated
        ],
        "rewards": [
            {
                "offerId": r.offer_id,
                "eventId": r.event_id,
                "points": r.points,
                "reversed": r.reversed,
                "transactionId": r.transaction_id,
                "occurredAt": r.occurred_at,
            }
            for r in rewarded
        ],
        "firstPurchases": [{"funder": f.partner_id, "eventId": f.first_event_id} for f in firsts],
    }


async def erase_member(ctx: MemberDataContext) -> int:
    conn, tenant_id, member_id = ctx.conn, ctx.tenant_id, ctx.member_id
    dropped = await conn.execute(
        delete(activations).where(
            activations.c.tenant_id == tenant_id, activations.c.member_id == member_id
        )
    )
    firsts = await conn.execute(
        delete(customers).where(
            customers.c.tenant_id == tenant_id, customers.c.member_id == member_id
        )
    )
    return int(dropped.rowcount or 0) + int(firsts.rowcount or 0)


MEMBER_DATA = MemberData(export=export_member, erase=erase_member)

__all__ = ["MEMBER_DATA", "erase_member", "export_member"]
