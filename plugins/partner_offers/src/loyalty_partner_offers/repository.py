"""SQL of partner offers; every statement is filtered by tenant.

Claims are conditional updates that answer whether they took (``... WHERE used < budget
RETURNING``), never a read then a write: concurrent purchases queue on the row and each sees
the count the one before it committed, so a budget, a daily cap or a member's limit is never
passed, on any number of gateways.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from loyalty_core.sdk import Prepared, new_id
from sqlalchemy import and_, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_partner_offers.models import (
    Activation,
    MemberActivation,
    Offer,
    Status,
    Terms,
)
from loyalty_partner_offers.tables import (
    activations,
    catalogues,
    customers,
    offers,
    redemptions,
    reversals,
)

# --- the catalogue ---------------------------------------------------------------------


async def ensure_catalogue(conn: AsyncConnection, tenant_id: uuid.UUID) -> None:
    await conn.execute(
        insert(catalogues).values(tenant_id=tenant_id, revision=0).on_conflict_do_nothing()
    )


async def bump_revision(conn: AsyncConnection, tenant_id: uuid.UUID) -> None:
    """Every gateway's cached index of the tenant's live offers is stale from now on."""
    await conn.execute(
        insert(catalogues)
        .values(tenant_id=tenant_id, revision=1)
        .on_conflict_do_update(
            index_elements=[catalogues.c.tenant_id],
            set_={"revision": catalogues.c.revision + 1},
        )
    )


def offer_of(row: Any) -> Offer:
    return Offer(
        id=row.id,
        partner_id=row.partner_id,
        external_id=row.external_id,
        version=row.version,
        status=Status(row.status),
        title=row.title,
        description=row.description,
        image_url=row.image_url,
        terms_text=row.terms_text,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        activation=Activation(row.activation),
        terms=Terms.of_json(row.terms),
        segment=row.segment,
        budget=row.budget,
        daily_cap=row.daily_cap,
        used=row.used,
        condition_failures=row.condition_failures,
        effect_failures=row.effect_failures,
        updated_at=row.updated_at,
    )


async def get_offer(
    conn: AsyncConnection, tenant_id: uuid.UUID, offer_id: uuid.UUID, *, lock: bool = False
) -> Offer | None:
    query = select(offers).where(offers.c.tenant_id == tenant_id, offers.c.id == offer_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return None if row is None else offer_of(row)


async def offer_by_external(
    conn: AsyncConnection, tenant_id: uuid.UUID, partner_id: uuid.UUID | None, external_id: str
) -> Offer | None:
    """The offer a funder's system knows as ``external_id``, locked for the sync."""
    owner = (
        offers.c.partner_id.is_(None) if partner_id is None else offers.c.partner_id == partner_id
    )
    row = (
        await conn.execute(
            select(offers)
            .where(offers.c.tenant_id == tenant_id, owner, offers.c.external_id == external_id)
            .with_for_update()
        )
    ).first()
    return None if row is None else offer_of(row)


async def insert_offer(conn: AsyncConnection, values: dict[str, Any]) -> uuid.UUID:
    offer_id = new_id()
    await conn.execute(offers.insert().values(id=offer_id, **values))
    return offer_id


async def update_offer(
    conn: AsyncConnection, tenant_id: uuid.UUID, offer_id: uuid.UUID, values: dict[str, Any]
) -> None:
    await conn.execute(
        update(offers)
        .where(offers.c.tenant_id == tenant_id, offers.c.id == offer_id)
        .values(updated_at=func.now(), **values)
    )


async def list_offers(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    partner_id: uuid.UUID | None,
    own_only: bool,
    status: Status | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[Offer]:
    query = select(offers).where(offers.c.tenant_id == tenant_id)
    if partner_id is not None:
        query = query.where(offers.c.partner_id == partner_id)
    elif own_only:
        query = query.where(offers.c.partner_id.is_(None))
    if status is not None:
        query = query.where(offers.c.status == status.value)
    if after is not None:
        query = query.where(offers.c.id > after)
    rows = await conn.execute(query.order_by(offers.c.id).limit(limit))
    return [offer_of(row) for row in rows]


_LIVE = Prepared(
    select(offers).where(
        offers.c.tenant_id == bindparam("tenant_id"),
        offers.c.status == "live",
        offers.c.ends_at > bindparam("at"),
    )
)


async def live_offers(conn: AsyncConnection, tenant_id: uuid.UUID, at: datetime) -> list[Offer]:
    return [offer_of(row) for row in await _LIVE.all(conn, {"tenant_id": tenant_id, "at": at})]


# --- members' activations ----------------------------------------------------------------


def activation_of(row: Any) -> MemberActivation:
    return MemberActivation(
        id=row.id,
        offer_id=row.offer_id,
        member_id=row.member_id,
        state=row.state,
        terms=Terms.of_json(row.terms),
        partner_id=row.partner_id,
        activated_at=row.activated_at,
        ends_at=row.ends_at,
        redeemed=row.redeemed,
    )


_REVISION_AND_ACTIVATIONS = Prepared(
    text(
        """
        SELECT c.revision, a.id, a.offer_id, a.member_id, a.state,
               CASE WHEN a.state = 'activated' THEN a.terms END AS terms, a.partner_id,
               a.activated_at, a.ends_at, a.redeemed
          FROM partner_offers_catalogues c
          LEFT JOIN partner_offers_activations a
            ON a.tenant_id = c.tenant_id AND a.member_id = :member_id AND a.ends_at > :at
           AND (a.state <> 'activated'
                OR a.terms -> 'skus' = '[]'::jsonb AND a.terms -> 'categories' = '[]'::jsonb
                OR a.terms -> 'skus' ?| CAST(:skus AS text[])
                OR a.terms -> 'categories' ?| CAST(:categories AS text[]))
         WHERE c.tenant_id = :tenant_id
        """
    )
)


async def revision_and_activations(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    at: datetime,
    *,
    skus: Sequence[str],
    categories: Sequence[str],
) -> Opened:
    """The catalogue's revision and the member's activations open at ``at`` that the basket
    (its ``skus`` and ``categories``) may earn, with its other rows (hidden offers, the use
    counts of automatic ones): one indexed statement per purchase. An activation whose item
    requirement names nothing in the basket could not earn (``attribution._meets``), so it
    is left in the database; only activations' terms are sent and parsed."""
    rows = await _REVISION_AND_ACTIVATIONS.all(
        conn,
        {
            "tenant_id": tenant_id,
            "member_id": member_id,
            "at": at,
            "skus": list(skus),
            "categories": list(categories),
        },
    )
    if not rows:
        return Opened(0, [], {}, {})
    opened = Opened(int(rows[0].revision), [], {}, {})
    for row in rows:
        if row.id is None:
            continue
        if row.state == "activated":
            opened.activated.append(activation_of(row))
        elif row.state == "auto":
            opened.auto[row.offer_id] = row.id
        else:
            opened.hidden[row.offer_id] = row.id
    return opened


@dataclass(frozen=True)
class Opened:
    """What a purchase reads of the member: the catalogue's ``revision``, the activations it
    may earn (``activated``), and by offer the rows of the automatic offers it used
    (``auto``: claimed by id) and of those it hid (``hidden``)."""

    revision: int
    activated: list[MemberActivation]
    auto: dict[uuid.UUID, uuid.UUID]
    hidden: dict[uuid.UUID, uuid.UUID]


_REVISION = Prepared(
    select(catalogues.c.revision).where(catalogues.c.tenant_id == bindparam("tenant_id"))
)


async def revision(conn: AsyncConnection, tenant_id: uuid.UUID) -> int:
    """The catalogue's revision (0 before the first offer)."""
    row = await _REVISION.first(conn, {"tenant_id": tenant_id})
    return 0 if row is None else int(row.revision)


async def member_activations(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_id: uuid.UUID
) -> list[MemberActivation]:
    rows = await conn.execute(
        select(activations).where(
            activations.c.tenant_id == tenant_id, activations.c.member_id == member_id
        )
    )
    return [activation_of(row) for row in rows]


async def activate(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    offer: Offer,
    member_id: uuid.UUID,
    at: datetime,
    state: str,
) -> tuple[MemberActivation, bool]:
    """The member's activation of ``offer`` with its terms frozen now; ``False`` when it
    already had one (kept as it was: the first terms stand)."""
    row = (
        await conn.execute(
            insert(activations)
            .values(
                tenant_id=tenant_id,
                id=new_id(),
                offer_id=offer.id,
                member_id=member_id,
                state=state,
                terms=offer.terms.to_json(),
                partner_id=offer.partner_id,
                activated_at=at,
                ends_at=offer.ends_at,
                redeemed=0,
            )
            .on_conflict_do_nothing(constraint="uq_partner_offers_activations_member_offer")
            .returning(*activations.c)
        )
    ).first()
    if row is not None:
        return activation_of(row), True
    existing = (
        await conn.execute(
            select(activations).where(
                activations.c.tenant_id == tenant_id,
                activations.c.member_id == member_id,
                activations.c.offer_id == offer.id,
            )
        )
    ).one()
    return activation_of(existing), False


async def hide(
    conn: AsyncConnection, tenant_id: uuid.UUID, offer: Offer, member_id: uuid.UUID, at: datetime
) -> None:
    """Hide the offer from the member: a new row (terms as of now, never used), or an
    existing one marked hidden, which also stops an activation from earning."""
    await conn.execute(
        insert(activations)
        .values(
            tenant_id=tenant_id,
            id=new_id(),
            offer_id=offer.id,
            member_id=member_id,
            state="hidden",
            terms=offer.terms.to_json(),
            partner_id=offer.partner_id,
            activated_at=at,
            ends_at=offer.ends_at,
            redeemed=0,
        )
        .on_conflict_do_update(
            constraint="uq_partner_offers_activations_member_offer", set_={"state": "hidden"}
        )
    )


# --- claims ------------------------------------------------------------------------------

_CLAIM_ACTIVATION = Prepared(
    text(
        """
        UPDATE partner_offers_activations SET redeemed = redeemed + 1
         WHERE tenant_id = :tenant_id AND id = :id AND state = :state AND redeemed < :limit
        RETURNING id
        """
    )
)

_CLAIM_AUTO = Prepared(
    text(
        """
        INSERT INTO partner_offers_activations AS a
               (tenant_id, id, offer_id, member_id, state, terms, partner_id, activated_at,
                ends_at, redeemed)
        VALUES (:tenant_id, :id, :offer_id, :member_id, 'auto', CAST(:terms AS jsonb),
                :partner_id, :at, :ends_at, 1)
        ON CONFLICT ON CONSTRAINT uq_partner_offers_activations_member_offer
        DO UPDATE SET redeemed = a.redeemed + 1
         WHERE a.state = 'auto' AND a.redeemed < :limit
        RETURNING a.id
        """
    )
)

_UNCLAIM_ACTIVATION = Prepared(
    text(
        "UPDATE partner_offers_activations SET redeemed = redeemed - 1"
        " WHERE tenant_id = :tenant_id AND id = :id"
    )
)

_CLAIM_DAY = Prepared(
    text(
        """
        INSERT INTO partner_offers_daily AS d (tenant_id, offer_id, day, used)
        VALUES (:tenant_id, :offer_id, :day, 1)
        ON CONFLICT (tenant_id, offer_id, day) DO UPDATE SET used = d.used + 1
         WHERE d.used < :cap
        RETURNING d.used
        """
    )
)

_UNCLAIM_DAY = Prepared(
    text(
        "UPDATE partner_offers_daily SET used = used - 1"
        " WHERE tenant_id = :tenant_id AND offer_id = :offer_id AND day = :day"
    )
)

_CLAIM_BUDGET = Prepared(
    text(
        """
        UPDATE partner_offers_offers SET used = used + 1
         WHERE tenant_id = :tenant_id AND id = :offer_id AND (budget IS NULL OR used < budget)
        RETURNING used
        """
    )
)


async def claim_member(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    activation_id: uuid.UUID | None,
    auto_id: uuid.UUID | None = None,
    offer: Offer | None,
    member_id: uuid.UUID,
    limit: int,
    at: datetime,
) -> uuid.UUID | None:
    """One more use of the member's limit: its activation's (CLIP), or the AUTO offer's row
    (``auto_id``, by its id; made at its first use). The row's id, or None when the limit
    is reached."""
    if activation_id is not None or auto_id is not None:
        state, row_id = ("activated", activation_id) if auto_id is None else ("auto", auto_id)
        row = await _CLAIM_ACTIVATION.first(
            conn, {"tenant_id": tenant_id, "id": row_id, "state": state, "limit": limit}
        )
    else:
        assert offer is not None
        row = await _CLAIM_AUTO.first(
            conn,
            {
                "tenant_id": tenant_id,
                "id": new_id(),
                "offer_id": offer.id,
                "member_id": member_id,
                "terms": _json(offer.terms.to_json()),
                "partner_id": offer.partner_id,
                "at": at,
                "ends_at": offer.ends_at,
                "limit": limit,
            },
        )
    return None if row is None else uuid.UUID(str(row.id))


async def unclaim_member(conn: AsyncConnection, tenant_id: uuid.UUID, claimed: uuid.UUID) -> None:
    await _UNCLAIM_ACTIVATION.execute(conn, {"tenant_id": tenant_id, "id": claimed})


async def claim_day(
    conn: AsyncConnection, tenant_id: uuid.UUID, offer_id: uuid.UUID, day: date, cap: int
) -> bool:
    row = await _CLAIM_DAY.first(
        conn, {"tenant_id": tenant_id, "offer_id": offer_id, "day": day, "cap": cap}
    )
    return row is not None


async def unclaim_day(
    conn: AsyncConnection, tenant_id: uuid.UUID, offer_id: uuid.UUID, day: date
) -> None:
    await _UNCLAIM_DAY.execute(conn, {"tenant_id": tenant_id, "offer_id": offer_id, "day": day})


async def claim_budget(conn: AsyncConnection, tenant_id: uuid.UUID, offer_id: uuid.UUID) -> bool:
    row = await _CLAIM_BUDGET.first(conn, {"tenant_id": tenant_id, "offer_id": offer_id})
    return row is not None


async def first_with_partner(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    partner_id: uuid.UUID,
    member_id: uuid.UUID,
    event_id: uuid.UUID,
) -> bool:
    """Record that the member bought with the partner; True when this event is the first
    (or is the first again: a replay within its own transaction)."""
    await conn.execute(
        insert(customers)
        .values(
            tenant_id=tenant_id, partner_id=partner_id, member_id=member_id, first_event_id=event_id
        )
        .on_conflict_do_nothing()
    )
    first = await conn.scalar(
        select(customers.c.first_event_id).where(
            customers.c.tenant_id == tenant_id,
            customers.c.partner_id == partner_id,
            customers.c.member_id == member_id,
        )
    )
    return bool(first == event_id)


# --- redemptions and reversals -------------------------------------------------------------


_INSERT_REDEMPTION = Prepared(
    redemptions.insert().values(
        tenant_id=bindparam("tenant_id"),
        id=bindparam("id"),
        offer_id=bindparam("offer_id"),
        member_id=bindparam("member_id"),
        event_id=bindparam("event_id"),
        partner_id=bindparam("partner_id"),
        points=bindparam("points"),
        transaction_id=bindparam("transaction_id"),
        day=bindparam("day"),
        occurred_at=bindparam("occurred_at"),
    )
)


async def insert_redemption(conn: AsyncConnection, values: dict[str, Any]) -> uuid.UUID:
    """A reward's row (one prepared statement on the ingest path)."""
    redemption_id = new_id()
    await _INSERT_REDEMPTION.execute(conn, {"id": redemption_id, **values})
    return redemption_id


_OF_EVENT = Prepared(
    select(
        redemptions.c.id,
        redemptions.c.offer_id,
        redemptions.c.partner_id,
        redemptions.c.points,
        redemptions.c.transaction_id,
    ).where(
        redemptions.c.tenant_id == bindparam("tenant_id"),
        redemptions.c.event_id == bindparam("event_id"),
    )
)


async def redemptions_of_event(
    conn: AsyncConnection, tenant_id: uuid.UUID, event_id: uuid.UUID
) -> list[Any]:
    return list(await _OF_EVENT.all(conn, {"tenant_id": tenant_id, "event_id": event_id}))


async def lock_redemptions_of_event(
    conn: AsyncConnection, tenant_id: uuid.UUID, event_id: uuid.UUID
) -> list[Any]:
    """A purchase's rewards, locked: concurrent refunds of one purchase take their shares
    one after the other."""
    rows = await conn.execute(
        select(redemptions)
        .where(redemptions.c.tenant_id == tenant_id, redemptions.c.event_id == event_id)
        .order_by(redemptions.c.id)
        .with_for_update()
    )
    return list(rows)


async def record_reversal(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    redemption_id: uuid.UUID,
    refund_event_id: uuid.UUID,
    *,
    points: int,
    transaction_id: uuid.UUID | None,
    day: date,
) -> bool:
    """Record a refund's share of a reward; whether it reversed the last of the reward (the
    update answers, on the row the refund holds locked: exactly one refund does)."""
    await conn.execute(
        reversals.insert().values(
            tenant_id=tenant_id,
            id=new_id(),
            redemption_id=redemption_id,
            refund_event_id=refund_event_id,
            points=points,
            transaction_id=transaction_id,
            day=day,
        )
    )
    row = (
        await conn.execute(
            update(redemptions)
            .where(redemptions.c.tenant_id == tenant_id, redemptions.c.id == redemption_id)
            .values(reversed=redemptions.c.reversed + points)
            .returning(redemptions.c.reversed, redemptions.c.points)
        )
    ).one()
    return points > 0 and row.reversed >= row.points


_RELEASE_BUDGET = Prepared(
    text(
        "UPDATE partner_offers_offers SET used = used - 1"
        " WHERE tenant_id = :tenant_id AND id = :offer_id AND used > 0"
    )
)

_RELEASE_DAY = Prepared(
    text(
        "UPDATE partner_offers_daily SET used = used - 1"
        " WHERE tenant_id = :tenant_id AND offer_id = :offer_id AND day = :day AND used > 0"
    )
)

_RELEASE_MEMBER = Prepared(
    text(
        "UPDATE partner_offers_activations SET redeemed = redeemed - 1"
        " WHERE tenant_id = :tenant_id AND member_id = :member_id AND offer_id = :offer_id"
        " AND redeemed > 0"
    )
)


async def release(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    offer_id: uuid.UUID,
    member_id: uuid.UUID,
    day: date,
) -> None:
    """Give a fully reversed reward's claims back: one use of the budget, of the day's cap
    (the day it was given) and of the member's limit, each a relative update (never below
    zero), so concurrent claims and releases add up exactly. In the order purchases claim
    them (the member's, the day's, the offer's row), so the two never wait on each other in
    a cycle."""
    await _RELEASE_MEMBER.execute(
        conn, {"tenant_id": tenant_id, "member_id": member_id, "offer_id": offer_id}
    )
    await _RELEASE_DAY.execute(conn, {"tenant_id": tenant_id, "offer_id": offer_id, "day": day})
    await _RELEASE_BUDGET.execute(conn, {"tenant_id": tenant_id, "offer_id": offer_id})


async def record_charge(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    redemption_id: uuid.UUID,
    money: int,
    currency: str,
) -> None:
    """The money the reward's partner was charged for it (clearing's answer)."""
    await conn.execute(
        update(redemptions)
        .where(redemptions.c.tenant_id == tenant_id, redemptions.c.id == redemption_id)
        .values(money=money, currency=currency)
    )


async def record_credit(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    redemption_id: uuid.UUID,
    refund_event_id: uuid.UUID,
    money: int,
) -> None:
    """The money credited back to the partner for a refund's share of the reward."""
    await conn.execute(
        update(reversals)
        .where(
            reversals.c.tenant_id == tenant_id,
            reversals.c.redemption_id == redemption_id,
            reversals.c.refund_event_id == refund_event_id,
        )
        .values(money=money)
    )


_REVERSALS_OF_REFUND = Prepared(
    select(
        reversals.c.redemption_id,
        reversals.c.points,
        redemptions.c.partner_id,
        redemptions.c.event_id,
    )
    .join(
        redemptions,
        and_(
            redemptions.c.tenant_id == reversals.c.tenant_id,
            redemptions.c.id == reversals.c.redemption_id,
        ),
    )
    .where(
        reversals.c.tenant_id == bindparam("tenant_id"),
        reversals.c.refund_event_id == bindparam("event_id"),
    )
)


async def reversals_of_refund(
    conn: AsyncConnection, tenant_id: uuid.UUID, event_id: uuid.UUID
) -> list[Any]:
    return list(
        await _REVERSALS_OF_REFUND.all(conn, {"tenant_id": tenant_id, "event_id": event_id})
    )


async def count_condition_failure(
    conn: AsyncConnection, tenant_id: uuid.UUID, offer_id: uuid.UUID
) -> None:
    await conn.execute(
        update(offers)
        .where(offers.c.tenant_id == tenant_id, offers.c.id == offer_id)
        .values(condition_failures=offers.c.condition_failures + 1)
    )


async def count_effect_failure(
    conn: AsyncConnection, tenant_id: uuid.UUID, offer_id: uuid.UUID
) -> None:
    await conn.execute(
        update(offers)
        .where(offers.c.tenant_id == tenant_id, offers.c.id == offer_id)
        .values(effect_failures=offers.c.effect_failures + 1)
    )


# --- reporting -------------------------------------------------------------------------


async def performance(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    partner_id: uuid.UUID | None,
    offer_ids: Sequence[uuid.UUID] | None,
    since: date,
    until: date,
    zone: str,
) -> list[Any]:
    """Per offer and day: activations, redemptions, points awarded and taken back (rewards
    and reversals carry the tenant's day; an activation's is taken in ``zone``)."""
    rows = await conn.execute(
        text(
            """
            WITH scoped AS (
              SELECT id, external_id, title FROM partner_offers_offers o
               WHERE o.tenant_id = :tenant_id
                 AND (CAST(:partner_id AS uuid) IS NULL OR o.partner_id = :partner_id)
                 AND (CAST(:offer_ids AS uuid[]) IS NULL OR o.id = ANY(CAST(:offer_ids AS uuid[])))
            ), facts AS (
              SELECT a.offer_id, (a.activated_at AT TIME ZONE :zone)::date AS day,
                     1 AS activations, 0 AS redemptions, 0::bigint AS awarded,
                     0::bigint AS taken_back, 0::bigint AS owed, NULL::text AS currency
                FROM partner_offers_activations a JOIN scoped s ON s.id = a.offer_id
               WHERE a.tenant_id = :tenant_id AND a.state = 'activated'
              UNION ALL
              SELECT r.offer_id, r.day, 0, 1, r.points, 0, coalesce(r.money, 0), r.currency
                FROM partner_offers_redemptions r JOIN scoped s ON s.id = r.offer_id
               WHERE r.tenant_id = :tenant_id
              UNION ALL
              SELECT r.offer_id, v.day, 0, 0, 0, v.points, -coalesce(v.money, 0), r.currency
                FROM partner_offers_reversals v
                JOIN partner_offers_redemptions r
                  ON r.tenant_id = v.tenant_id AND r.id = v.redemption_id
                JOIN scoped s ON s.id = r.offer_id
               WHERE v.tenant_id = :tenant_id
            )
            SELECT f.offer_id, s.external_id, s.title, f.day,
                   sum(f.activations)::int AS activations, sum(f.redemptions)::int AS redemptions,
                   sum(f.awarded)::bigint AS points_awarded,
                   sum(f.taken_back)::bigint AS points_reversed,
                   sum(f.owed)::bigint AS money_owed, max(f.currency) AS currency
              FROM facts f JOIN scoped s ON s.id = f.offer_id
             WHERE f.day >= :since AND f.day <= :until
             GROUP BY f.offer_id, s.external_id, s.title, f.day
             ORDER BY f.day, f.offer_id
            """
        ),
        {
            "tenant_id": tenant_id,
            "partner_id": partner_id,
            "offer_ids": None if offer_ids is None else list(offer_ids),
            "since": since,
            "until": until,
            "zone": zone,
        },
    )
    return list(rows)


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value)


__all__ = [
    "Opened",
    "activate",
    "activation_of",
    "bump_revision",
    "claim_budget",
    "claim_day",
    "claim_member",
    "count_condition_failure",
    "count_effect_failure",
    "ensure_catalogue",
    "first_with_partner",
    "get_offer",
    "hide",
    "insert_offer",
    "insert_redemption",
    "list_offers",
    "live_offers",
    "lock_redemptions_of_event",
    "member_activations",
    "offer_by_external",
    "offer_of",
    "performance",
    "record_charge",
    "record_credit",
    "record_reversal",
    "redemptions_of_event",
    "release",
    "reversals_of_refund",
    "revision",
    "unclaim_day",
    "unclaim_member",
    "update_offer",
]
