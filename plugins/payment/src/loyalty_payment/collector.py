"""The payment module as the rewards module's money collector (``loyalty_rewards_collectors``).

A points-plus-money reward is redeemed at a till that collected its money as a payment: the
redemption names the payment's id, and :class:`PaymentCollector` attests it in the
redemption's transaction. Implemented through the hook's names only: payments load without
the rewards module, and rewards never imports this one.
"""

from __future__ import annotations

import uuid

from loyalty_core.sdk import ErrorCode, LoyaltyError, NotFound, parse_id
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_payment import repository as repo
from loyalty_payment.models import PaymentStatus

FIELD = "paymentReference"


class PaymentCollector:
    """Attests that a payment paid a reward's money: the member's own (or an anonymous
    one's), CAPTURED, in the reward's currency and for at least its amount. The payment row
    stays locked until the redemption's transaction ends, as every payment operation locks
    it first, so a redemption and a refund of the payment do not interleave."""

    name = "payment"

    async def collected(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        reference: str,
        *,
        amount: int,
        currency: str,
        member_id: uuid.UUID,
    ) -> None:
        payment_id = parse_id(reference)
        payment = (
            None
            if payment_id is None
            else await repo.get_payment(conn, tenant_id, payment_id, lock=True)
        )
        if payment is None or payment.member_id not in (None, member_id):
            raise NotFound("payment not found", field=FIELD)
        if payment.status is not PaymentStatus.CAPTURED:
            raise LoyaltyError(
                f"the payment is {payment.status.value}: only a captured payment pays a reward",
                code=ErrorCode.INVALID_PAYMENT_STATE,
                field=FIELD,
            )
        if payment.currency != currency or payment.amount < amount:
            raise LoyaltyError(
                f"the payment collected {payment.amount} {payment.currency}; the reward "
                f"costs {amount} {currency}",
                code=ErrorCode.INVALID_INPUT,
                field=FIELD,
            )


__all__ = ["PaymentCollector"]
