"""A member's payments in privacy requests.

Export: every payment of the member with its tenders and timeline. Erasure: payments are
financial records and stay (they name the member only by id, and the core blanks the
member); what an open authorisation still holds is released first, so the core can forfeit
the member's points to breakage (held points could not be forfeited).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from loyalty_core.sdk import MemberData, MemberDataContext, ledger

from loyalty_payment import repository as repo
from loyalty_payment.models import OperationKind, PaymentStatus

_ALL = 1_000_000


async def export_member(ctx: MemberDataContext) -> Mapping[str, Any]:
    found = (await repo.recent_payments_of(ctx.conn, ctx.tenant_id, [ctx.member_id], _ALL))[
        ctx.member_id
    ]
    timelines = await repo.operations_of(ctx.conn, ctx.tenant_id, [p.id for p in found])
    return {
        "payments": [
            {**asdict(payment), "timeline": [asdict(o) for o in timelines[payment.id]]}
            for payment in found
        ]
    }


async def erase_member(ctx: MemberDataContext) -> int:
    """Void the member's open authorisations (their holds are released); how many."""
    found = (await repo.recent_payments_of(ctx.conn, ctx.tenant_id, [ctx.member_id], _ALL))[
        ctx.member_id
    ]
    voided = 0
    for payment in found:
        if payment.status is not PaymentStatus.AUTHORIZED:
            continue
        locked = await repo.get_payment(ctx.conn, ctx.tenant_id, payment.id, lock=True)
        if locked is None or locked.status is not PaymentStatus.AUTHORIZED:
            continue
        for tender in locked.tenders:
            await ledger.release_hold(ctx.conn, ctx.tenant_id, tender.hold_id, now=ctx.now)
        await repo.update_payment(
            ctx.conn,
            ctx.tenant_id,
            payment.id,
            status=PaymentStatus.VOIDED.value,
            updated_at=ctx.now,
        )
        await repo.insert_operation(
            ctx.conn,
            ctx.tenant_id,
            payment.id,
            kind=OperationKind.VOID,
            amount=locked.held,
            actor=ctx.actor,
            now=ctx.now,
            parts=[],
        )
        voided += 1
    return voided


MEMBER_DATA = MemberData(export=export_member, erase=erase_member)

__all__ = ["MEMBER_DATA"]
