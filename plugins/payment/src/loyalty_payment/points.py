"""The ``POINTS`` tender: a member's points pay at the value the tenant set per currency.

Points are held on the member's available account (a core ledger hold), captured as a
spend (first-expiring lots first) and refunded with ``give_back``, which returns them with
the expiry of the lots they were spent from. Money turns into whole points by the tenant's
rounding rule (``conversion``); a tender that pays anything gives at least one point.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from loyalty_core.sdk import Conflict, ErrorCode, NotFound, ValidationFailed, ledger, members
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_payment.conversion import money_for, points_for
from loyalty_payment.settings import PaymentSettings, Rounding
from loyalty_payment.tenders import Held, Moved, TenderCall, TenderPart

POINTS = "POINTS"


class PointsTender:
    """The payment module's own tender provider."""

    tender = POINTS

    async def identify(self, call: TenderCall, credentials: Mapping[str, str]) -> str:
        """The asset (``points`` unless the tender names another) the member pays with."""
        if call.member_id is None:
            raise ValidationFailed("paying with points needs a member", field="memberId")
        asset = credentials.get("asset") or "points"
        if _settings(call).point_value(asset, call.currency) is None:
            raise ValidationFailed(
                f"{asset} cannot pay in {call.currency}: no point value is set", field="tenders"
            )
        return asset

    async def available(self, conn: AsyncConnection, call: TenderCall, instrument: str) -> int:
        member_id = _member(call)
        await members.require_active(conn, call.tenant_id, member_id)
        asset = await _asset(conn, call, instrument)
        account = await ledger.member_account(
            conn, call.tenant_id, member_id, asset, ledger.Purpose.AVAILABLE
        )
        funds = await ledger.lock_account(conn, call.tenant_id, account)
        value, rounding = _rate(call, instrument)
        return money_for(funds.available, value, rounding)

    async def hold(
        self,
        conn: AsyncConnection,
        call: TenderCall,
        instrument: str,
        amount: int,
        expires_at: datetime,
    ) -> Held:
        asset = await _asset(conn, call, instrument)
        points = _points(call, instrument, amount)
        account = await ledger.member_account(
            conn, call.tenant_id, _member(call), asset, ledger.Purpose.AVAILABLE
        )
        hold = await ledger.place_hold(
            conn,
            _posting(call, "points held for a payment"),
            account_id=account,
            asset=asset,
            amount=points,
            expires_at=expires_at,
        )
        return Held(hold.id, points, f"{points} {asset.code}")

    async def capture(
        self, conn: AsyncConnection, call: TenderCall, part: TenderPart, amount: int
    ) -> Moved:
        if amount == 0:
            await self.release(conn, call, part)
            return Moved(None, 0)
        points = part.held_units
        if amount < part.held:
            points = min(points, _points(call, part.instrument, amount))
        asset = await _asset(conn, call, part.instrument)

        async def spend() -> ledger.Posted:
            return await ledger.spend(
                conn,
                _posting(call, "points paid for a purchase"),
                member_id=_member(call),
                asset=asset,
                amount=points,
                details={"payment": str(call.payment_id)},
            )

        captured = await ledger.capture_hold(
            conn, call.tenant_id, part.hold_id, now=call.now, debit=spend
        )
        if captured is None:
            raise Conflict("the points are not held any more", code=ErrorCode.INVALID_PAYMENT_STATE)
        return Moved(captured[1].transaction.id, points)

    async def release(self, conn: AsyncConnection, call: TenderCall, part: TenderPart) -> None:
        await ledger.release_hold(conn, call.tenant_id, part.hold_id, now=call.now)

    async def refund(
        self, conn: AsyncConnection, call: TenderCall, part: TenderPart, amount: int
    ) -> Moved:
        """Points back pro rata to the money refunded; all of them once all of it is."""
        after = part.refunded + amount
        units_after = part.captured_units
        if after < part.captured:
            units_after = min(units_after, points_for(after, *_rate(call, part.instrument)))
        units = units_after - part.refunded_units
        if units <= 0 or part.capture_transaction_id is None:
            return Moved(None, 0)
        original = await ledger.get_transaction(conn, call.tenant_id, part.capture_transaction_id)
        if original is None:  # pragma: no cover - the capture is in the same tenant's ledger
            raise NotFound("the captured transaction is missing", field="paymentId")
        posted = await ledger.give_back(
            conn,
            _posting(call, "points refunded with a returned purchase"),
            original=original,
            member_id=_member(call),
            asset=await _asset(conn, call, part.instrument),
            amount=units,
            details={"payment": str(call.payment_id)},
        )
        return Moved(posted.transaction.id, units)


def _settings(call: TenderCall) -> PaymentSettings:
    assert isinstance(call.settings, PaymentSettings)
    return call.settings


def _rate(call: TenderCall, asset: str) -> tuple[Decimal, Rounding]:
    settings = _settings(call)
    value = settings.point_value(asset, call.currency)
    if value is None:
        raise ValidationFailed(f"{asset} cannot pay in {call.currency}", field="tenders")
    return value, settings.rounding


def _points(call: TenderCall, asset: str, amount: int) -> int:
    """The points that pay ``amount``: at least one (a tender that pays gives something)."""
    return max(1, points_for(amount, *_rate(call, asset)))


def _member(call: TenderCall) -> uuid.UUID:
    if call.member_id is None:
        raise ValidationFailed("paying with points needs a member", field="memberId")
    return call.member_id


async def _asset(conn: AsyncConnection, call: TenderCall, code: str) -> ledger.Asset:
    asset = await ledger.get_asset(conn, call.tenant_id, code)
    if asset is None or asset.kind is not ledger.AssetKind.POINTS:
        raise NotFound(f"no points asset {code!r}", field="tenders")
    return asset


def _posting(call: TenderCall, reason: str) -> ledger.Posting:
    return ledger.Posting(
        tenant_id=call.tenant_id,
        idempotency_key=call.key,
        reason=reason,
        cause=ledger.Cause(kind="payment", id=str(call.payment_id)),
        actor=call.actor,
        now=call.now,
    )


__all__ = ["POINTS", "PointsTender"]
