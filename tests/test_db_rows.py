"""Many rows in one statement (``InsertRows``): every column's values arrive as given, JSON
lists included, an over-long string is refused rather than cut, a conflict leaves the row
out of ``RETURNING``, and one row or none work too."""

from __future__ import annotations

import pytest
from loyalty_core.db.engine import Database
from loyalty_core.db.rows import InsertRows
from loyalty_core.ids import new_id
from loyalty_core.outbox.tables import outbox
from loyalty_core.tenants.models import Tenant
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

_OUTBOX = InsertRows(outbox, ["tenant_id", "id", "topic", "payload"])
_OUTBOX_RETURNING = InsertRows(
    outbox, ["tenant_id", "id", "topic", "payload"], "ON CONFLICT DO NOTHING RETURNING id, topic"
)


def _row(tenant: Tenant, topic: str, payload: object) -> dict[str, object]:
    return {"tenant_id": tenant.id, "id": new_id(), "topic": topic, "payload": payload}


async def _payloads(db: Database, tenant: Tenant) -> dict[str, object]:
    async with db.tenant_transaction(tenant.id) as conn:
        rows = await conn.execute(
            select(outbox.c.topic, outbox.c.payload).where(outbox.c.tenant_id == tenant.id)
        )
        return {row.topic: row.payload for row in rows}


async def test_rows_arrive_as_given_json_lists_and_nulls_included(
    db: Database, tenant: Tenant
) -> None:
    rows = [
        _row(tenant, "a", {"n": 1}),
        _row(tenant, "b", [1, [2, 3]]),
        _row(tenant, "c", []),
        _row(tenant, "d", "text"),
    ]
    async with db.tenant_transaction(tenant.id) as conn:
        await _OUTBOX.execute(conn, rows)
        await _OUTBOX.execute(conn, [_row(tenant, "e", {"one": True})])
        await _OUTBOX.execute(conn, [])
    assert await _payloads(db, tenant) == {
        "a": {"n": 1},
        "b": [1, [2, 3]],
        "c": [],
        "d": "text",
        "e": {"one": True},
    }


async def test_a_conflict_is_left_out_of_returning(db: Database, tenant: Tenant) -> None:
    first = _row(tenant, "x", {})
    async with db.tenant_transaction(tenant.id) as conn:
        inserted = await _OUTBOX_RETURNING.all(conn, [first, _row(tenant, "y", {})])
        again = await _OUTBOX_RETURNING.all(conn, [first, _row(tenant, "z", {})])
    assert sorted(row.topic for row in inserted) == ["x", "y"]
    assert [row.topic for row in again] == ["z"]


async def test_an_over_long_string_is_refused_not_cut(db: Database, tenant: Tenant) -> None:
    rows = [_row(tenant, "fine", {}), _row(tenant, "t" * 101, {})]  # topic: at most 100
    with pytest.raises(DBAPIError, match="too long"):
        async with db.tenant_transaction(tenant.id) as conn:
            await _OUTBOX.execute(conn, rows)
    assert await _payloads(db, tenant) == {}
