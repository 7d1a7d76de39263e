"""Business rules of gift cards: every way a card's value moves, in the caller's transaction.

Invariants (checked by the tests through the API):

- a card's value lives in its ledger account (``giftcard:<id>``, stored value); every
  movement is one balanced ledger transaction against the tenant's liability account
  (loads, redemptions, refunds, cancellations) or breakage account (expiry), so per
  currency: sum of cards + liability + breakage == 0;
- a movement first locks the card row (two cards: in id order), then posts; the ledger's
  conditional balance update is a second guard, so a card is never overdrawn;
- a movement with an idempotency key runs once: a replay finds the event the first run
  wrote (under the card lock, so concurrent replays queue behind the first) and returns it;
  the same key with another request is IDEMPOTENCY_CONFLICT;
- a payment's hold sets value aside in the card's account (``held``): a card shows and
  spends only the rest, and stays active while the hold is open (cancel refuses it, expiry
  waits for it).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from loyalty_core.sdk import (
    Conflict,
    ErrorCode,
    LoyaltyError,
    NotFound,
    ValidationFailed,
    ledger,
    members,
    new_id,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_giftcards import codes
from loyalty_giftcards import repository as repo
from loyalty_giftcards.keys import TenantKeys, tenant_keys
from loyalty_giftcards.lookup import pin_hash
from loyalty_giftcards.models import (
    Batch,
    Card,
    CardEvent,
    CardStatus,
    EventKind,
    Issued,
    Movement,
    Revealed,
)
from loyalty_giftcards.settings import ExpiryPolicy, GiftCardSettings, asset_code

MAX_BATCH = 10_000
MAX_AMOUNT = 2**31 - 1
_CHUNK = 1_000


@dataclass(frozen=True)
class Actor:
    """Who moves value and why: the ledger and the event log record both."""

    name: str
    cause_kind: str = "operator"
    cause_id: str | None = None

    @property
    def cause(self) -> tuple[str, str | None]:
        return (self.cause_kind, self.cause_id)


class NotActive(LoyaltyError):
    code = ErrorCode.GIFT_CARD_NOT_ACTIVE


async def issue(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: GiftCardSettings,
    *,
    currency: str,
    amount: int,
    actor: Actor,
    now: datetime,
    member_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
) -> Issued:
    """A new active digital card loaded with ``amount``. A replay returns the card without
    its code. A card issued to a member keeps its code sealed, so that the member can
    reveal it (:func:`reveal`); an anonymous card's code is shown in this answer only."""
    currency = _currency(settings, currency)
    _check_amount(amount, settings.max_balance)
    key = f"giftcards:issue:{idempotency_key or new_id()}"
    request = {"currency": currency, "amount": amount, "member": member_id}
    # No card row exists yet to lock, so the key itself is the lock for concurrent replays.
    await conn.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"{tenant_id}:{key}"}
    )
    replay = await _replay(conn, tenant_id, key, request)
    if replay is not None:
        card = await repo.get_card(conn, tenant_id, replay.card_id)
        assert card is not None
        return Issued(card=card, code=None, pin=None, event=replay, replayed=True)
    if member_id is not None:
        await members.require_active(conn, tenant_id, member_id)
    secret = await tenant_keys(conn, tenant_id)
    card_id, code, pin = new_id(), codes.new_code(settings.code_length), _new_pin(settings)
    asset = await _asset(conn, tenant_id, currency)
    account = await _card_account(conn, tenant_id, card_id, asset)
    sealed = None if member_id is None else codes.seal(secret.sealing, tenant_id, card_id, code)
    await repo.insert_cards(
        conn,
        [
            _card_row(tenant_id, card_id, secret, code, pin, currency, now, settings)
            | {
                "status": CardStatus.ACTIVE.value,
                "member_id": member_id,
                "account_id": account,
                "code_sealed": sealed,
            }
        ],
    )
    posted = await _post(
        conn,
        tenant_id,
        key,
        actor,
        now,
        ledger.TransactionKind.LOAD,
        asset,
        [(account, amount), (await _liability(conn, tenant_id, asset), -amount)],
        {"card": card_id, **request},
        "gift card issued",
    )
    event = await repo.insert_event(
        conn,
        tenant_id,
        card_id=card_id,
        kind=EventKind.ISSUED,
        actor=actor.name,
        cause=actor.cause,
        amount=amount,
        balance_after=amount,
        transaction_id=posted.transaction.id,
        idempotency_key=key,
        request_hash=_hash(request),
    )
    card = await repo.get_card(conn, tenant_id, card_id)
    assert card is not None
    return Issued(card=card, code=codes.display(code), pin=pin, event=event)


async def issue_batch(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: GiftCardSettings,
    *,
    currency: str,
    count: int,
    actor: Actor,
    now: datetime,
    idempotency_key: str | None = None,
) -> Batch:
    """``count`` inactive physical cards, and their codes as CSV for the one export.

    Cards carry no value until activated at a till, so no ledger account is made here; the
    CSV (code, PIN) waits in the batch row until the printer's download takes it. With an
    ``idempotency_key``, a retried request returns the first batch (``replayed``) and makes
    no cards; the same key with another count or currency is IDEMPOTENCY_CONFLICT.
    """
    currency = _currency(settings, currency)
    if not 1 <= count <= MAX_BATCH:
        raise ValidationFailed(f"count: 1 to {MAX_BATCH} cards per batch", field="count")
    request_hash = _hash({"currency": currency, "count": count})
    if idempotency_key is not None:
        # No row to lock yet: the key is the lock, so a concurrent retry waits and then
        # finds the batch the first request made.
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
            {"k": f"{tenant_id}:giftcards:batch:{idempotency_key}"},
        )
        found = await repo.batch_by_key(conn, tenant_id, idempotency_key)
        if found is not None:
            if found[1] != request_hash:
                raise Conflict(
                    "this idempotency key was used for a different request",
                    code=ErrorCode.IDEMPOTENCY_CONFLICT,
                    field="idempotencyKey",
                )
            return replace(found[0], replayed=True)
    await _asset(conn, tenant_id, currency)
    secret = await tenant_keys(conn, tenant_id)
    batch_id = new_id()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "pin", "last_four"])
    cards: list[dict[str, Any]] = []
    for _ in range(count):
        card_id, code, pin = new_id(), codes.new_code(settings.code_length), _new_pin(settings)
        row = _card_row(tenant_id, card_id, secret, code, pin, currency, now, settings)
        cards.append(row | {"status": CardStatus.INACTIVE.value, "batch_id": batch_id})
        writer.writerow([codes.display(code), pin or "", codes.last_four(code)])
    batch = await repo.insert_batch(
        conn,
        tenant_id,
        batch_id=batch_id,
        currency=currency,
        size=count,
        actor=actor.name,
        export=out.getvalue(),
        idempotency_key=idempotency_key,
        request_hash=None if idempotency_key is None else request_hash,
    )
    for start in range(0, count, _CHUNK):
        chunk = cards[start : start + _CHUNK]
        await repo.insert_cards(conn, chunk)
        await repo.insert_events(conn, [_issued_event(tenant_id, c["id"], actor) for c in chunk])
    return batch


async def activate(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: GiftCardSettings,
    card_id: uuid.UUID,
    *,
    amount: int,
    idempotency_key: str,
    actor: Actor,
    now: datetime,
) -> Movement:
    """Activate a physical card at a till, loading ``amount`` onto it."""
    _check_amount(amount, settings.max_balance)
    key, request = f"giftcards:activate:{idempotency_key}", {"card": card_id, "amount": amount}
    card = await repo.lock_card(conn, tenant_id, card_id)
    replay = await _replay(conn, tenant_id, key, request)
    if replay is not None:
        return Movement(card, replay, replayed=True)
    if card.status is not CardStatus.INACTIVE:
        raise NotActive("only an inactive card can be activated", field="code")
    asset = await _asset(conn, tenant_id, card.currency)
    account = await _card_account(conn, tenant_id, card.id, asset)
    posted = await _post(
        conn,
        tenant_id,
        key,
        actor,
        now,
        ledger.TransactionKind.LOAD,
        asset,
        [(account, amount), (await _liability(conn, tenant_id, asset), -amount)],
        request,
        "gift card activated",
    )
    card = await repo.update_card(
        conn,
        tenant_id,
        card.id,
        status=CardStatus.ACTIVE.value,
        account_id=account,
        expires_at=_expiry(settings, now),
        last_used_at=now,
    )
    event = await _event(
        conn,
        tenant_id,
        card,
        EventKind.ACTIVATED,
        amount,
        posted.transaction.id,
        key,
        request,
        actor,
    )
    return Movement(card, event, replayed=False)


async def redeem(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: GiftCardSettings,
    card_id: uuid.UUID,
    *,
    amount: int,
    idempotency_key: str,
    actor: Actor,
    now: datetime,
) -> Movement:
    """Spend ``amount`` of the card (partial redemption); INSUFFICIENT_BALANCE when short."""
    return await _card_to_counter(
        conn,
        tenant_id,
        settings,
        card_id,
        amount=amount,
        actor=actor,
        now=now,
        key=f"giftcards:redeem:{idempotency_key}",
        kind=EventKind.REDEEMED,
        ledger_kind=ledger.TransactionKind.SPEND,
    )


async def reload(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: GiftCardSettings,
    card_id: uuid.UUID,
    *,
    amount: int,
    idempotency_key: str,
    actor: Actor,
    now: datetime,
) -> Movement:
    """Load new money onto an active card, up to the maximum balance."""
    return await _counter_to_card(
        conn,
        tenant_id,
        settings,
        card_id,
        amount=amount,
        actor=actor,
        now=now,
        key=f"giftcards:reload:{idempotency_key}",
        kind=EventKind.RELOADED,
        ledger_kind=ledger.TransactionKind.LOAD,
    )


async def refund(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: GiftCardSettings,
    card_id: uuid.UUID,
    *,
    amount: int,
    idempotency_key: str,
    actor: Actor,
    now: datetime,
) -> Movement:
    """Give back to the card what a returned purchase took from it: all refunds of a card
    together never exceed what was redeemed from it."""
    return await _counter_to_card(
        conn,
        tenant_id,
        settings,
        card_id,
        amount=amount,
        actor=actor,
        now=now,
        key=f"giftcards:refund:{idempotency_key}",
        kind=EventKind.REFUNDED,
        ledger_kind=ledger.TransactionKind.REFUND,
    )


async def transfer(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: GiftCardSettings,
    source_id: uuid.UUID,
    target_id: uuid.UUID,
    *,
    amount: int,
    idempotency_key: str,
    actor: Actor,
    now: datetime,
) -> tuple[Movement, Card]:
    """Move ``amount`` from one card to another of the same currency."""
    _check_amount(amount, MAX_AMOUNT)
    if source_id == target_id:
        raise ValidationFailed("a card cannot transfer to itself", field="targetCode")
    key = f"giftcards:transfer:{idempotency_key}"
    request = {"card": source_id, "target": target_id, "amount": amount}
    locked = {
        cid: await repo.lock_card(conn, tenant_id, cid) for cid in sorted([source_id, target_id])
    }
    source, target = locked[source_id], locked[target_id]
    replay = await _replay(conn, tenant_id, key, request)
    if replay is not None:
        return Movement(source, replay, replayed=True), target
    _require_usable(source, now)
    _require_usable(target, now, field="targetCode")
    if source.currency != target.currency:
        raise ValidationFailed("both cards must hold the same currency", field="targetCode")
    asset = await _asset(conn, tenant_id, source.currency)
    assert source.account_id is not None
    assert target.account_id is not None
    await _require_room(conn, tenant_id, target, amount, settings)
    posted = await _post(
        conn,
        tenant_id,
        key,
        actor,
        now,
        ledger.TransactionKind.TRANSFER,
        asset,
        [(source.account_id, -amount), (target.account_id, amount)],
        request,
        "gift card balance transferred",
    )
    source = await _used(conn, tenant_id, source, settings, now)
    target = await _used(conn, tenant_id, target, settings, now)
    event = await _event(
        conn,
        tenant_id,
        source,
        EventKind.TRANSFERRED_OUT,
        amount,
        posted.transaction.id,
        key,
        request,
        actor,
        counterpart=target.id,
    )
    await _event(
        conn,
        tenant_id,
        target,
        EventKind.TRANSFERRED_IN,
        amount,
        posted.transaction.id,
        None,
        None,
        actor,
        counterpart=source.id,
    )
    return Movement(source, event, replayed=False), target


async def cancel(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    card_id: uuid.UUID,
    *,
    actor: Actor,
    now: datetime,
) -> Movement:
    """Cancel a card: what is left goes back to the tenant's liability (paid out to the
    customer outside the programme), and the card never moves value again. VALUE_HELD
    while a payment holds part of it: that value is promised to a till, so the payment is
    voided (or captured) first."""
    card = await repo.lock_card(conn, tenant_id, card_id)
    if card.status not in (CardStatus.ACTIVE, CardStatus.INACTIVE):
        raise NotActive(f"the card is {card.status.value}", field="id")
    if (await _funds(conn, tenant_id, card)).held:
        raise Conflict(
            "a payment holds value on this card: void the payment first",
            code=ErrorCode.VALUE_HELD,
            field="id",
        )
    return await _close(
        conn,
        tenant_id,
        card,
        now=now,
        actor=actor,
        status=CardStatus.CANCELLED,
        kind=EventKind.CANCELLED,
        ledger_kind=ledger.TransactionKind.CANCELLATION,
        counter=ledger.Purpose.LIABILITY,
    )


async def expire(
    conn: AsyncConnection, tenant_id: uuid.UUID, card_id: uuid.UUID, *, now: datetime
) -> Movement | None:
    """Expire a card whose time has come: the remainder goes to breakage. None when the
    card is not (or no longer) due: a second run, even a concurrent one, waits for the
    first's lock on the card, then finds it expired and writes nothing. None too while a
    payment holds value on it (authorised before the card ran out, the payment may still
    capture it): the next run expires the card once the hold is captured or released."""
    card = await repo.lock_card(conn, tenant_id, card_id)
    if card.status is not CardStatus.ACTIVE or card.expires_at is None or card.expires_at > now:
        return None
    if (await _funds(conn, tenant_id, card)).held:
        return None
    return await _close(
        conn,
        tenant_id,
        card,
        now=now,
        actor=Actor("system", "job", "giftcards.expiry"),
        status=CardStatus.EXPIRED,
        kind=EventKind.EXPIRED,
        ledger_kind=ledger.TransactionKind.EXPIRY,
        counter=ledger.Purpose.BREAKAGE,
    )


async def assign(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    card_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    actor: Actor,
) -> Card:
    """Give a card to a member (it then appears in ``Member.giftCards``); only an active
    member is given one (an erased member's token must find nothing new to reveal)."""
    await members.require_active(conn, tenant_id, member_id)
    card = await repo.lock_card(conn, tenant_id, card_id)
    if card.member_id == member_id:
        return card
    card = await repo.update_card(conn, tenant_id, card.id, member_id=member_id)
    balance = await _balance(conn, tenant_id, card)
    await repo.insert_event(
        conn,
        tenant_id,
        card_id=card.id,
        kind=EventKind.ASSIGNED,
        actor=actor.name,
        cause=actor.cause,
        balance_after=balance,
        counterpart_id=member_id,
    )
    return card


async def reveal(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    card_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    actor: Actor,
) -> Revealed:
    """The full code of the member's own card, for the member; every reveal is written to
    the card's event log. NOT_FOUND for a card that is not the member's (existence is not
    leaked) and for one whose code the programme does not hold (a printed card given to the
    member: its code is on the card); GIFT_CARD_NOT_ACTIVE once cancelled or expired."""
    card = await repo.get_card(conn, tenant_id, card_id)
    if card is None or card.member_id != member_id:
        raise NotFound("no such gift card", field="id")
    sealed = await repo.sealed_code(conn, tenant_id, card.id)
    if sealed is None:
        raise NotFound("this card's code is on the card itself", field="id")
    if card.status in (CardStatus.CANCELLED, CardStatus.EXPIRED):
        raise NotActive(f"the card is {card.status.value}", field="id")
    secret = await tenant_keys(conn, tenant_id)
    code = codes.unseal(secret.sealing, tenant_id, card.id, sealed)
    event = await repo.insert_event(
        conn,
        tenant_id,
        card_id=card.id,
        kind=EventKind.REVEALED,
        actor=actor.name,
        cause=actor.cause,
        balance_after=await _balance(conn, tenant_id, card),
    )
    return Revealed(card=card, code=codes.display(code), event=event)


async def unassign_member(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_id: uuid.UUID, *, actor: Actor
) -> int:
    """Erasure: the member's cards stop being theirs. A card is a bearer instrument, so its
    value stays on it (the ledger does not move) for whoever holds the code; the sealed code
    goes, since no owner is left to reveal it to. Each card logs ``unassigned``. Returns how
    many cards changed (0 on a second run)."""
    changed = 0
    for card in await repo.lock_cards_of_member(conn, tenant_id, member_id):
        await repo.update_card(conn, tenant_id, card.id, member_id=None, code_sealed=None)
        await repo.insert_event(
            conn,
            tenant_id,
            card_id=card.id,
            kind=EventKind.UNASSIGNED,
            actor=actor.name,
            cause=actor.cause,
            balance_after=await _balance(conn, tenant_id, card),
            counterpart_id=member_id,
        )
        changed += 1
    return changed


# -- payments: the GIFT_CARD tender's phases (see loyalty_giftcards.tender) ----------------
#
# A payment authorises by holding value on the card (it stays on the card, but nothing else
# can spend it), then captures the hold (a redemption) or releases it (void, lapse), and may
# refund later. A card with an open hold is always active: cancel refuses it and expiry
# skips it, so capture and release never check the card's status.


async def spendable(
    conn: AsyncConnection, tenant_id: uuid.UUID, card_id: uuid.UUID, *, currency: str, now: datetime
) -> int:
    """Lock the card and say what a payment in ``currency`` may hold of it: 0 for a card in
    another currency; GIFT_CARD_NOT_ACTIVE for one that cannot pay at all."""
    card = await repo.lock_card(conn, tenant_id, card_id)
    _require_usable(card, now)
    if card.currency != currency.upper():
        return 0
    return await _balance(conn, tenant_id, card)


async def hold(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    card_id: uuid.UUID,
    *,
    amount: int,
    currency: str,
    expires_at: datetime,
    key: str,
    actor: Actor,
    now: datetime,
) -> tuple[Card, ledger.Hold]:
    """Set ``amount`` of the card aside for a payment (INSUFFICIENT_BALANCE when less is
    spendable). A replay returns the first hold and logs nothing more."""
    _check_amount(amount, MAX_AMOUNT)
    request = {"card": card_id, "amount": amount}
    card = await repo.lock_card(conn, tenant_id, card_id)
    replay = await _replay(conn, tenant_id, key, request)
    if replay is None:
        _require_usable(card, now)
        if card.currency != currency.upper():
            raise ValidationFailed(f"the card holds {card.currency}", field="currency")
    assert card.account_id is not None
    held = await ledger.place_hold(
        conn,
        _posting(tenant_id, key, actor, now, "gift card held for a payment"),
        account_id=card.account_id,
        asset=await _asset(conn, tenant_id, card.currency),
        amount=amount,
        expires_at=expires_at,
    )
    if replay is None:
        await _event(conn, tenant_id, card, EventKind.HELD, amount, None, key, request, actor)
    return card, held


async def capture(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: GiftCardSettings,
    card_id: uuid.UUID,
    hold_id: uuid.UUID,
    *,
    amount: int,
    key: str,
    actor: Actor,
    now: datetime,
) -> Movement:
    """Close a payment's hold, redeeming ``amount`` of it (at most what it holds) and giving
    the rest back to the card; capturing nothing releases it. INVALID_PAYMENT_STATE when
    the hold is not open any more (voided, captured under another key); a replay returns
    the first event."""
    if amount == 0:
        released = await release(conn, tenant_id, card_id, hold_id, key=key, actor=actor, now=now)
        if released is None:
            raise _hold_not_open()
        return released
    request = {"card": card_id, "hold": hold_id, "amount": amount}
    card = await repo.lock_card(conn, tenant_id, card_id)
    replay = await _replay(conn, tenant_id, key, request)
    if replay is not None:
        return Movement(card, replay, replayed=True)
    if not 0 < amount <= (await _hold_of(conn, tenant_id, card, hold_id)).amount:
        raise ValidationFailed("a capture takes at most what the payment holds", field="amount")
    assert card.account_id is not None
    asset = await _asset(conn, tenant_id, card.currency)
    legs = [(card.account_id, -amount), (await _liability(conn, tenant_id, asset), amount)]

    async def debit() -> ledger.Posted:
        return await _post(
            conn,
            tenant_id,
            key,
            actor,
            now,
            ledger.TransactionKind.SPEND,
            asset,
            legs,
            request,
            "gift card redeemed by a payment",
        )

    captured = await ledger.capture_hold(conn, tenant_id, hold_id, now=now, debit=debit)
    if captured is None:
        raise _hold_not_open()
    card = await _used(conn, tenant_id, card, settings, now)
    event = await _event(
        conn,
        tenant_id,
        card,
        EventKind.REDEEMED,
        amount,
        captured[1].transaction.id,
        key,
        request,
        actor,
    )
    return Movement(card, event, replayed=False)


async def release(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    card_id: uuid.UUID,
    hold_id: uuid.UUID,
    *,
    key: str,
    actor: Actor,
    now: datetime,
) -> Movement | None:
    """End a payment's hold without moving value (void, lapse): what it held is spendable
    again. None when the hold is closed already (a capture or another release got there
    first); a replay returns the first event."""
    request = {"card": card_id, "hold": hold_id}
    card = await repo.lock_card(conn, tenant_id, card_id)
    replay = await _replay(conn, tenant_id, key, request)
    if replay is not None:
        return Movement(card, replay, replayed=True)
    await _hold_of(conn, tenant_id, card, hold_id)
    released = await ledger.release_hold(conn, tenant_id, hold_id, now=now)
    if released is None:
        return None
    event = await _event(
        conn, tenant_id, card, EventKind.RELEASED, released.amount, None, key, request, actor
    )
    return Movement(card, event, replayed=False)


async def refund_payment(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: GiftCardSettings,
    card_id: uuid.UUID,
    *,
    amount: int,
    key: str,
    actor: Actor,
    now: datetime,
) -> Movement:
    """Give back to the card what a payment captured from it, like :func:`refund` (all
    refunds of a card together never exceed its redemptions) but beyond the maximum
    balance: it only returns what was taken. A card cancelled or expired since is
    GIFT_CARD_NOT_ACTIVE: its life is over, so the till refunds by other means."""
    return await _counter_to_card(
        conn,
        tenant_id,
        settings,
        card_id,
        amount=amount,
        actor=actor,
        now=now,
        key=key,
        kind=EventKind.REFUNDED,
        ledger_kind=ledger.TransactionKind.REFUND,
        within_max_balance=False,
    )


async def funds_of(
    conn: AsyncConnection, tenant_id: uuid.UUID, cards: Sequence[Card]
) -> dict[uuid.UUID, ledger.Funds]:
    """Balance and held value of many cards in one query (a card without an account holds
    nothing); what a card can spend is ``available``."""
    found = await ledger.account_funds(
        conn, tenant_id, [card.account_id for card in cards if card.account_id is not None]
    )
    empty = ledger.Funds(0, 0)
    return {
        card.id: found.get(card.account_id, empty) if card.account_id else empty for card in cards
    }


# -- helpers -----------------------------------------------------------------------------


async def _card_to_counter(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: GiftCardSettings,
    card_id: uuid.UUID,
    *,
    amount: int,
    actor: Actor,
    now: datetime,
    key: str,
    kind: EventKind,
    ledger_kind: ledger.TransactionKind,
) -> Movement:
    _check_amount(amount, MAX_AMOUNT)
    request = {"card": card_id, "amount": amount}
    card = await repo.lock_card(conn, tenant_id, card_id)
    replay = await _replay(conn, tenant_id, key, request)
    if replay is not None:
        return Movement(card, replay, replayed=True)
    _require_usable(card, now)
    assert card.account_id is not None
    asset = await _asset(conn, tenant_id, card.currency)
    posted = await _post(
        conn,
        tenant_id,
        key,
        actor,
        now,
        ledger_kind,
        asset,
        [(card.account_id, -amount), (await _liability(conn, tenant_id, asset), amount)],
        request,
        f"gift card {kind.value}",
    )
    card = await _used(conn, tenant_id, card, settings, now)
    event = await _event(
        conn, tenant_id, card, kind, amount, posted.transaction.id, key, request, actor
    )
    return Movement(card, event, replayed=False)


async def _counter_to_card(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    settings: GiftCardSettings,
    card_id: uuid.UUID,
    *,
    amount: int,
    actor: Actor,
    now: datetime,
    key: str,
    kind: EventKind,
    ledger_kind: ledger.TransactionKind,
    within_max_balance: bool = True,
) -> Movement:
    """Value onto the card from the liability; ``within_max_balance=False`` for giving back
    what a payment took, which the maximum balance must not block."""
    _check_amount(amount, settings.max_balance if within_max_balance else MAX_AMOUNT)
    request = {"card": card_id, "amount": amount}
    card = await repo.lock_card(conn, tenant_id, card_id)
    replay = await _replay(conn, tenant_id, key, request)
    if replay is not None:
        return Movement(card, replay, replayed=True)
    _require_usable(card, now)
    assert card.account_id is not None
    if within_max_balance:
        await _require_room(conn, tenant_id, card, amount, settings)
    if kind is EventKind.REFUNDED:
        redeemed = await repo.amount_of(conn, tenant_id, card.id, EventKind.REDEEMED)
        refunded = await repo.amount_of(conn, tenant_id, card.id, EventKind.REFUNDED)
        if refunded + amount > redeemed:
            raise ValidationFailed(
                f"refunds would exceed the {redeemed} redeemed from this card", field="amount"
            )
    asset = await _asset(conn, tenant_id, card.currency)
    posted = await _post(
        conn,
        tenant_id,
        key,
        actor,
        now,
        ledger_kind,
        asset,
        [(card.account_id, amount), (await _liability(conn, tenant_id, asset), -amount)],
        request,
        f"gift card {kind.value}",
    )
    card = await _used(conn, tenant_id, card, settings, now)
    event = await _event(
        conn, tenant_id, card, kind, amount, posted.transaction.id, key, request, actor
    )
    return Movement(card, event, replayed=False)


async def _close(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    card: Card,
    *,
    now: datetime,
    actor: Actor,
    status: CardStatus,
    kind: EventKind,
    ledger_kind: ledger.TransactionKind,
    counter: ledger.Purpose,
) -> Movement:
    """End a card's life, moving what is left to ``counter`` (keyed by the card: once). The
    callers make sure no payment holds part of it, so its spendable balance is all of it."""
    balance = await _balance(conn, tenant_id, card)
    transaction_id = None
    if balance > 0 and card.account_id is not None:
        asset = await _asset(conn, tenant_id, card.currency)
        counter_id = await ledger.tenant_account(conn, tenant_id, asset, counter)
        posted = await _post(
            conn,
            tenant_id,
            f"giftcards:{kind.value}:{card.id}",
            actor,
            now,
            ledger_kind,
            asset,
            [(card.account_id, -balance), (counter_id, balance)],
            {"card": card.id},
            f"gift card {kind.value}",
        )
        transaction_id = posted.transaction.id
    card = await repo.update_card(conn, tenant_id, card.id, status=status.value)
    event = await repo.insert_event(
        conn,
        tenant_id,
        card_id=card.id,
        kind=kind,
        actor=actor.name,
        cause=actor.cause,
        amount=balance,
        balance_after=0,
        transaction_id=transaction_id,
    )
    return Movement(card, event, replayed=False)


async def _post(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    key: str,
    actor: Actor,
    now: datetime,
    kind: ledger.TransactionKind,
    asset: ledger.Asset,
    legs: list[tuple[uuid.UUID, int]],
    request: dict[str, Any],
    reason: str,
) -> ledger.Posted:
    posting = _posting(tenant_id, key, actor, now, reason)
    return await ledger.post(
        conn, posting, kind=kind, asset=asset, legs=legs, request=_jsonable(request)
    )


def _posting(
    tenant_id: uuid.UUID, key: str, actor: Actor, now: datetime, reason: str
) -> ledger.Posting:
    """Who writes to the ledger, why and under which key: a post's and a hold's header."""
    return ledger.Posting(
        tenant_id=tenant_id,
        idempotency_key=key,
        reason=reason,
        cause=ledger.Cause(kind=actor.cause_kind, id=actor.cause_id),
        actor=actor.name,
        now=now,
    )


async def _replay(
    conn: AsyncConnection, tenant_id: uuid.UUID, key: str, request: dict[str, Any]
) -> CardEvent | None:
    """The event a first run with this key wrote, or None; another request is a conflict."""
    found = await repo.event_by_key(conn, tenant_id, key)
    if found is None:
        return None
    event, request_hash = found
    if request_hash != _hash(request):
        raise Conflict(
            "this idempotency key was used for a different request",
            code=ErrorCode.IDEMPOTENCY_CONFLICT,
            field="idempotencyKey",
        )
    return event


async def _event(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    card: Card,
    kind: EventKind,
    amount: int,
    transaction_id: uuid.UUID | None,
    key: str | None,
    request: dict[str, Any] | None,
    actor: Actor,
    *,
    counterpart: uuid.UUID | None = None,
) -> CardEvent:
    return await repo.insert_event(
        conn,
        tenant_id,
        card_id=card.id,
        kind=kind,
        actor=actor.name,
        cause=actor.cause,
        amount=amount,
        balance_after=await _balance(conn, tenant_id, card),
        transaction_id=transaction_id,
        idempotency_key=key,
        request_hash=None if request is None else _hash(request),
        counterpart_id=counterpart,
    )


async def _used(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    card: Card,
    settings: GiftCardSettings,
    now: datetime,
) -> Card:
    """Record a use; under the after-last-use policy, the expiry moves with it."""
    values: dict[str, Any] = {"last_used_at": now}
    if settings.expiry_policy is ExpiryPolicy.AFTER_LAST_USE:
        values["expires_at"] = _expiry(settings, now)
    return await repo.update_card(conn, tenant_id, card.id, **values)


async def _require_room(
    conn: AsyncConnection, tenant_id: uuid.UUID, card: Card, amount: int, settings: GiftCardSettings
) -> None:
    """The maximum balance, checked under the card lock (no movement can interleave). Value
    a payment holds counts: it is still on the card until the payment captures it."""
    if (await _funds(conn, tenant_id, card)).balance + amount > settings.max_balance:
        raise ValidationFailed(f"a card may hold at most {settings.max_balance}", field="amount")


def _require_usable(card: Card, now: datetime, *, field: str = "code") -> None:
    if card.status is not CardStatus.ACTIVE:
        raise NotActive(f"the card is {card.status.value}", field=field)
    if card.expires_at is not None and card.expires_at <= now:
        raise NotActive("the card has expired", field=field)


async def _hold_of(
    conn: AsyncConnection, tenant_id: uuid.UUID, card: Card, hold_id: uuid.UUID
) -> ledger.Hold:
    """The ledger hold ``hold_id`` if it was placed on this card: a payment names the hold,
    and capturing or releasing another card's hold under this card's lock must not pass."""
    found = await ledger.get_hold(conn, tenant_id, hold_id)
    if found is None or found.account_id != card.account_id:
        raise NotFound("no such hold on this gift card", field="holdId")
    return found


def _hold_not_open() -> Conflict:
    return Conflict(
        "the payment's hold on this gift card is not open any more",
        code=ErrorCode.INVALID_PAYMENT_STATE,
    )


async def _funds(conn: AsyncConnection, tenant_id: uuid.UUID, card: Card) -> ledger.Funds:
    """The card account's balance and the part of it payments hold (nothing before
    activation: an inactive card has no account)."""
    if card.account_id is None:
        return ledger.Funds(0, 0)
    return (await ledger.account_funds(conn, tenant_id, [card.account_id]))[card.account_id]


async def _balance(conn: AsyncConnection, tenant_id: uuid.UUID, card: Card) -> int:
    """What the card can spend now, its balance less what payments hold: what a card shows
    (the API's ``balance``, an event's ``balance_after``)."""
    return (await _funds(conn, tenant_id, card)).available


async def _asset(conn: AsyncConnection, tenant_id: uuid.UUID, currency: str) -> ledger.Asset:
    asset = await ledger.get_asset(conn, tenant_id, asset_code(currency))
    if asset is None:
        raise ValidationFailed(f"gift cards are not issued in {currency}", field="currency")
    return asset


async def _card_account(
    conn: AsyncConnection, tenant_id: uuid.UUID, card_id: uuid.UUID, asset: ledger.Asset
) -> uuid.UUID:
    return await ledger.owned_account(
        conn, tenant_id, f"giftcard:{card_id}", asset, ledger.Purpose.STORED_VALUE
    )


async def _liability(conn: AsyncConnection, tenant_id: uuid.UUID, asset: ledger.Asset) -> uuid.UUID:
    return await ledger.tenant_account(conn, tenant_id, asset, ledger.Purpose.LIABILITY)


def _card_row(
    tenant_id: uuid.UUID,
    card_id: uuid.UUID,
    secret: TenantKeys,
    code: str,
    pin: str | None,
    currency: str,
    now: datetime,
    settings: GiftCardSettings,
) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "id": card_id,
        "code_hash": codes.digest(secret.hashing, code),
        "last_four": codes.last_four(code),
        "code_sealed": None,
        "pin_hash": None if pin is None else pin_hash(secret.hashing, card_id, pin),
        "currency": currency,
        "status": CardStatus.INACTIVE.value,
        "member_id": None,
        "batch_id": None,
        "account_id": None,
        "expires_at": _expiry(settings, now),
        "last_used_at": None,
    }


def _issued_event(tenant_id: uuid.UUID, card_id: uuid.UUID, actor: Actor) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "id": new_id(),
        "card_id": card_id,
        "kind": EventKind.ISSUED.value,
        "amount": 0,
        "balance_after": 0,
        "transaction_id": None,
        "idempotency_key": None,
        "request_hash": None,
        "actor": actor.name[:200],
        "cause_kind": actor.cause_kind,
        "cause_id": actor.cause_id,
        "counterpart_id": None,
    }


def _expiry(settings: GiftCardSettings, now: datetime) -> datetime | None:
    return None if settings.expiry is None else now + settings.expiry


def _new_pin(settings: GiftCardSettings) -> str | None:
    return codes.new_pin() if settings.pin_required else None


def _currency(settings: GiftCardSettings, currency: str) -> str:
    upper = currency.upper()
    if upper not in settings.currencies:
        raise ValidationFailed(f"gift cards are not issued in {currency[:8]}", field="currency")
    return upper


def _check_amount(amount: int, most: int) -> None:
    if not 0 < amount <= most:
        raise ValidationFailed(f"amount: 1 to {most} minor units", field="amount")


def _jsonable(request: dict[str, Any]) -> dict[str, Any]:
    return {
        key: str(value) if isinstance(value, uuid.UUID) else value for key, value in request.items()
    }


def _hash(request: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


__all__ = [
    "MAX_BATCH",
    "Actor",
    "NotActive",
    "activate",
    "assign",
    "cancel",
    "capture",
    "expire",
    "funds_of",
    "hold",
    "issue",
    "issue_batch",
    "redeem",
    "refund",
    "refund_payment",
    "release",
    "reload",
    "reveal",
    "spendable",
    "transfer",
    "unassign_member",
]
