"""SQL of the payment module: payments, their tenders and their timeline."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from loyalty_core.sdk import new_id
from sqlalchemy import Row, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_payment.models import Operation, OperationKind, Payment, PaymentStatus, Tender
from loyalty_payment.tables import operations, payments, tenders


async def claim_payment(conn: AsyncConnection, values: dict[str, Any]) -> bool:
    """Insert a payment's header unless its idempotency key is taken (False then). A
    concurrent request with the same key waits here until the first one commits."""
    row = (
        await conn.execute(
            pg_insert(payments)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["tenant_id", "idempotency_key"])
            .returning(payments.c.id)
        )
    ).first()
    return row is not None


async def payment_by_key(
    conn: AsyncConnection, tenant_id: uuid.UUID, key: str
) -> tuple[uuid.UUID, str] | None:
    """The payment authorised under ``key`` and the fingerprint of that request."""
    row = (
        await conn.execute(
            select(payments.c.id, payments.c.request_hash).where(
                payments.c.tenant_id == tenant_id, payments.c.idempotency_key == key
            )
        )
    ).first()
    return None if row is None else (_uuid(row.id), str(row.request_hash))


async def get_payment(
    conn: AsyncConnection, tenant_id: uuid.UUID, payment_id: uuid.UUID, *, lock: bool = False
) -> Payment | None:
    """A payment with its tenders; ``lock`` takes the row lock every operation starts with."""
    query = select(payments).where(payments.c.tenant_id == tenant_id, payments.c.id == payment_id)
    row = (await conn.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        return None
    return payment_from_row(row, (await tenders_of(conn, tenant_id, [payment_id]))[payment_id])


async def update_payment(
    conn: AsyncConnection, tenant_id: uuid.UUID, payment_id: uuid.UUID, **values: Any
) -> None:
    await conn.execute(
        update(payments)
        .where(payments.c.tenant_id == tenant_id, payments.c.id == payment_id)
        .values(**values)
    )


async def insert_tenders(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(tenders.insert(), list(rows))


async def update_tender(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    payment_id: uuid.UUID,
    position: int,
    **values: Any,
) -> None:
    await conn.execute(
        update(tenders)
        .where(
            tenders.c.tenant_id == tenant_id,
            tenders.c.payment_id == payment_id,
            tenders.c.position == position,
        )
        .values(**values)
    )


async def tenders_of(
    conn: AsyncConnection, tenant_id: uuid.UUID, payment_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Tender]]:
    found: dict[uuid.UUID, list[Tender]] = {payment_id: [] for payment_id in payment_ids}
    rows = await conn.execute(
        select(tenders)
        .where(tenders.c.tenant_id == tenant_id, tenders.c.payment_id.in_(list(payment_ids)))
        .order_by(tenders.c.payment_id, tenders.c.position)
    )
    for row in rows:
        found[_uuid(row.payment_id)].append(tender_from_row(row))
    return found


async def insert_operation(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    payment_id: uuid.UUID,
    *,
    kind: OperationKind,
    amount: int,
    actor: str,
    now: datetime,
    parts: list[dict[str, Any]],
    idempotency_key: str | None = None,
    request_hash: str | None = None,
) -> Operation:
    row = (
        await conn.execute(
            operations.insert()
            .values(
                tenant_id=tenant_id,
                id=new_id(),
                payment_id=payment_id,
                kind=kind.value,
                amount=amount,
                idempotency_key=idempotency_key,
                request_hash=request_hash,
                actor=actor,
                parts=parts,
                created_at=now,
            )
            .returning(operations)
        )
    ).one()
    return operation_from_row(row)


async def operation_by_key(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    payment_id: uuid.UUID,
    kind: OperationKind,
    key: str,
) -> tuple[Operation, str | None] | None:
    row = (
        await conn.execute(
            select(operations).where(
                operations.c.tenant_id == tenant_id,
                operations.c.payment_id == payment_id,
                operations.c.kind == kind.value,
                operations.c.idempotency_key == key,
            )
        )
    ).first()
    return None if row is None else (operation_from_row(row), row.request_hash)


async def last_operation(
    conn: AsyncConnection, tenant_id: uuid.UUID, payment_id: uuid.UUID, kind: OperationKind
) -> Operation | None:
    row = (
        await conn.execute(
            select(operations)
            .where(
                operations.c.tenant_id == tenant_id,
                operations.c.payment_id == payment_id,
                operations.c.kind == kind.value,
            )
            .order_by(operations.c.id.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else operation_from_row(row)


async def operations_of(
    conn: AsyncConnection, tenant_id: uuid.UUID, payment_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Operation]]:
    found: dict[uuid.UUID, list[Operation]] = {payment_id: [] for payment_id in payment_ids}
    rows = await conn.execute(
        select(operations)
        .where(operations.c.tenant_id == tenant_id, operations.c.payment_id.in_(list(payment_ids)))
        .order_by(operations.c.payment_id, operations.c.created_at, operations.c.id)
    )
    for row in rows:
        found[_uuid(row.payment_id)].append(operation_from_row(row))
    return found


async def list_payments(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    member_ids: Sequence[uuid.UUID] | None = None,
    status: PaymentStatus | None = None,
    order_reference: str | None = None,
    before: uuid.UUID | None = None,
    limit: int,
) -> list[Payment]:
    """Newest first (ids are time-ordered); ``before`` is the cursor of the last page."""
    query = select(payments).where(payments.c.tenant_id == tenant_id)
    if member_ids is not None:
        query = query.where(payments.c.member_id.in_(list(member_ids)))
    if status is not None:
        query = query.where(payments.c.status == status.value)
    if order_reference is not None:
        query = query.where(payments.c.order_reference == order_reference)
    if before is not None:
        query = query.where(payments.c.id < before)
    rows = list(await conn.execute(query.order_by(payments.c.id.desc()).limit(limit)))
    found = await tenders_of(conn, tenant_id, [_uuid(row.id) for row in rows])
    return [payment_from_row(row, found[_uuid(row.id)]) for row in rows]


async def recent_payments_of(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_ids: Sequence[uuid.UUID], limit: int
) -> dict[uuid.UUID, list[Payment]]:
    """The ``limit`` newest payments of each member, in one query (a DataLoader's batch)."""
    ranked = (
        select(
            payments,
            func.row_number()
            .over(partition_by=payments.c.member_id, order_by=payments.c.id.desc())
            .label("rank"),
        )
        .where(payments.c.tenant_id == tenant_id, payments.c.member_id.in_(list(member_ids)))
        .subquery()
    )
    rows = list(
        await conn.execute(
            select(ranked).where(ranked.c.rank <= limit).order_by(ranked.c.id.desc())
        )
    )
    found = await tenders_of(conn, tenant_id, [_uuid(row.id) for row in rows])
    by_member: dict[uuid.UUID, list[Payment]] = {member_id: [] for member_id in member_ids}
    for row in rows:
        by_member[_uuid(row.member_id)].append(payment_from_row(row, found[_uuid(row.id)]))
    return by_member


async def due_for_expiry(
    conn: AsyncConnection, tenant_id: uuid.UUID, now: datetime, limit: int
) -> list[uuid.UUID]:
    rows = await conn.execute(
        select(payments.c.id)
        .where(
            payments.c.tenant_id == tenant_id,
            payments.c.status == PaymentStatus.AUTHORIZED.value,
            payments.c.expires_at <= now,
        )
        .order_by(payments.c.expires_at)
        .limit(limit)
    )
    return [_uuid(value) for value in rows.scalars()]


def payment_from_row(row: Row[Any], found: list[Tender]) -> Payment:
    return Payment(
        id=_uuid(row.id),
        member_id=None if row.member_id is None else _uuid(row.member_id),
        order_reference=row.order_reference,
        currency=row.currency,
        amount=int(row.amount),
        status=PaymentStatus(row.status),
        held=int(row.held),
        captured=int(row.captured),
        refunded=int(row.refunded),
        expires_at=row.expires_at,
        actor=row.actor,
        created_at=row.created_at,
        updated_at=row.updated_at,
        tenders=found,
    )


def tender_from_row(row: Row[Any]) -> Tender:
    return Tender(
        position=int(row.position),
        tender=row.tender,
        instrument=row.instrument,
        label=row.label,
        hold_id=_uuid(row.hold_id),
        held=int(row.held),
        held_units=int(row.held_units),
        captured=int(row.captured),
        captured_units=int(row.captured_units),
        capture_transaction_id=None
        if row.capture_transaction_id is None
        else _uuid(row.capture_transaction_id),
        refunded=int(row.refunded),
        refunded_units=int(row.refunded_units),
    )


def operation_from_row(row: Row[Any]) -> Operation:
    return Operation(
        id=_uuid(row.id),
        kind=OperationKind(row.kind),
        amount=int(row.amount),
        actor=row.actor,
        created_at=row.created_at,
        parts=list(row.parts),
    )


def _uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


__all__ = [
    "claim_payment",
    "due_for_expiry",
    "get_payment",
    "insert_operation",
    "insert_tenders",
    "last_operation",
    "list_payments",
    "operation_by_key",
    "operations_of",
    "payment_by_key",
    "payment_from_row",
    "recent_payments_of",
    "tender_from_row",
    "update_payment",
    "update_tender",
]
