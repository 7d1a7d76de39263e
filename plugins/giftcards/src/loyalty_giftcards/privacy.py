"""Gift cards' part of privacy requests (``loyalty_member_data()``).

Export: the member's cards (code masked to its last four symbols, whether the programme
holds the code for the member to reveal, balance, value held for payments, status, times)
each with its event log.

Erasure: a gift card is a bearer instrument, not an account of the person: its value belongs
to whoever holds the code. So the member's cards are unassigned (``member_id`` cleared, the
sealed code dropped, an ``unassigned`` event logged) and their balances stay on them: the
ledger does not move, and a code the member kept still spends; a payment's hold stays too
and is captured or voided as usual (the erased member's own open payments are voided by the
payment module's erasure, through this module's tender, which logs ``released``). The failed
look-up counter of the member's credential goes too. What stays is history without personal
data: the event log (amounts, actors and counterparts as ids, the programme's causes), as in
the core.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loyalty_core.sdk import MemberData, MemberDataContext
from sqlalchemy import delete

from loyalty_giftcards import codes, lockout, service
from loyalty_giftcards import repository as repo
from loyalty_giftcards.tables import lockouts


async def export_member(ctx: MemberDataContext) -> Mapping[str, Any]:
    conn, tenant_id = ctx.conn, ctx.tenant_id
    cards = (await repo.cards_of_members(conn, tenant_id, [ctx.member_id]))[ctx.member_id]
    funds = await service.funds_of(conn, tenant_id, cards)
    logs = await repo.events_of(conn, tenant_id, [card.id for card in cards])
    return {
        "cards": [
            {
                "id": card.id,
                "maskedCode": codes.masked(card.last_four),
                "lastFour": card.last_four,
                "codeHeld": card.code_held,
                "currency": card.currency,
                "status": card.status.value,
                "balance": funds[card.id].available,
                "held": funds[card.id].held,
                "batchId": card.batch_id,
                "expiresAt": card.expires_at,
                "lastUsedAt": card.last_used_at,
                "createdAt": card.created_at,
                "events": [
                    {
                        "id": event.id,
                        "kind": event.kind.value,
                        "amount": event.amount,
                        "balanceAfter": event.balance_after,
                        "transactionId": event.transaction_id,
                        "actor": event.actor,
                        "causeKind": event.cause_kind,
                        "causeId": event.cause_id,
                        "createdAt": event.created_at,
                    }
                    for event in logs[card.id]
                ],
            }
            for card in cards
        ]
    }


async def erase_member(ctx: MemberDataContext) -> int:
    actor = service.Actor(ctx.actor, "erasure", None)
    changed = await service.unassign_member(ctx.conn, ctx.tenant_id, ctx.member_id, actor=actor)
    forgotten = await ctx.conn.execute(
        delete(lockouts).where(
            lockouts.c.tenant_id == ctx.tenant_id,
            lockouts.c.subject == lockout.credential_subject(f"member:{ctx.member_id}"),
        )
    )
    return changed + forgotten.rowcount


MEMBER_DATA = MemberData(export=export_member, erase=erase_member)

__all__ = ["MEMBER_DATA", "erase_member", "export_member"]
