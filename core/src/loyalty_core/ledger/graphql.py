"""GraphQL mutations that move points: adjust (operators), redeem (tills), transfer (members).

Each takes an idempotency key: sending it again returns the first result (``replayed``
true) and writes nothing; the same key with another request is IDEMPOTENCY_CONFLICT.
"""

from __future__ import annotations

import uuid
from datetime import date

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.types import Info

from loyalty_core.auth import (
    Principal,
    Role,
    Scope,
    require_admin,
    require_principal,
    require_scope,
)
from loyalty_core.context import RequestContext
from loyalty_core.errors import Forbidden, NotFound, ValidationFailed
from loyalty_core.graphql.common import UserError, run_mutation
from loyalty_core.ids import parse_id
from loyalty_core.ledger import assets, service
from loyalty_core.ledger import repository as repo
from loyalty_core.ledger.graphql_types import Asset as AssetType
from loyalty_core.ledger.graphql_types import ExpiryPolicy, LedgerTransaction
from loyalty_core.ledger.models import Asset, AssetKind, Cause, Posted
from loyalty_core.members import service as members
from loyalty_core.members.graphql import Member, load_member
from loyalty_core.modules import redemptions
from loyalty_core.modules.dispatch import DomainEvents
from loyalty_core.tenants.service import DEFAULT_ASSET_CODE

MAX_KEY = 150
MAX_POINTS = 2**31 - 1


@strawberry.input
class PointsAdjustInput:
    member_id: strawberry.ID
    amount: int = strawberry.field(description="Positive credits, negative debits.")
    reason: str
    idempotency_key: str
    asset_code: str = DEFAULT_ASSET_CODE


@strawberry.input
class PointsRedeemInput:
    member_id: strawberry.ID
    amount: int
    idempotency_key: str
    reason: str = "redemption"
    asset_code: str = DEFAULT_ASSET_CODE


@strawberry.input
class PointsTransferInput:
    recipient_id: strawberry.ID
    amount: int
    idempotency_key: str
    sender_id: strawberry.ID | None = strawberry.field(
        default=None, description="Defaults to the calling member."
    )
    reason: str = "transfer"
    asset_code: str = DEFAULT_ASSET_CODE


@strawberry.type
class PointsPayload:
    transaction: LedgerTransaction | None
    member: Member | None
    replayed: bool
    errors: list[UserError]


@strawberry.type
class PointsTransferPayload:
    transaction: LedgerTransaction | None
    sender: Member | None
    recipient: Member | None
    replayed: bool
    errors: list[UserError]


@strawberry.type
class PointsMutation:
    @strawberry.mutation(
        description="Credit or debit a member by hand (tenant admins, reason required)."
    )
    async def points_adjust(
        self, info: Info[RequestContext, None], input: PointsAdjustInput
    ) -> PointsPayload:
        ctx = info.context
        require_admin(ctx.principal)
        principal = require_principal(ctx.principal)

        async def work(conn: AsyncConnection, _: DomainEvents) -> Posted:
            member_id = _member(input.member_id, "memberId")
            _check(input.amount, input.idempotency_key, allow_negative=True)
            if not input.reason.strip() or len(input.reason) > 500:
                raise ValidationFailed("reason: 1-500 characters", field="reason")
            await members.require_active(conn, ctx.tenant_id, member_id)
            return await service.adjust(
                conn,
                _posting(
                    ctx, principal, f"adjust:{input.idempotency_key}", input.reason, "operator"
                ),
                member_id=member_id,
                asset=await _asset(conn, ctx.tenant_id, input.asset_code),
                delta=input.amount,
            )

        return await _points_payload(info, work, input.member_id)

    @strawberry.mutation(description="Spend a member's points at a till (points:redeem).")
    async def points_redeem(
        self, info: Info[RequestContext, None], input: PointsRedeemInput
    ) -> PointsPayload:
        ctx = info.context
        require_scope(ctx.principal, Scope.POINTS_REDEEM)
        principal = require_principal(ctx.principal)

        async def work(conn: AsyncConnection, _: DomainEvents) -> Posted:
            member_id = _member(input.member_id, "memberId")
            _check(input.amount, input.idempotency_key)
            await members.require_active(conn, ctx.tenant_id, member_id)
            posting = _posting(
                ctx, principal, f"redeem:{input.idempotency_key}", input.reason[:500], "redemption"
            )
            asset = await _asset(conn, ctx.tenant_id, input.asset_code)
            # Announces points.redeemed in this transaction (modules.redemptions).
            return await redemptions.spend(
                conn, posting, member_id=member_id, asset=asset, amount=input.amount
            )

        return await _points_payload(info, work, input.member_id)

    @strawberry.mutation(description="Give points to another member of the same programme.")
    async def points_transfer(
        self, info: Info[RequestContext, None], input: PointsTransferInput
    ) -> PointsTransferPayload:
        ctx = info.context
        principal = require_principal(ctx.principal)
        if principal.role is Role.MEMBER:
            sender_ref = input.sender_id or strawberry.ID(principal.subject)
            if sender_ref != principal.subject:
                raise Forbidden("members may transfer their own points only")
        else:
            require_scope(principal, Scope.POINTS_REDEEM)
            if input.sender_id is None:
                raise Forbidden("senderId is required for non-member callers")
            sender_ref = input.sender_id

        async def work(conn: AsyncConnection, _: DomainEvents) -> Posted:
            sender = _member(sender_ref, "senderId")
            recipient = _member(input.recipient_id, "recipientId")
            _check(input.amount, input.idempotency_key)
            await members.require_active(conn, ctx.tenant_id, sender, field="senderId")
            await members.require_active(conn, ctx.tenant_id, recipient, field="recipientId")
            return await service.transfer(
                conn,
                _posting(
                    ctx,
                    principal,
                    f"transfer:{input.idempotency_key}",
                    input.reason[:500],
                    "transfer",
                ),
                sender_id=sender,
                recipient_id=recipient,
                asset=await _asset(conn, ctx.tenant_id, input.asset_code),
                amount=input.amount,
            )

        posted, errors = await run_mutation(info, work)
        if posted is None:
            return PointsTransferPayload(
                transaction=None, sender=None, recipient=None, replayed=False, errors=errors
            )
        return PointsTransferPayload(
            transaction=LedgerTransaction.of(posted.transaction),
            sender=await load_member(info, uuid.UUID(sender_ref)),
            recipient=await load_member(info, uuid.UUID(input.recipient_id)),
            replayed=posted.replayed,
            errors=[],
        )


async def _points_payload(info: Info[RequestContext, None], work, member_ref: str) -> PointsPayload:  # type: ignore[no-untyped-def]
    posted, errors = await run_mutation(info, work)
    if posted is None:
        return PointsPayload(transaction=None, member=None, replayed=False, errors=errors)
    return PointsPayload(
        transaction=LedgerTransaction.of(posted.transaction),
        member=await load_member(info, uuid.UUID(member_ref)),
        replayed=posted.replayed,
        errors=[],
    )


def _posting(
    ctx: RequestContext, principal: Principal, key: str, reason: str, cause: str
) -> service.Posting:
    return service.Posting(
        tenant_id=ctx.tenant_id,
        idempotency_key=key,
        reason=reason,
        cause=Cause(kind=cause, id=principal.actor),
        actor=principal.actor,
        now=ctx.now(),
    )


def _member(value: str, field: str) -> uuid.UUID:
    parsed = parse_id(value)
    if parsed is None:
        raise NotFound("member not found", field=field)
    return parsed


def _check(amount: int, key: str, *, allow_negative: bool = False) -> None:
    if amount == 0 or (amount < 0 and not allow_negative) or abs(amount) > MAX_POINTS:
        raise ValidationFailed("amount must be a positive whole number of points", field="amount")
    if not key.strip() or len(key) > MAX_KEY:
        raise ValidationFailed(f"idempotencyKey: 1-{MAX_KEY} characters", field="idempotencyKey")


async def _asset(conn: AsyncConnection, tenant_id: uuid.UUID, code: str) -> Asset:
    asset = await repo.get_asset(conn, tenant_id, code)
    if asset is None:
        raise NotFound(f"no asset {code[:32]!r}", field="assetCode")
    return asset


@strawberry.input
class AssetCreateInput:
    code: str = strawberry.field(description="Lowercase handle, e.g. `stamps` or `miles`.")
    name: str
    kind: AssetKind = AssetKind.POINTS
    scale: int = strawberry.field(default=0, description="Digits of the minor unit.")
    expiry_policy: ExpiryPolicy | None = strawberry.field(
        default=None,
        description="Null: DAYS_AFTER_EARN when `expiryDays` is given, else NEVER.",
    )
    expiry_days: int | None = strawberry.field(
        default=None, description="Points expire this many days after they become available."
    )
    expiry_periods: int = strawberry.field(
        default=0,
        description="END_OF_MONTH / END_OF_YEAR: whole months or years added to the one points "
        "become available in (END_OF_YEAR with 2: points of 2026 expire at the end of 2028).",
    )
    expiry_date: date | None = strawberry.field(
        default=None, description="FIXED_DATE: the last day points are valid (tenant's time)."
    )
    pending_days: int = strawberry.field(
        default=0, description="Days earned points stay pending (e.g. the return period)."
    )
    spendable: bool = strawberry.field(
        default=True,
        description="False: points that only count (status points toward a tier); nothing "
        "can redeem, hold or transfer them (ASSET_NOT_SPENDABLE).",
    )


@strawberry.input
class AssetUpdateInput:
    code: str
    name: str | None = None
    expiry_policy: ExpiryPolicy | None = strawberry.field(
        default=None,
        description="Replaces the expiry policy, with the parameters given alongside.",
    )
    expiry_days: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Alone: expire this many days after earn. Null: points of this asset no "
        "longer expire.",
    )
    expiry_periods: int | None = None
    expiry_date: date | None = None
    pending_days: int | None = None
    spendable: bool | None = strawberry.field(
        default=None, description="Whether the asset can be spent, from now on."
    )


@strawberry.type
class AssetPayload:
    asset: AssetType | None
    errors: list[UserError]


@strawberry.type
class AssetMutation:
    @strawberry.mutation(description="Define another asset, e.g. stamps (tenant admins).")
    async def asset_create(
        self, info: Info[RequestContext, None], input: AssetCreateInput
    ) -> AssetPayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        actor = require_principal(ctx.principal).actor

        async def work(conn: AsyncConnection, _: DomainEvents) -> Asset:
            return await assets.create_asset(
                conn,
                tenant_id,
                code=input.code,
                name=input.name,
                kind=input.kind,
                scale=input.scale,
                expiry_days=input.expiry_days,
                pending_days=input.pending_days,
                expiry_policy=input.expiry_policy,
                expiry_periods=input.expiry_periods,
                expiry_date=input.expiry_date,
                spendable=input.spendable,
                actor=actor,
            )

        asset, errors = await run_mutation(info, work)
        return AssetPayload(asset=AssetType.of(asset) if asset else None, errors=errors)

    @strawberry.mutation(
        description="Rename an asset or change its expiry and pending policy for future earns."
    )
    async def asset_update(
        self, info: Info[RequestContext, None], input: AssetUpdateInput
    ) -> AssetPayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        actor = require_principal(ctx.principal).actor

        async def work(conn: AsyncConnection, _: DomainEvents) -> Asset:
            expiry = input.expiry_days
            return await assets.update_asset(
                conn,
                tenant_id,
                input.code,
                name=input.name,
                expiry_days=None if expiry is strawberry.UNSET else expiry,
                clear_expiry=expiry is None and input.expiry_policy is None,
                pending_days=input.pending_days,
                expiry_policy=input.expiry_policy,
                expiry_periods=input.expiry_periods,
                expiry_date=input.expiry_date,
                spendable=input.spendable,
                actor=actor,
            )

        asset, errors = await run_mutation(info, work)
        return AssetPayload(asset=AssetType.of(asset) if asset else None, errors=errors)


__all__ = ["AssetMutation", "PointsMutation"]
