"""The catalogue: rewards a retailer offers, checked when saved so redemption never meets a
reward it cannot issue.

A reward is checked whole after every change (a create, or an update merged into the row):
its kind is built in or registered by a module the tenant enabled, its kind's parameters
validate, its asset exists, money comes with a currency, its window is not empty, each
locale has one text, and its segment (who sees it) is a condition over the member that
compiles and names only fields a member has (an empty one: everyone).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from loyalty_core.sdk import (
    ErrorCode,
    LoyaltyError,
    MemberFact,
    NotFound,
    ValidationFailed,
    conditions,
    is_currency,
    ledger,
    new_id,
)
from pydantic import BaseModel
from pydantic import ValidationError as PydanticError
from sqlalchemy import insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_rewards import kinds, redemptions
from loyalty_rewards import repository as repo
from loyalty_rewards.models import Reward, RewardText
from loyalty_rewards.tables import pools, rewards

MAX_TEXTS = 20


@dataclass(frozen=True)
class Draft:
    """A reward as the retailer describes it (``rewardCreate``, or a row with an update)."""

    name: str
    kind: str
    points: int
    asset_code: str = ledger.DEFAULT_ASSET_CODE
    active: bool = True
    redeemable: bool = True
    money_amount: int | None = None
    money_currency: str | None = None
    stock: int | None = None
    member_limit: int | None = None
    member_limit_days: int | None = None
    segment: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    cancel_window_minutes: int = 0
    texts: tuple[RewardText, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, reward: Reward) -> Draft:
        values = {name: getattr(reward, name) for name in cls.__dataclass_fields__}
        return cls(**values)


async def create(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    draft: Draft,
    *,
    module_kinds: Mapping[str, kinds.RewardKind],
    now: datetime,
    facts: Sequence[MemberFact] = (),
    money: bool = False,
) -> Reward:
    """Add ``draft`` to the catalogue, checked whole. A price in money needs ``money`` (the
    tenant enabled the payment module, whose tills collect it): MODULE_NOT_ENABLED else."""
    if draft.money_amount is not None and not money:
        raise redemptions.ModuleNotEnabled(
            "a price in money needs the payment module, which collects it", field="moneyAmount"
        )
    checked = await _check(conn, tenant_id, draft, module_kinds, facts)
    created = await conn.execute(
        insert(rewards)
        .values(tenant_id=tenant_id, id=new_id(), created_at=now, updated_at=now, **_row(checked))
        .returning(rewards)
    )
    return repo.reward_from_row(created.one())


async def update(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    reward_id: uuid.UUID,
    changes: Mapping[str, Any],
    *,
    module_kinds: Mapping[str, kinds.RewardKind],
    now: datetime,
    facts: Sequence[MemberFact] = (),
) -> Reward:
    """Apply ``changes`` (field names of :class:`Draft`) to the reward, checked whole. The
    row is locked, so an update and a redemption's stock decrement do not interleave."""
    locked = (
        await conn.execute(
            select(rewards)
            .where(rewards.c.tenant_id == tenant_id, rewards.c.id == reward_id)
            .with_for_update()
        )
    ).first()
    if locked is None:
        raise NotFound("reward not found", field="id")
    draft = replace(Draft.of(repo.reward_from_row(locked)), **changes)
    checked = await _check(conn, tenant_id, draft, module_kinds, facts)
    await conn.execute(
        sql_update(rewards)
        .where(rewards.c.tenant_id == tenant_id, rewards.c.id == reward_id)
        .values(updated_at=now, **_row(checked))
    )
    found = await repo.get_reward(conn, tenant_id, reward_id)
    assert found is not None
    return found


async def _check(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    draft: Draft,
    module_kinds: Mapping[str, kinds.RewardKind],
    facts: Sequence[MemberFact],
) -> Draft:
    """The draft with its parameters normalised, or ValidationFailed naming the field."""
    if not draft.name.strip() or len(draft.name) > 200:
        raise ValidationFailed("a reward needs a name of 1-200 characters", field="name")
    if draft.points < 0 or draft.points > 2**62:
        raise ValidationFailed("points: 0 or more", field="points")
    asset = await ledger.get_asset(conn, tenant_id, draft.asset_code)
    if asset is None:
        raise ValidationFailed(f"no asset {draft.asset_code!r}", field="asset")
    if not asset.spendable:  # status points qualify, they are never spent
        raise LoyaltyError(
            f"{draft.asset_code!r} only counts and cannot be spent on a reward",
            code=ErrorCode.ASSET_NOT_SPENDABLE,
            field="asset",
        )
    if (draft.money_amount is None) != (draft.money_currency is None):
        raise ValidationFailed("money needs an amount and a currency", field="moneyCurrency")
    if draft.money_amount is not None and draft.money_amount <= 0:
        raise ValidationFailed("moneyAmount: more than 0", field="moneyAmount")
    if draft.money_currency is not None and not is_currency(draft.money_currency):
        raise ValidationFailed("moneyCurrency: an ISO 4217 code", field="moneyCurrency")
    for name, value in (
        ("stock", draft.stock),
        ("memberLimit", draft.member_limit),
        ("memberLimitDays", draft.member_limit_days),
        ("cancelWindowMinutes", draft.cancel_window_minutes),
    ):
        if value is not None and not 0 <= value <= 2**31 - 1:
            raise ValidationFailed(f"{name}: 0 to {2**31 - 1}", field=name)
    if draft.member_limit_days is not None and draft.member_limit is None:
        raise ValidationFailed("memberLimitDays needs memberLimit", field="memberLimitDays")
    if draft.valid_from and draft.valid_until and draft.valid_until <= draft.valid_from:
        raise ValidationFailed("validUntil must be after validFrom", field="validUntil")
    locales = [text.locale for text in draft.texts]
    if len(set(locales)) != len(locales) or len(locales) > MAX_TEXTS:
        raise ValidationFailed(f"one text per locale, at most {MAX_TEXTS}", field="texts")
    segment = draft.segment.strip() if draft.segment is not None else ""
    conditions.check_member(segment, facts=facts, field="segment")
    params = await _params(conn, tenant_id, draft, module_kinds)
    return replace(draft, params=params, segment=segment or None)


async def _params(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    draft: Draft,
    module_kinds: Mapping[str, kinds.RewardKind],
) -> dict[str, Any]:
    templates: dict[str, type[BaseModel]] = {
        kinds.VOUCHER: kinds.VoucherTemplate,
        kinds.ENTITLEMENT: kinds.EntitlementTemplate,
    }
    template = templates.get(draft.kind)
    if template is not None:
        try:
            parsed = template.model_validate(draft.params)
        except PydanticError as error:
            first = error.errors()[0]
            raise ValidationFailed(
                f"{draft.kind.lower()}: {first['msg']}", field=draft.kind.lower()
            ) from error
        if isinstance(parsed, kinds.VoucherTemplate) and parsed.pool_id is not None:
            await _require_pool(conn, tenant_id, parsed.pool_id)
        return parsed.model_dump(mode="json", exclude_none=True)
    if draft.kind == kinds.PHYSICAL:
        return {}
    module_kind = module_kinds.get(draft.kind)
    if module_kind is None:
        known = ", ".join([*kinds.BUILT_IN, *sorted(module_kinds)])
        raise ValidationFailed(f"unknown kind {draft.kind!r}: one of {known}", field="kind")
    try:
        module_kind.check(draft.params)
    except ValueError as error:
        raise ValidationFailed(f"{draft.kind}: {error}", field="params") from error
    return dict(draft.params)


async def _require_pool(conn: AsyncConnection, tenant_id: uuid.UUID, pool_id: uuid.UUID) -> None:
    found = await conn.scalar(
        select(pools.c.id).where(pools.c.tenant_id == tenant_id, pools.c.id == pool_id)
    )
    if found is None:
        raise NotFound("no voucher pool with this id", field="voucher")


def _row(draft: Draft) -> dict[str, Any]:
    values = asdict(draft)
    values["texts"] = [
        {k: v for k, v in asdict(text).items() if v is not None} for text in draft.texts
    ]
    return values


__all__ = ["Draft", "create", "update"]
