"""A member's payments in privacy requests.

Export: every payment of the member with its tenders and timeline. Erasure: payments are
financial records and stay (they name the member only by id, and the core blanks the
member; order references and idempotency keys are the till's, kept for its books). Open
authorisations are voided first, through their tenders as a till's ``paymentVoid`` would
(each tender releases its hold its own way: a gift card logs ``RELEASED``, the void records
its parts), so the core can forfeit the member's points to breakage (held points could not
be forfeited); one whose time is up is expired, as the expiry job would.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from loyalty_core.sdk import MemberData, MemberDataContext

from loyalty_payment import offers, service
from loyalty_payment import repository as repo
from loyalty_payment.models import PaymentStatus
from loyalty_payment.settings import PaymentSettings

NAME = "payment"
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
    """Void (or expire, if due) the member's open authorisations; how many."""
    found = (await repo.recent_payments_of(ctx.conn, ctx.tenant_id, [ctx.member_id], _ALL))[
        ctx.member_id
    ]
    open_payments = [p for p in found if p.status is PaymentStatus.AUTHORIZED]
    if not open_payments:
        return 0
    till = _till(ctx)
    closed = 0
    for payment in open_payments:
        if payment.expires_at <= ctx.now:
            closed += await service.expire(ctx.conn, till, payment.id) is not None
        else:
            await service.void(ctx.conn, till, payment.id)
            closed += 1
    return closed


def _till(ctx: MemberDataContext) -> service.Till:
    """The till an erasure closes payments with: the tenant's tenders and settings (a
    disabled module's defaults, to close what is still open)."""
    assert ctx.database is not None, "the core's erasure passes the database"
    assert ctx.registry is not None, "the core's erasure passes the registry"
    settings = ctx.enabled_modules.get(NAME)
    if not isinstance(settings, PaymentSettings):
        settings = PaymentSettings.model_construct()
    return offers.till(
        database=ctx.database,
        registry=ctx.registry,
        enabled_modules=ctx.enabled_modules,
        tenant_id=ctx.tenant_id,
        settings=settings,
        actor=ctx.actor,
        now=ctx.now,
    )


MEMBER_DATA = MemberData(export=export_member, erase=erase_member)

__all__ = ["MEMBER_DATA"]
