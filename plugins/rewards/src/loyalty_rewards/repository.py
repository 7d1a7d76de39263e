"""SQL of the reads, every statement filtered by tenant; rows mapped to the read models.

State transitions (stock, a voucher's reservation and uses, a redemption's status) are
conditional UPDATEs in the services next to the race each wins.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_rewards.models import Entitlement, Redemption, Reward, RewardText, Voucher
from loyalty_rewards.tables import entitlements, redemptions, rewards, vouchers


def reward_from_row(row: Row[Any]) -> Reward:
    m = row._mapping
    return Reward(
        id=m["id"],
        name=m["name"],
        kind=m["kind"],
        active=m["active"],
        redeemable=m["redeemable"],
        asset_code=m["asset_code"],
        points=m["points"],
        money_amount=m["money_amount"],
        money_currency=m["money_currency"],
        stock=m["stock"],
        member_limit=m["member_limit"],
        member_limit_days=m["member_limit_days"],
        segment=m["segment"],
        valid_from=m["valid_from"],
        valid_until=m["valid_until"],
        cancel_window_minutes=m["cancel_window_minutes"],
        texts=tuple(
            RewardText(t["locale"], t["title"], t.get("description"), t.get("image_url"))
            for t in m["texts"]
        ),
        params=dict(m["params"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        segment_failures=m["segment_failures"],
        segment_error=m["segment_error"],
        segment_failed_at=m["segment_failed_at"],
    )


def redemption_from_row(row: Row[Any]) -> Redemption:
    m = row._mapping
    return Redemption(**{name: m[name] for name in Redemption.__dataclass_fields__})


def voucher_from_row(row: Row[Any]) -> Voucher:
    m = row._mapping
    return Voucher(**{name: m[name] for name in Voucher.__dataclass_fields__})


def entitlement_from_row(row: Row[Any]) -> Entitlement:
    m = row._mapping
    return Entitlement(**{name: m[name] for name in Entitlement.__dataclass_fields__})


async def get_reward(
    conn: AsyncConnection, tenant_id: uuid.UUID, reward_id: uuid.UUID
) -> Reward | None:
    row = (
        await conn.execute(
            select(rewards).where(rewards.c.tenant_id == tenant_id, rewards.c.id == reward_id)
        )
    ).first()
    return None if row is None else reward_from_row(row)


async def list_rewards(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    limit: int,
    after: uuid.UUID | None,
    kind: str | None = None,
    available_at: datetime | None = None,
) -> list[Reward]:
    """Newest first; with ``available_at``, only what a member may redeem then."""
    query = select(rewards).where(rewards.c.tenant_id == tenant_id)
    if after is not None:
        query = query.where(rewards.c.id < after)
    if kind is not None:
        query = query.where(rewards.c.kind == kind)
    if available_at is not None:
        query = query.where(
            rewards.c.active,
            rewards.c.redeemable,
            or_(rewards.c.valid_from.is_(None), rewards.c.valid_from <= available_at),
            or_(rewards.c.valid_until.is_(None), rewards.c.valid_until > available_at),
        )
    rows = await conn.execute(query.order_by(rewards.c.id.desc()).limit(limit))
    return [reward_from_row(row) for row in rows]


async def get_redemption(
    conn: AsyncConnection, tenant_id: uuid.UUID, redemption_id: uuid.UUID, *, lock: bool = False
) -> Redemption | None:
    query = select(redemptions).where(
        redemptions.c.tenant_id == tenant_id, redemptions.c.id == redemption_id
    )
    row = (await conn.execute(query.with_for_update() if lock else query)).first()
    return None if row is None else redemption_from_row(row)


async def redemption_by_key(
    conn: AsyncConnection, tenant_id: uuid.UUID, key: str
) -> Redemption | None:
    row = (
        await conn.execute(
            select(redemptions).where(
                redemptions.c.tenant_id == tenant_id, redemptions.c.idempotency_key == key
            )
        )
    ).first()
    return None if row is None else redemption_from_row(row)


async def redemptions_of_members(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Redemption]]:
    rows = await conn.execute(
        select(redemptions)
        .where(redemptions.c.tenant_id == tenant_id, redemptions.c.member_id.in_(member_ids))
        .order_by(redemptions.c.id.desc())
        .limit(100 * len(member_ids))
    )
    found: dict[uuid.UUID, list[Redemption]] = defaultdict(list)
    for row in rows:
        found[row.member_id].append(redemption_from_row(row))
    return found


async def get_voucher(
    conn: AsyncConnection, tenant_id: uuid.UUID, voucher_id: uuid.UUID
) -> Voucher | None:
    row = (
        await conn.execute(
            select(vouchers).where(vouchers.c.tenant_id == tenant_id, vouchers.c.id == voucher_id)
        )
    ).first()
    return None if row is None else voucher_from_row(row)


async def vouchers_by_ids(
    conn: AsyncConnection, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Voucher]:
    rows = await conn.execute(
        select(vouchers).where(vouchers.c.tenant_id == tenant_id, vouchers.c.id.in_(ids))
    )
    return {row.id: voucher_from_row(row) for row in rows}


async def voucher_of_redemption(
    conn: AsyncConnection, tenant_id: uuid.UUID, redemption_id: uuid.UUID
) -> Voucher | None:
    row = (
        await conn.execute(
            select(vouchers).where(
                vouchers.c.tenant_id == tenant_id, vouchers.c.redemption_id == redemption_id
            )
        )
    ).first()
    return None if row is None else voucher_from_row(row)


async def vouchers_of_members(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Voucher]]:
    rows = await conn.execute(
        select(vouchers)
        .where(vouchers.c.tenant_id == tenant_id, vouchers.c.member_id.in_(member_ids))
        .order_by(vouchers.c.id.desc())
        .limit(100 * len(member_ids))
    )
    found: dict[uuid.UUID, list[Voucher]] = defaultdict(list)
    for row in rows:
        found[row.member_id].append(voucher_from_row(row))
    return found


async def list_vouchers(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    limit: int,
    after: uuid.UUID | None,
    status: str | None = None,
    member_id: uuid.UUID | None = None,
    pool_id: uuid.UUID | None = None,
    last_four: str | None = None,
) -> list[Voucher]:
    query = select(vouchers).where(vouchers.c.tenant_id == tenant_id)
    for column, value in (
        (vouchers.c.status, status),
        (vouchers.c.member_id, member_id),
        (vouchers.c.pool_id, pool_id),
        (vouchers.c.last_four, None if last_four is None else last_four.upper()),
    ):
        if value is not None:
            query = query.where(column == value)
    if after is not None:
        query = query.where(vouchers.c.id < after)
    rows = await conn.execute(query.order_by(vouchers.c.id.desc()).limit(limit))
    return [voucher_from_row(row) for row in rows]


async def entitlements_of_members(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_ids: Sequence[uuid.UUID], now: datetime
) -> dict[uuid.UUID, list[Entitlement]]:
    """What each member holds now: started, not expired, not revoked; by name."""
    rows = await conn.execute(
        select(entitlements)
        .where(
            entitlements.c.tenant_id == tenant_id,
            entitlements.c.member_id.in_(member_ids),
            entitlements.c.starts_at <= now,
            entitlements.c.revoked_at.is_(None),
            or_(entitlements.c.expires_at.is_(None), entitlements.c.expires_at > now),
        )
        .order_by(entitlements.c.name, entitlements.c.id)
    )
    found: dict[uuid.UUID, list[Entitlement]] = defaultdict(list)
    for row in rows:
        found[row.member_id].append(entitlement_from_row(row))
    return found


async def entitlement_of_redemption(
    conn: AsyncConnection, tenant_id: uuid.UUID, redemption_id: uuid.UUID
) -> Entitlement | None:
    row = (
        await conn.execute(
            select(entitlements).where(
                and_(
                    entitlements.c.tenant_id == tenant_id,
                    entitlements.c.redemption_id == redemption_id,
                )
            )
        )
    ).first()
    return None if row is None else entitlement_from_row(row)


__all__ = [
    "entitlement_of_redemption",
    "entitlements_of_members",
    "get_redemption",
    "get_reward",
    "get_voucher",
    "list_rewards",
    "list_vouchers",
    "redemption_by_key",
    "redemptions_of_members",
    "reward_from_row",
    "voucher_from_row",
    "voucher_of_redemption",
    "vouchers_by_ids",
    "vouchers_of_members",
]
