"""Queries, mutations and Member fields of rewards (types in :mod:`loyalty_rewards.types`).

Who may do what: the catalogue and fulfilment belong to tenant admins; members redeem and
cancel for themselves, touchpoints (``points:redeem``) for any member; the till's voucher
operations need ``points:redeem``. A voucher is looked up once per request (an alias is
refused before it counts), counted and locked out like a gift card.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import strawberry
from loyalty_core.sdk import (
    Connection,
    Cursors,
    Forbidden,
    LoyaltyError,
    Member,
    RequestContext,
    Role,
    Scope,
    UserError,
    ValidationFailed,
    conditions,
    connection,
    may_read_member,
    page_size,
    require_admin,
    require_id,
    require_principal,
    require_scope,
    require_tenant,
    run_mutation,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.scalars import JSON
from strawberry.types import Info

from loyalty_rewards import catalogue, collectors, kinds, models, redemptions, visibility, vouchers
from loyalty_rewards import repository as repo
from loyalty_rewards.lookup import VoucherLocked, find
from loyalty_rewards.settings import RewardSettings
from loyalty_rewards.types import (
    DiscountKind,
    Entitlement,
    FulfilmentStatus,
    PoolLineError,
    Reward,
    RewardRedemption,
    Voucher,
    VoucherRefusal,
    VoucherStatus,
    VoucherValidation,
)

NAME = "rewards"
MAX_KEY = 200
_LOOKUP_MARK = "rewards.lookup"


@strawberry.input
class RewardTextInput:
    locale: str
    title: str
    description: str | None = None
    image_url: str | None = None


@strawberry.input(description="The voucher a VOUCHER reward issues.")
class VoucherTemplateInput:
    discount: DiscountKind
    amount: int | None = None
    percent: int | None = None
    item_sku: str | None = None
    currency: str | None = None
    min_basket: int | None = None
    max_uses: int | None = 1
    valid_days: int | None = None
    pool_id: strawberry.ID | None = None


@strawberry.input(description="The service an ENTITLEMENT reward unlocks, for ``days``.")
class EntitlementTemplateInput:
    name: str
    days: int | None = None


@strawberry.input
class RewardCreateInput:
    name: str
    kind: str
    points: int = 0
    asset: str = "points"
    money_amount: int | None = None
    money_currency: str | None = None
    stock: int | None = None
    member_limit: int | None = None
    member_limit_days: int | None = None
    segment: str | None = strawberry.field(
        default=None,
        description="Who sees the reward: a condition over the member in CEL "
        "('\"regulars\" in member.segments', 'member.totalSpend >= 50000'); null: everyone.",
    )
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    cancel_window_minutes: int = 0
    redeemable: bool = True
    active: bool = True
    texts: list[RewardTextInput] = strawberry.field(default_factory=list)
    voucher: VoucherTemplateInput | None = None
    entitlement: EntitlementTemplateInput | None = None
    params: JSON | None = strawberry.field(
        default=None, description="The parameters of a kind a module registers."
    )


@strawberry.input(description="What to change; a field left out (or null) stays as it is.")
class RewardUpdateInput:
    id: strawberry.ID
    name: str | None = None
    active: bool | None = None
    redeemable: bool | None = None
    points: int | None = None
    stock: int | None = None
    member_limit: int | None = None
    member_limit_days: int | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    cancel_window_minutes: int | None = None
    segment: str | None = strawberry.field(
        default=None,
        description="Who sees the reward: a condition over the member; an empty string: everyone.",
    )
    texts: list[RewardTextInput] | None = None
    voucher: VoucherTemplateInput | None = None
    entitlement: EntitlementTemplateInput | None = None


@strawberry.input
class RewardRedeemInput:
    reward_id: strawberry.ID
    idempotency_key: str
    member_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Required for touchpoints and admins; a member redeems for itself.",
    )
    delivery_address: str | None = strawberry.field(
        default=None, description="Where a PHYSICAL reward goes."
    )
    payment_reference: str | None = strawberry.field(
        default=None,
        description="For a reward priced in points plus money: the payment (the payment "
        "module's id) in which the till collected the money. Tills and admins only.",
    )


@strawberry.input
class RewardRedemptionCancelInput:
    id: strawberry.ID


@strawberry.input
class RewardFulfilmentUpdateInput:
    id: strawberry.ID
    status: FulfilmentStatus
    tracking: str | None = None


@strawberry.input(description="A CSV of codes, one per line in the first column.")
class VoucherPoolImportInput:
    name: str
    csv: str
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="A retried import with this key (and the same file) answers the first "
        "pool and imports nothing again.",
    )


@strawberry.input
class BasketItemInput:
    sku: str
    unit_price: int
    quantity: int = 1


@strawberry.input(description="What the till is about to sell, in minor units.")
class BasketInput:
    amount: int
    currency: str
    items: list[BasketItemInput] = strawberry.field(default_factory=list)


@strawberry.input
class VoucherReserveInput:
    code: str
    checkout_id: str
    ttl_seconds: int | None = strawberry.field(
        default=None, description="How long to hold the code (default: the tenant's setting)."
    )


@strawberry.input
class VoucherRedeemInput:
    code: str
    basket: BasketInput
    idempotency_key: str
    checkout_id: str | None = strawberry.field(
        default=None, description="The checkout that reserved the code, if one did."
    )


@strawberry.type
class RewardPayload:
    reward: Reward | None
    errors: list[UserError]


@strawberry.type
class RewardRedemptionPayload:
    redemption: RewardRedemption | None
    voucher: Voucher | None
    code: str | None = strawberry.field(description="The voucher's code, to show the member.")
    entitlement: Entitlement | None
    replayed: bool
    errors: list[UserError]


@strawberry.type
class VoucherPoolImportPayload:
    pool_id: strawberry.ID | None
    lines: int
    imported: int
    duplicates: int
    rejected: int
    line_errors: list[PoolLineError]
    replayed: bool
    errors: list[UserError]


@strawberry.type
class VoucherReservePayload:
    voucher: Voucher | None
    reserved_until: datetime | None
    errors: list[UserError]


@strawberry.type
class VoucherRedeemPayload:
    voucher: Voucher | None
    discount: int
    replayed: bool
    errors: list[UserError]


@strawberry.type
class RewardQuery:
    @strawberry.field(
        description="The catalogue, newest first: everything for admins; for members, what is "
        "on offer to them now (a reward for a segment only to its members); for touchpoints, "
        "what is on offer now to ``memberId`` (without it, to everyone)."
    )
    async def rewards(
        self,
        info: Info[RequestContext, None],
        first: int | None = None,
        after: str | None = None,
        kind: str | None = None,
        member_id: strawberry.ID | None = None,
    ) -> Connection[Reward]:
        ctx = info.context
        principal = require_principal(ctx.principal)
        tenant_id = require_tenant(principal)
        size = page_size(first)
        cursors = Cursors(tenant_id, "rewards.rewards")
        admin = principal.role is Role.ADMIN
        async with ctx.read() as conn:
            viewer = None if admin else _viewer(ctx, member_id)
            audience = None if viewer is None else _audience(ctx, conn, viewer)
            found: list[models.Reward] = []
            cursor = cursors.decode(after)
            while len(found) <= size:  # a page of what the caller may see; hidden ones skipped
                batch = await repo.list_rewards(
                    conn,
                    tenant_id,
                    limit=size + 1,
                    after=cursor,
                    kind=kind,
                    available_at=None if admin else ctx.now(),
                )
                if admin:
                    found += batch
                elif audience is None:
                    found += visibility.untargeted(batch)
                else:
                    found += await audience.visible(batch)
                if len(batch) <= size:
                    break
                cursor = batch[-1].id
        if audience is not None:
            await visibility.record_failures(ctx.database, tenant_id, audience.failed, ctx.now())
        return connection(
            cursors,
            found[: size + 1],
            size,
            lambda reward: reward.id,
            lambda reward: Reward.of(reward, admin=admin),
        )

    @strawberry.field(
        description="One reward (null when there is none, or it is not on offer to the caller: "
        "for a touchpoint, to ``memberId``)."
    )
    async def reward(
        self,
        info: Info[RequestContext, None],
        id: strawberry.ID,
        member_id: strawberry.ID | None = None,
    ) -> Reward | None:
        ctx = info.context
        principal = require_principal(ctx.principal)
        tenant_id = require_tenant(principal)
        if principal.role is Role.ADMIN:
            async with ctx.read() as conn:
                found = await repo.get_reward(conn, tenant_id, require_id(id))
            return None if found is None else Reward.of(found)
        async with ctx.read() as conn:
            found = await repo.get_reward(conn, tenant_id, require_id(id))
            if found is None or not (found.redeemable and found.available_at(ctx.now())):
                return None
            viewer = _viewer(ctx, member_id)
            audience = None if viewer is None else _audience(ctx, conn, viewer)
            shown = (
                visibility.untargeted([found])
                if audience is None
                else await audience.visible([found])
            )
        if audience is not None:
            await visibility.record_failures(ctx.database, tenant_id, audience.failed, ctx.now())
        return Reward.of(shown[0], admin=False) if shown else None

    @strawberry.field(description="The tenant's vouchers, newest first (tenant admins).")
    async def vouchers(
        self,
        info: Info[RequestContext, None],
        first: int | None = None,
        after: str | None = None,
        status: VoucherStatus | None = None,
        member_id: strawberry.ID | None = None,
        pool_id: strawberry.ID | None = None,
        last_four: str | None = None,
    ) -> Connection[Voucher]:
        tenant_id = require_admin(info.context.principal)
        size = page_size(first)
        cursors = Cursors(tenant_id, "rewards.vouchers")
        async with info.context.read() as conn:
            found = await repo.list_vouchers(
                conn,
                tenant_id,
                limit=size + 1,
                after=cursors.decode(after),
                status=None if status is None else status.value,
                member_id=None if member_id is None else require_id(member_id, field="memberId"),
                pool_id=None if pool_id is None else require_id(pool_id, field="poolId"),
                last_four=last_four,
            )
        return connection(cursors, found, size, lambda voucher: voucher.id, Voucher.of)

    @strawberry.field(
        description="At the till: would this code take something off this basket, and what? "
        "Wrong codes all answer NOT_FOUND alike, and are counted (LOCKED after too many)."
    )
    async def voucher_validate(
        self,
        info: Info[RequestContext, None],
        code: str,
        basket: BasketInput,
        checkout_id: str | None = None,
    ) -> VoucherValidation:
        ctx = info.context
        require_scope(ctx.principal, Scope.POINTS_REDEEM)
        parsed = _basket(basket)
        try:
            voucher = await _look_up(info, code)
        except VoucherLocked as error:
            return _refusal(VoucherRefusal.LOCKED, error.message)
        except LoyaltyError as error:
            return _refusal(VoucherRefusal.NOT_FOUND, error.message)
        verdict = vouchers.check(voucher, parsed, checkout=checkout_id, now=ctx.now())
        return VoucherValidation(
            valid=verdict.valid,
            discount=verdict.discount if verdict.valid else 0,
            refusal=None if verdict.refusal is None else VoucherRefusal(verdict.refusal),
            reason=verdict.reason,
            voucher=Voucher.of(voucher),
        )


@strawberry.type
class RewardMutation:
    @strawberry.mutation(description="Add a reward to the catalogue (tenant admins).")
    async def reward_create(
        self, info: Info[RequestContext, None], input: RewardCreateInput
    ) -> RewardPayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)

        async def work(conn: AsyncConnection, _: object) -> models.Reward:
            draft = catalogue.Draft(
                name=input.name,
                kind=input.kind,
                points=input.points,
                asset_code=input.asset,
                active=input.active,
                redeemable=input.redeemable,
                money_amount=input.money_amount,
                money_currency=input.money_currency,
                stock=input.stock,
                member_limit=input.member_limit,
                member_limit_days=input.member_limit_days,
                segment=input.segment,
                valid_from=input.valid_from,
                valid_until=input.valid_until,
                cancel_window_minutes=input.cancel_window_minutes,
                texts=_texts(input.texts),
                params=_params(input.voucher, input.entitlement, input.params),
            )
            return await catalogue.create(
                conn,
                tenant_id,
                draft,
                module_kinds=_module_kinds(ctx),
                now=ctx.now(),
                facts=conditions.member_facts(ctx),
                money=bool(_collectors(ctx)),
            )

        reward, errors = await run_mutation(info, work)
        return RewardPayload(reward=None if reward is None else Reward.of(reward), errors=errors)

    @strawberry.mutation(description="Change a reward of the catalogue (tenant admins).")
    async def reward_update(
        self, info: Info[RequestContext, None], input: RewardUpdateInput
    ) -> RewardPayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)

        async def work(conn: AsyncConnection, _: object) -> models.Reward:
            changes: dict[str, Any] = {
                name: value
                for name in (
                    "name",
                    "active",
                    "redeemable",
                    "points",
                    "stock",
                    "member_limit",
                    "member_limit_days",
                    "valid_from",
                    "valid_until",
                    "cancel_window_minutes",
                    "segment",
                )
                if (value := getattr(input, name)) is not None
            }
            if input.texts is not None:
                changes["texts"] = _texts(input.texts)
            if input.voucher is not None or input.entitlement is not None:
                changes["params"] = _params(input.voucher, input.entitlement, None)
            return await catalogue.update(
                conn,
                tenant_id,
                require_id(input.id),
                changes,
                module_kinds=_module_kinds(ctx),
                now=ctx.now(),
                facts=conditions.member_facts(ctx),
            )

        reward, errors = await run_mutation(info, work)
        return RewardPayload(reward=None if reward is None else Reward.of(reward), errors=errors)

    @strawberry.mutation(
        description="Redeem a reward for points (first-expiring first) and issue what it gives, "
        "in one transaction; a retry with the same idempotency key replays the answer."
    )
    async def reward_redeem(
        self, info: Info[RequestContext, None], input: RewardRedeemInput
    ) -> RewardRedemptionPayload:
        ctx = info.context
        principal = require_principal(ctx.principal)
        tenant_id = require_tenant(principal)

        audiences: list[visibility.Audience] = []

        async def work(conn: AsyncConnection, _: object) -> models.Redeemed:
            _check_key(input.idempotency_key)
            member_id = _acting_for(ctx, input.member_id)
            if input.delivery_address is not None and len(input.delivery_address) > 1_000:
                raise ValidationFailed(
                    "deliveryAddress: at most 1000 characters", field="deliveryAddress"
                )
            if input.payment_reference is not None:
                if principal.role is Role.MEMBER:
                    raise Forbidden("a till attests the payment of a reward's money")
                if not input.payment_reference.strip() or len(input.payment_reference) > 200:
                    raise ValidationFailed(
                        "paymentReference: 1-200 characters", field="paymentReference"
                    )
            audience = _audience(ctx, conn, member_id)
            audiences.append(audience)
            return await redemptions.redeem(
                conn,
                tenant_id,
                _issuing(ctx),
                require_id(input.reward_id, field="rewardId"),
                member_id=member_id,
                idempotency_key=input.idempotency_key,
                actor=principal.actor,
                cause="member" if principal.role is Role.MEMBER else principal.actor,
                now=ctx.now(),
                delivery_address=input.delivery_address,
                audience=audience,
                payment_reference=input.payment_reference,
            )

        outcome = await run_mutation(info, work)
        for audience in audiences:
            await visibility.record_failures(ctx.database, tenant_id, audience.failed, ctx.now())
        return _redemption_payload(*outcome)

    @strawberry.mutation(
        description="Cancel a redemption within its reward's window: the points go back to lots "
        "with their original expiry, the stock is restored. Cancelling again replays."
    )
    async def reward_redemption_cancel(
        self, info: Info[RequestContext, None], input: RewardRedemptionCancelInput
    ) -> RewardRedemptionPayload:
        ctx = info.context
        principal = require_principal(ctx.principal)
        tenant_id = require_tenant(principal)
        if principal.role is not Role.MEMBER and not principal.may(Scope.POINTS_REDEEM):
            raise Forbidden("requires the points:redeem scope")

        async def work(conn: AsyncConnection, _: object) -> models.Redeemed:
            return await redemptions.cancel(
                conn,
                tenant_id,
                _issuing(ctx),
                require_id(input.id),
                actor=principal.actor,
                now=ctx.now(),
                member_id=principal.member_id,
            )

        return _redemption_payload(*await run_mutation(info, work))

    @strawberry.mutation(description="Move a PHYSICAL reward's fulfilment on (tenant admins).")
    async def reward_fulfilment_update(
        self, info: Info[RequestContext, None], input: RewardFulfilmentUpdateInput
    ) -> RewardRedemptionPayload:
        tenant_id = require_admin(info.context.principal)

        async def work(conn: AsyncConnection, _: object) -> models.Redeemed:
            if input.tracking is not None and len(input.tracking) > 200:
                raise ValidationFailed("tracking: at most 200 characters", field="tracking")
            updated = await redemptions.update_fulfilment(
                conn,
                tenant_id,
                require_id(input.id),
                status=input.status.value,
                tracking=input.tracking,
            )
            return models.Redeemed(redemption=updated)

        return _redemption_payload(*await run_mutation(info, work))

    @strawberry.mutation(
        description="Import a pool of codes from CSV (tenant admins), all or nothing: every "
        "line is checked (format, repeats, codes already known) and counted."
    )
    async def voucher_pool_import(
        self, info: Info[RequestContext, None], input: VoucherPoolImportInput
    ) -> VoucherPoolImportPayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        actor = require_principal(ctx.principal).actor

        checked: list[models.PoolImport] = []

        async def work(conn: AsyncConnection, _: object) -> models.PoolImport:
            if not input.name.strip() or len(input.name) > 200:
                raise ValidationFailed("name: 1-200 characters", field="name")
            if input.idempotency_key is not None:
                _check_key(input.idempotency_key)
            result = await vouchers.import_pool(
                conn,
                tenant_id,
                name=input.name,
                text=input.csv,
                actor=actor,
                now=ctx.now(),
                idempotency_key=input.idempotency_key,
            )
            checked.append(result)
            if result.errors:  # raised inside the transaction, so nothing of it is written
                raise ValidationFailed(
                    f"{result.rejected} of {result.lines} lines are wrong; nothing was imported",
                    field="csv",
                )
            return result

        _, errors = await run_mutation(info, work)
        if not checked:
            return VoucherPoolImportPayload(
                pool_id=None,
                lines=0,
                imported=0,
                duplicates=0,
                rejected=0,
                line_errors=[],
                replayed=False,
                errors=errors,
            )
        result = checked[0]
        return VoucherPoolImportPayload(
            pool_id=None if result.pool_id is None else strawberry.ID(str(result.pool_id)),
            lines=result.lines,
            imported=result.imported,
            duplicates=result.duplicates,
            rejected=result.rejected,
            line_errors=[PoolLineError(line=e.line, message=e.message) for e in result.errors],
            replayed=result.replayed,
            errors=errors,
        )

    @strawberry.mutation(
        description="Hold a voucher for a checkout until the reservation lapses; no other "
        "checkout may redeem it meanwhile. The same checkout reserving again extends it."
    )
    async def voucher_reserve(
        self, info: Info[RequestContext, None], input: VoucherReserveInput
    ) -> VoucherReservePayload:
        ctx = info.context
        tenant_id = require_scope(ctx.principal, Scope.POINTS_REDEEM)
        try:
            _check_checkout(input.checkout_id)
            ttl = _ttl(input.ttl_seconds, _settings(ctx))
            voucher_id = (await _look_up(info, input.code)).id
        except LoyaltyError as error:
            return VoucherReservePayload(
                voucher=None, reserved_until=None, errors=[UserError.of(error)]
            )

        async def work(conn: AsyncConnection, _: object) -> models.Voucher:
            return await vouchers.reserve(
                conn, tenant_id, voucher_id, checkout=input.checkout_id, ttl=ttl, now=ctx.now()
            )

        voucher, errors = await run_mutation(info, work)
        return VoucherReservePayload(
            voucher=None if voucher is None else Voucher.of(voucher),
            reserved_until=None if voucher is None else voucher.reserved_until,
            errors=errors,
        )

    @strawberry.mutation(
        description="Use a voucher at the till for a basket: the discount. Two tills using a "
        "single-use code at once: one succeeds. A retry with the same key replays."
    )
    async def voucher_redeem(
        self, info: Info[RequestContext, None], input: VoucherRedeemInput
    ) -> VoucherRedeemPayload:
        ctx = info.context
        tenant_id = require_scope(ctx.principal, Scope.POINTS_REDEEM)
        actor = require_principal(ctx.principal).actor
        try:
            _check_key(input.idempotency_key)
            if input.checkout_id is not None:
                _check_checkout(input.checkout_id)
            basket = _basket(input.basket)
            voucher_id = (await _look_up(info, input.code)).id
        except LoyaltyError as error:
            return VoucherRedeemPayload(
                voucher=None, discount=0, replayed=False, errors=[UserError.of(error)]
            )

        async def work(conn: AsyncConnection, _: object) -> models.Used:
            return await vouchers.redeem(
                conn,
                tenant_id,
                voucher_id,
                basket,
                checkout=input.checkout_id,
                idempotency_key=input.idempotency_key,
                actor=actor,
                now=ctx.now(),
            )

        used, errors = await run_mutation(info, work)
        if used is None:
            return VoucherRedeemPayload(voucher=None, discount=0, replayed=False, errors=errors)
        return VoucherRedeemPayload(
            voucher=Voucher.of(used.voucher),
            discount=used.use.discount,
            replayed=used.replayed,
            errors=[],
        )


@strawberry.field(name="vouchers", description="The member's vouchers, newest first.")
async def member_vouchers(root: Member, info: Info[RequestContext, None]) -> list[Voucher]:
    member_id = uuid.UUID(str(root.id))
    if not may_read_member(info.context.principal, member_id):
        return []
    found = await _loader(info.context, "rewards.member_vouchers", repo.vouchers_of_members).load(
        member_id
    )
    return [Voucher.of(voucher) for voucher in found]


@strawberry.field(name="rewardRedemptions", description="The member's redemptions, newest first.")
async def member_redemptions(
    root: Member, info: Info[RequestContext, None]
) -> list[RewardRedemption]:
    member_id = uuid.UUID(str(root.id))
    if not may_read_member(info.context.principal, member_id):
        return []
    found = await _loader(
        info.context, "rewards.member_redemptions", repo.redemptions_of_members
    ).load(member_id)
    return [RewardRedemption.of(redemption) for redemption in found]


@strawberry.field(
    name="entitlements",
    description="The services unlocked for the member now (optionally only ``name``).",
)
async def member_entitlements(
    root: Member, info: Info[RequestContext, None], name: str | None = None
) -> list[Entitlement]:
    member_id = uuid.UUID(str(root.id))
    if not may_read_member(info.context.principal, member_id):
        return []
    now = info.context.now()

    async def load(conn: AsyncConnection, tenant_id: uuid.UUID, ids: list[uuid.UUID]) -> Any:
        return await repo.entitlements_of_members(conn, tenant_id, ids, now)

    found = await _loader(info.context, "rewards.member_entitlements", load).load(member_id)
    return [Entitlement.of(e) for e in found if name is None or e.name == name]


# -- helpers ------------------------------------------------------------------------------


def _loader(ctx: RequestContext, name: str, load: Any) -> Any:
    tenant_id = ctx.tenant_id

    async def batch(conn: AsyncConnection, ids: list[uuid.UUID]) -> list[Any]:
        found = await load(conn, tenant_id, ids)
        return [found.get(member_id, []) for member_id in ids]

    return ctx.loader(name, batch)


def _redemption_payload(
    redeemed: models.Redeemed | None, errors: list[UserError]
) -> RewardRedemptionPayload:
    if redeemed is None:
        return RewardRedemptionPayload(
            redemption=None,
            voucher=None,
            code=None,
            entitlement=None,
            replayed=False,
            errors=errors,
        )
    return RewardRedemptionPayload(
        redemption=RewardRedemption.of(redeemed.redemption),
        voucher=None if redeemed.voucher is None else Voucher.of(redeemed.voucher),
        code=redeemed.code,
        entitlement=None if redeemed.entitlement is None else Entitlement.of(redeemed.entitlement),
        replayed=redeemed.replayed,
        errors=[],
    )


def _refusal(refusal: VoucherRefusal, reason: str) -> VoucherValidation:
    return VoucherValidation(valid=False, discount=0, refusal=refusal, reason=reason, voucher=None)


async def _look_up(info: Info[RequestContext, None], code: str) -> models.Voucher:
    """One voucher look-up per request: a second (an alias) is refused before it counts or
    looks, so a document of a hundred aliases is one guess, not a hundred."""
    ctx = info.context
    here = tuple(info.path.as_list())
    mark = ctx.loaders.get(_LOOKUP_MARK)
    if mark is not None and mark != here:
        raise VoucherLocked("one voucher look-up per request", field="code")
    ctx.loaders[_LOOKUP_MARK] = here
    if not code.strip() or len(code) > 100:
        raise ValidationFailed("code: 1-100 characters", field="code")
    return await find(
        ctx.database,
        ctx.tenant_id,
        actor=require_principal(ctx.principal).actor,
        code=code,
        settings=_settings(ctx),
        now=ctx.now(),
    )


def _viewer(ctx: RequestContext, member_id: strawberry.ID | None) -> uuid.UUID | None:
    """Whom a non-admin caller looks at the catalogue for: a member, itself; a touchpoint,
    the member it names (none: the catalogue as everyone sees it)."""
    principal = require_principal(ctx.principal)
    if principal.role is Role.MEMBER:
        return principal.member_id
    return None if member_id is None else require_id(member_id, field="memberId")


def _audience(
    ctx: RequestContext, conn: AsyncConnection, member_id: uuid.UUID
) -> visibility.Audience:
    return visibility.Audience(
        conn, ctx.tenant_id, member_id, ctx.now(), conditions.member_facts(ctx)
    )


def _acting_for(ctx: RequestContext, member_id: strawberry.ID | None) -> uuid.UUID:
    """The member a redemption is for: a member itself; for a touchpoint (``points:redeem``)
    or an admin, the member named."""
    principal = require_principal(ctx.principal)
    if principal.role is Role.MEMBER:
        own = principal.member_id
        assert own is not None
        if member_id is not None and require_id(member_id, field="memberId") != own:
            raise Forbidden("a member redeems for itself only")
        return own
    if not principal.may(Scope.POINTS_REDEEM):
        raise Forbidden("requires the points:redeem scope")
    if member_id is None:
        raise ValidationFailed("memberId is required", field="memberId")
    return require_id(member_id, field="memberId")


def _basket(basket: BasketInput) -> models.Basket:
    if not 0 <= basket.amount <= 2**62:
        raise ValidationFailed("basket.amount: 0 or more", field="basket.amount")
    if len(basket.currency) != 3 or not basket.currency.isalpha():
        raise ValidationFailed("basket.currency: an ISO 4217 code", field="basket.currency")
    if len(basket.items) > 500:
        raise ValidationFailed("basket.items: at most 500", field="basket.items")
    items = []
    for item in basket.items:
        if not 0 <= item.unit_price <= 2**62 or not 1 <= item.quantity <= 10_000:
            raise ValidationFailed(
                "an item has a price of 0 or more and a quantity of 1-10000", field="basket.items"
            )
        items.append(models.BasketItem(item.sku[:100], item.quantity, item.unit_price))
    return models.Basket(basket.amount, basket.currency.upper(), tuple(items))


def _texts(texts: list[RewardTextInput]) -> tuple[models.RewardText, ...]:
    for text in texts:
        if not 2 <= len(text.locale) <= 35 or not text.title.strip() or len(text.title) > 200:
            raise ValidationFailed(
                "a text needs a locale and a title of 1-200 characters", field="texts"
            )
        if (text.description and len(text.description) > 5_000) or (
            text.image_url and len(text.image_url) > 2_000
        ):
            raise ValidationFailed("a description or image URL is too long", field="texts")
    return tuple(models.RewardText(t.locale, t.title, t.description, t.image_url) for t in texts)


def _params(
    voucher: VoucherTemplateInput | None,
    entitlement: EntitlementTemplateInput | None,
    params: Any,
) -> dict[str, Any]:
    if voucher is not None:
        return {
            "discount": voucher.discount.value,
            "amount": voucher.amount,
            "percent": voucher.percent,
            "item_sku": voucher.item_sku,
            "currency": voucher.currency,
            "min_basket": voucher.min_basket,
            "max_uses": voucher.max_uses,
            "valid_days": voucher.valid_days,
            "pool_id": None
            if voucher.pool_id is None
            else str(require_id(voucher.pool_id, field="voucher.poolId")),
        }
    if entitlement is not None:
        return {"name": entitlement.name, "days": entitlement.days}
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise ValidationFailed("params: a JSON object", field="params")
    return params


def _check_key(key: str) -> None:
    if not key.strip() or len(key) > MAX_KEY:
        raise ValidationFailed(f"idempotencyKey: 1-{MAX_KEY} characters", field="idempotencyKey")


def _check_checkout(checkout: str) -> None:
    if not checkout.strip() or len(checkout) > 200:
        raise ValidationFailed("checkoutId: 1-200 characters", field="checkoutId")


def _ttl(seconds: int | None, settings: RewardSettings) -> timedelta:
    if seconds is None:
        return settings.reservation
    if not 1 <= seconds <= 86_400:
        raise ValidationFailed("ttlSeconds: 1-86400", field="ttlSeconds")
    return timedelta(seconds=seconds)


def _settings(ctx: RequestContext) -> RewardSettings:
    settings = ctx.module_settings(NAME)
    if not isinstance(settings, RewardSettings):  # the schema only has our fields when enabled
        raise RuntimeError("rewards are not enabled for this tenant")
    return settings


def _module_kinds(ctx: RequestContext) -> dict[str, kinds.RewardKind]:
    return kinds.module_kinds(ctx.registry.extensions(kinds.HOOK, ctx.enabled_modules))


def _collectors(ctx: RequestContext) -> list[collectors.MoneyCollector]:
    return collectors.module_collectors(
        ctx.registry.extensions(collectors.HOOK, ctx.enabled_modules)
    )


def _issuing(ctx: RequestContext) -> redemptions.Issuing:
    return redemptions.Issuing(
        settings=_settings(ctx),
        module_kinds=_module_kinds(ctx),
        module_settings=dict(ctx.enabled_modules),
        collectors=_collectors(ctx),
    )


__all__ = [
    "NAME",
    "RewardMutation",
    "RewardQuery",
    "member_entitlements",
    "member_redemptions",
    "member_vouchers",
]
