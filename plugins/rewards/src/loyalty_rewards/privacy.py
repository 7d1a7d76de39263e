"""Rewards' part of privacy requests (``loyalty_member_data()``).

Export: the member's redemptions (what, for how many points, the delivery address and
tracking of a parcel), vouchers (masked to their last four symbols) and entitlements.

Erasure: the delivery address and tracking of every redemption are blanked (they describe the
person); a parcel not yet shipped is cancelled, since there is nobody to ship it to. The
member's vouchers stay with their uses (a voucher is a bearer code: its history is the
retailer's) but lose their sealed code, which only the member could reveal. Redemptions,
amounts and entitlements stay as history keyed by ids; the core forfeits the points.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loyalty_core.sdk import MemberData, MemberDataContext, codes
from sqlalchemy import update

from loyalty_rewards import repository as repo
from loyalty_rewards.tables import redemptions, vouchers


async def export_member(ctx: MemberDataContext) -> Mapping[str, Any]:
    conn, tenant_id, member_id = ctx.conn, ctx.tenant_id, ctx.member_id
    found = (await repo.redemptions_of_members(conn, tenant_id, [member_id])).get(member_id, [])
    owned = (await repo.vouchers_of_members(conn, tenant_id, [member_id])).get(member_id, [])
    held = (await repo.entitlements_of_members(conn, tenant_id, [member_id], ctx.now)).get(
        member_id, []
    )
    return {
        "redemptions": [
            {
                "id": r.id,
                "rewardId": r.reward_id,
                "status": r.status,
                "fulfilment": r.fulfilment,
                "points": r.points,
                "asset": r.asset_code,
                "deliveryAddress": r.delivery_address,
                "tracking": r.tracking,
                "createdAt": r.created_at,
                "cancelledAt": r.cancelled_at,
            }
            for r in found
        ],
        "vouchers": [
            {
                "id": v.id,
                "maskedCode": codes.masked(v.last_four),
                "status": v.status,
                "uses": v.uses,
                "expiresAt": v.expires_at,
                "createdAt": v.created_at,
            }
            for v in owned
        ],
        "entitlements": [
            {"name": e.name, "startsAt": e.starts_at, "expiresAt": e.expires_at} for e in held
        ],
    }


async def erase_member(ctx: MemberDataContext) -> int:
    conn, tenant_id, member_id = ctx.conn, ctx.tenant_id, ctx.member_id
    mine = (redemptions.c.tenant_id == tenant_id, redemptions.c.member_id == member_id)
    stopped = await conn.execute(
        update(redemptions)
        .where(*mine, redemptions.c.fulfilment == "pending")
        .values(fulfilment="cancelled")
    )
    blanked = await conn.execute(
        update(redemptions)
        .where(
            *mine,
            (redemptions.c.delivery_address.isnot(None)) | (redemptions.c.tracking.isnot(None)),
        )
        .values(delivery_address=None, tracking=None)
    )
    unsealed = await conn.execute(
        update(vouchers)
        .where(
            vouchers.c.tenant_id == tenant_id,
            vouchers.c.member_id == member_id,
            vouchers.c.code_sealed.isnot(None),
        )
        .values(code_sealed=None)
    )
    return stopped.rowcount + blanked.rowcount + unsealed.rowcount


MEMBER_DATA = MemberData(export=export_member, erase=erase_member)

__all__ = ["MEMBER_DATA", "erase_member", "export_member"]
