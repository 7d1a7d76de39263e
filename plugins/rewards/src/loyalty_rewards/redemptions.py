"""Redemption: points in, a voucher, entitlement, parcel or module's item out, in one
transaction; and its cancellation within the reward's window.

The order of a redemption, and the race each step wins:

1. **Claim the idempotency key**: the redemption row is inserted first, ``ON CONFLICT DO
   NOTHING``. A concurrent request with the same key waits on the unique index until the
   first commits, then replays its answer (another request under the key:
   IDEMPOTENCY_CONFLICT); if the first rolled back, the second proceeds.
2. **Lock the member's points account** (``ledger.lock_account``): a member's redemptions
   run one at a time, so the per-member limit counted next is exact.
3. **Take one from stock** with ``UPDATE ... SET stock = stock - 1 WHERE stock > 0``: the
   row lock orders concurrent redemptions, and the ones that find it at zero get
   OUT_OF_STOCK. Never read-then-write.
   A points-plus-money reward needs a module that collects money (the payment module,
   through ``loyalty_rewards_collectors``; MODULE_NOT_ENABLED otherwise) and the reference of
   the till's payment that collected it: the collector checks, holding the payment locked,
   that it is the member's, captured, in the reward's currency and for at least its
   amount, and no other redemption names it (:mod:`loyalty_rewards.collectors`).
4. **Spend the points** with ``ledger.spend`` (first-expiring lots first) under the key
   ``rewards:redeem:<redemption>``: not enough points rolls everything back, stock too.
5. **Issue** what the reward's kind gives, in the same transaction.

Cancelling locks the redemption row (a second cancel waits, then replays), undoes what was
issued (an unused voucher is withdrawn, an entitlement revoked, a parcel not yet shipped
stopped), gives the points back with ``ledger.give_back`` (the lots they came from keep their
expiry) and puts one back in stock.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from loyalty_core.sdk import (
    Conflict,
    ErrorCode,
    LoyaltyError,
    NotFound,
    ValidationFailed,
    fingerprint,
    ledger,
    members,
    new_id,
)
from pydantic import BaseModel
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_rewards import entitlements, kinds, vouchers
from loyalty_rewards import repository as repo
from loyalty_rewards.collectors import MoneyCollector
from loyalty_rewards.keys import tenant_keys
from loyalty_rewards.models import Entitlement, Redeemed, Redemption, Reward, Voucher
from loyalty_rewards.settings import RewardSettings
from loyalty_rewards.tables import redemptions, rewards
from loyalty_rewards.visibility import Audience

FULFILMENT_STEPS = {
    "shipped": ("pending",),
    "delivered": ("shipped",),
    "cancelled": ("pending", "shipped"),
}
"""The fulfilment state a PHYSICAL redemption may move to, from the states it may leave."""


class Unavailable(LoyaltyError):
    code = ErrorCode.REWARD_UNAVAILABLE


class OutOfStock(LoyaltyError):
    code = ErrorCode.OUT_OF_STOCK


class LimitReached(LoyaltyError):
    code = ErrorCode.REWARD_LIMIT_REACHED


class WindowClosed(LoyaltyError):
    code = ErrorCode.CANCEL_WINDOW_CLOSED


class FulfilmentRefused(LoyaltyError):
    code = ErrorCode.INVALID_FULFILMENT_STATE


@dataclass(frozen=True)
class Issuing:
    """What issuing needs beyond the reward: the tenant's settings, the kinds modules offer
    it, every enabled module's settings (handed to a module's kind) and the money
    collectors of the enabled modules."""

    settings: RewardSettings
    module_kinds: Mapping[str, kinds.RewardKind]
    module_settings: Mapping[str, BaseModel]
    collectors: Sequence[MoneyCollector] = ()


async def redeem(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    issuing: Issuing,
    reward_id: uuid.UUID,
    *,
    member_id: uuid.UUID,
    idempotency_key: str,
    actor: str,
    cause: str,
    now: datetime,
    charge: bool = True,
    delivery_address: str | None = None,
    audience: Audience | None = None,
    payment_reference: str | None = None,
) -> Redeemed:
    """Redeem ``reward_id`` for the member (``charge``: for its points; else given by a
    campaign), or replay the redemption the key already made. With ``audience`` (the member
    asking), a reward whose segment does not hold the member is REWARD_UNAVAILABLE."""
    request_hash = fingerprint(
        {
            "reward": str(reward_id),
            "member": str(member_id),
            "charge": charge,
            "payment": payment_reference,
        }
    )
    reward = await repo.get_reward(conn, tenant_id, reward_id)
    if reward is None:
        raise NotFound("reward not found", field="rewardId")
    money = charge and reward.money_amount is not None
    if money:
        _money_asked(reward, issuing, payment_reference)
    redemption_id = new_id()
    claimed = await conn.scalar(
        pg_insert(redemptions)
        .values(
            tenant_id=tenant_id,
            id=redemption_id,
            reward_id=reward_id,
            member_id=member_id,
            status="issued",
            fulfilment="pending" if reward.kind == kinds.PHYSICAL else None,
            points=reward.points if charge else 0,
            asset_code=reward.asset_code,
            money_amount=reward.money_amount if charge else None,
            money_currency=reward.money_currency if charge else None,
            payment_reference=payment_reference if charge else None,
            delivery_address=delivery_address,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            actor=actor[:200],
            cause=cause[:200],
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "idempotency_key"])
        .returning(redemptions.c.id)
    )
    if claimed is None:
        return await _replay(conn, tenant_id, idempotency_key, request_hash)
    await members.require_active(conn, tenant_id, member_id)
    if money:
        assert payment_reference is not None
        await _money_collected(
            conn, tenant_id, reward, issuing, member_id, redemption_id, payment_reference
        )
    asset = await ledger.get_asset(conn, tenant_id, reward.asset_code)
    assert asset is not None  # the catalogue checked it, and assets are never removed
    account = await ledger.member_account(
        conn, tenant_id, member_id, asset, ledger.Purpose.AVAILABLE
    )
    await ledger.lock_account(conn, tenant_id, account)
    reward = await _take_stock(conn, tenant_id, reward_id, charge=charge, now=now)
    if audience is not None and reward.segment and not await audience.visible([reward]):
        raise Unavailable("the reward is not offered to this member", field="rewardId")
    await _within_limit(conn, tenant_id, reward, member_id, redemption_id, now)
    spend = None
    if charge and reward.points > 0:
        posted = await ledger.spend(
            conn,
            _posting(tenant_id, f"rewards:redeem:{redemption_id}", reward, actor, now),
            member_id=member_id,
            asset=asset,
            amount=reward.points,
        )
        spend = posted.transaction.id
    issued = await _issue(
        conn, tenant_id, issuing, reward, member_id, redemption_id, idempotency_key, actor, now
    )
    row = (
        await conn.execute(
            update(redemptions)
            .where(redemptions.c.tenant_id == tenant_id, redemptions.c.id == redemption_id)
            .values(
                spend_transaction_id=spend,
                issued_reference=_reference(issued),
            )
            .returning(redemptions)
        )
    ).one()
    return Redeemed(
        redemption=repo.redemption_from_row(row),
        voucher=issued.voucher,
        code=issued.code,
        entitlement=issued.entitlement,
    )


class ModuleNotEnabled(LoyaltyError):
    code = ErrorCode.MODULE_NOT_ENABLED


def _money_asked(reward: Reward, issuing: Issuing, payment_reference: str | None) -> None:
    """A points-plus-money reward is redeemed by a till that collected the money through a
    module that collects it, naming the payment; refused (writing nothing) otherwise."""
    if not issuing.collectors:
        raise ModuleNotEnabled(
            "this reward costs money besides points, which the payment module collects; "
            "it is not enabled",
            field="rewardId",
        )
    if payment_reference is None:
        raise ValidationFailed(
            f"this reward costs {reward.money_amount} {reward.money_currency} (minor units) "
            "besides the points: a till collects it (paymentAuthorize, paymentCapture) and "
            "redeems with the payment's reference",
            field="paymentReference",
        )


async def _money_collected(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    reward: Reward,
    issuing: Issuing,
    member_id: uuid.UUID,
    redemption_id: uuid.UUID,
    payment_reference: str,
) -> None:
    """The collector attests the payment (and holds it locked), then no other redemption
    may name it: checked after the lock, so of two redemptions naming one payment the
    second sees the first once it committed."""
    assert reward.money_amount is not None
    assert reward.money_currency is not None
    await issuing.collectors[0].collected(
        conn,
        tenant_id,
        payment_reference,
        amount=reward.money_amount,
        currency=reward.money_currency,
        member_id=member_id,
    )
    used = await conn.scalar(
        select(redemptions.c.id)
        .where(
            redemptions.c.tenant_id == tenant_id,
            redemptions.c.payment_reference == payment_reference,
            redemptions.c.id != redemption_id,
        )
        .limit(1)
    )
    if used is not None:
        raise LoyaltyError(
            "this payment paid for another redemption already",
            code=ErrorCode.PAYMENT_ALREADY_USED,
            field="paymentReference",
        )


async def _take_stock(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    reward_id: uuid.UUID,
    *,
    charge: bool,
    now: datetime,
) -> Reward:
    """One off the stock (none taken from an unlimited reward), read with the row lock: the
    reward as it is now, checked for being on offer."""
    row = (
        await conn.execute(
            update(rewards)
            .where(
                rewards.c.tenant_id == tenant_id,
                rewards.c.id == reward_id,
                or_(rewards.c.stock.is_(None), rewards.c.stock > 0),
            )
            .values(stock=rewards.c.stock - 1)
            .returning(rewards)
        )
    ).first()
    if row is None:
        raise OutOfStock("the reward is out of stock", field="rewardId")
    reward = repo.reward_from_row(row)
    if not reward.available_at(now):
        raise Unavailable("the reward is not on offer now", field="rewardId")
    if charge and not reward.redeemable:
        raise Unavailable("the reward is given by campaigns only", field="rewardId")
    return reward


async def _within_limit(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    reward: Reward,
    member_id: uuid.UUID,
    redemption_id: uuid.UUID,
    now: datetime,
) -> None:
    """The member's other live redemptions of the reward (in the limit's period) leave room.
    Exact: the member's points account is locked, so their redemptions run one at a time."""
    if reward.member_limit is None:
        return
    query = select(func.count()).where(
        redemptions.c.tenant_id == tenant_id,
        redemptions.c.member_id == member_id,
        redemptions.c.reward_id == reward.id,
        redemptions.c.status == "issued",
        redemptions.c.id != redemption_id,
    )
    if reward.member_limit_days is not None:
        query = query.where(
            redemptions.c.created_at > now - timedelta(days=reward.member_limit_days)
        )
    if (await conn.scalar(query) or 0) >= reward.member_limit:
        period = "" if reward.member_limit_days is None else f" in {reward.member_limit_days} days"
        raise LimitReached(
            f"a member may redeem this reward {reward.member_limit} times{period}",
            field="rewardId",
        )


@dataclass(frozen=True)
class _Issued:
    voucher: Voucher | None = None
    code: str | None = None
    entitlement: Entitlement | None = None
    reference: str | None = None


async def _issue(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    issuing: Issuing,
    reward: Reward,
    member_id: uuid.UUID,
    redemption_id: uuid.UUID,
    idempotency_key: str,
    actor: str,
    now: datetime,
) -> _Issued:
    if reward.kind == kinds.VOUCHER:
        template = kinds.VoucherTemplate.model_validate(reward.params)
        made = await vouchers.issue(
            conn,
            tenant_id,
            issuing.settings,
            template,
            member_id=member_id,
            reward_id=reward.id,
            redemption_id=redemption_id,
            now=now,
        )
        if made is None:
            raise OutOfStock("the reward's voucher pool is empty", field="rewardId")
        return _Issued(voucher=made[0], code=made[1])
    if reward.kind == kinds.ENTITLEMENT:
        granted = await entitlements.grant(
            conn,
            tenant_id,
            kinds.EntitlementTemplate.model_validate(reward.params),
            member_id=member_id,
            redemption_id=redemption_id,
            source=f"reward:{reward.id}",
            now=now,
        )
        return _Issued(entitlement=granted)
    if reward.kind == kinds.PHYSICAL:
        return _Issued()
    kind = issuing.module_kinds.get(reward.kind)
    if kind is None:
        raise Unavailable(
            f"rewards of kind {reward.kind} need the module that issues them", field="rewardId"
        )
    reference = await kind.issue(
        conn,
        tenant_id,
        member_id=member_id,
        params=reward.params,
        module_settings=issuing.module_settings,
        idempotency_key=f"rewards:{redemption_id}",
        actor=actor,
        now=now,
    )
    return _Issued(reference=reference)


def _reference(issued: _Issued) -> str | None:
    if issued.voucher is not None:
        return f"voucher:{issued.voucher.id}"
    if issued.entitlement is not None:
        return f"entitlement:{issued.entitlement.id}"
    return issued.reference


async def _replay(
    conn: AsyncConnection, tenant_id: uuid.UUID, key: str, request_hash: str
) -> Redeemed:
    found = await repo.redemption_by_key(conn, tenant_id, key)
    assert found is not None  # the claim found it
    if found.request_hash != request_hash:
        raise Conflict(
            "this idempotency key was used for another redemption", field="idempotencyKey"
        )
    return await with_issued(conn, tenant_id, found, replayed=True)


async def with_issued(
    conn: AsyncConnection, tenant_id: uuid.UUID, redemption: Redemption, *, replayed: bool
) -> Redeemed:
    """The redemption with its voucher (and code) or entitlement, read back."""
    voucher = await repo.voucher_of_redemption(conn, tenant_id, redemption.id)
    code = None
    if voucher is not None:
        sealed = await vouchers.sealed_code(conn, tenant_id, voucher.id)
        if sealed is not None:
            keys = await tenant_keys(conn, tenant_id)
            code = vouchers.reveal(
                keys, tenant_id, voucher.id, sealed, pooled=voucher.pool_id is not None
            )
    entitlement = await repo.entitlement_of_redemption(conn, tenant_id, redemption.id)
    return Redeemed(
        redemption=redemption,
        voucher=voucher,
        code=code,
        entitlement=entitlement,
        replayed=replayed,
    )


async def cancel(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    issuing: Issuing,
    redemption_id: uuid.UUID,
    *,
    actor: str,
    now: datetime,
    member_id: uuid.UUID | None = None,
) -> Redeemed:
    """Cancel the redemption (only the member's own, with ``member_id``): undo what it issued,
    give the points back to lots with their original expiry, put one back in stock. A
    cancelled redemption answers again as a replay."""
    found = await repo.get_redemption(conn, tenant_id, redemption_id, lock=True)
    if found is None or (member_id is not None and found.member_id != member_id):
        raise NotFound("redemption not found", field="id")
    if found.status == "cancelled":
        return await with_issued(conn, tenant_id, found, replayed=True)
    reward = await repo.get_reward(conn, tenant_id, found.reward_id)
    assert reward is not None
    if now >= found.created_at + timedelta(minutes=reward.cancel_window_minutes):
        raise WindowClosed(
            f"redemptions of this reward can be cancelled for {reward.cancel_window_minutes} "
            "minutes",
            field="id",
        )
    await _undo_issue(conn, tenant_id, issuing, reward, found, actor, now)
    give_back = None
    if found.spend_transaction_id is not None:
        give_back = await _give_back(conn, tenant_id, found, reward, actor, now)
    await conn.execute(
        update(rewards)
        .where(rewards.c.tenant_id == tenant_id, rewards.c.id == reward.id)
        .values(stock=rewards.c.stock + 1)  # NULL (unlimited) stays NULL
    )
    row = (
        await conn.execute(
            update(redemptions)
            .where(redemptions.c.tenant_id == tenant_id, redemptions.c.id == redemption_id)
            .values(
                status="cancelled",
                cancelled_at=now,
                give_back_transaction_id=give_back,
                fulfilment=None if found.fulfilment is None else "cancelled",
            )
            .returning(redemptions)
        )
    ).one()
    return await with_issued(conn, tenant_id, repo.redemption_from_row(row), replayed=False)


async def _undo_issue(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    issuing: Issuing,
    reward: Reward,
    found: Redemption,
    actor: str,
    now: datetime,
) -> None:
    voucher = await repo.voucher_of_redemption(conn, tenant_id, found.id)
    if voucher is not None and not await vouchers.cancel(conn, tenant_id, voucher.id):
        raise vouchers.NotUsable("the voucher was already used", field="id")
    await entitlements.revoke(conn, tenant_id, found.id, now)
    if found.fulfilment is not None and found.fulfilment not in FULFILMENT_STEPS["cancelled"]:
        raise FulfilmentRefused(f"the reward was already {found.fulfilment}", field="id")
    kind = issuing.module_kinds.get(reward.kind)
    if kind is not None and found.issued_reference is not None:
        try:
            await kind.cancel(
                conn,
                tenant_id,
                reference=found.issued_reference,
                module_settings=issuing.module_settings,
                idempotency_key=f"rewards:cancel:{found.id}",
                actor=actor,
                now=now,
            )
        except ValueError as error:
            raise FulfilmentRefused(str(error), field="id") from error


async def _give_back(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    found: Redemption,
    reward: Reward,
    actor: str,
    now: datetime,
) -> uuid.UUID:
    assert found.spend_transaction_id is not None
    original = await ledger.get_transaction(conn, tenant_id, found.spend_transaction_id)
    asset = await ledger.get_asset(conn, tenant_id, found.asset_code)
    assert original is not None
    assert asset is not None
    posted = await ledger.give_back(
        conn,
        _posting(tenant_id, f"rewards:cancel:{found.id}", reward, actor, now, cancel=True),
        original=original,
        member_id=found.member_id,
        asset=asset,
        amount=found.points,
    )
    return posted.transaction.id


def _posting(
    tenant_id: uuid.UUID,
    key: str,
    reward: Reward,
    actor: str,
    now: datetime,
    *,
    cancel: bool = False,
) -> ledger.Posting:
    return ledger.Posting(
        tenant_id=tenant_id,
        idempotency_key=key,
        reason=f"{'Cancelled reward' if cancel else 'Reward'}: {reward.name}"[:200],
        cause=ledger.Cause(kind="rewards", id=key.rsplit(":", 1)[-1]),
        actor=actor,
        now=now,
    )


async def update_fulfilment(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    redemption_id: uuid.UUID,
    *,
    status: str,
    tracking: str | None,
) -> Redemption:
    """Move a PHYSICAL redemption's fulfilment one step (pending, shipped, delivered;
    cancelled before delivery), by a conditional update on the state it leaves. Setting the
    state it is already in (with the same tracking) answers it unchanged: a retried call."""
    leaves = FULFILMENT_STEPS.get(status)
    if leaves is None:
        raise FulfilmentRefused(f"a fulfilment cannot be set to {status}", field="status")
    values: dict[str, object] = {"fulfilment": status}
    if tracking is not None:
        values["tracking"] = tracking
    row = (
        await conn.execute(
            update(redemptions)
            .where(
                redemptions.c.tenant_id == tenant_id,
                redemptions.c.id == redemption_id,
                redemptions.c.status == "issued",
                redemptions.c.fulfilment.in_(leaves),
            )
            .values(**values)
            .returning(redemptions)
        )
    ).first()
    if row is not None:
        return repo.redemption_from_row(row)
    found = await repo.get_redemption(conn, tenant_id, redemption_id)
    if found is None:
        raise NotFound("redemption not found", field="id")
    if found.fulfilment == status and (tracking is None or tracking == found.tracking):
        return found
    if found.fulfilment is None:
        raise FulfilmentRefused("only PHYSICAL rewards are fulfilled", field="id")
    raise FulfilmentRefused(
        f"a {found.fulfilment} redemption cannot become {status}", field="status"
    )


__all__ = [
    "FULFILMENT_STEPS",
    "FulfilmentRefused",
    "Issuing",
    "LimitReached",
    "ModuleNotEnabled",
    "OutOfStock",
    "Unavailable",
    "WindowClosed",
    "cancel",
    "redeem",
    "update_fulfilment",
    "with_issued",
]
