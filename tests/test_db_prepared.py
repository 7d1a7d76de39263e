"""Statements run by asyncpg directly behave as through SQLAlchemy: same transaction, same
rows, same errors, and no overlap with SQLAlchemy's statements on a shared connection."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from loyalty_core.db.engine import Database
from loyalty_core.db.prepared import Prepared
from loyalty_core.events.tables import event_types
from loyalty_core.ids import new_id
from loyalty_core.ledger.tables import assets, ledger_accounts
from loyalty_core.tenants.models import Tenant
from sqlalchemy import Integer, bindparam, func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

_ASSETS = Prepared(
    select(assets.c.code, assets.c.scale)
    .where(assets.c.tenant_id == bindparam("tenant_id"))
    .order_by(assets.c.code)
    .limit(bindparam("limit"))
)
_NEW_TYPE = Prepared(insert(event_types).returning(event_types.c.created_at))
_TYPES = Prepared(
    select(event_types.c.json_schema).where(event_types.c.tenant_id == bindparam("tenant_id"))
)


async def test_rows_read_like_sqlalchemy_rows_and_json_is_decoded(
    db: Database, tenant: Tenant
) -> None:
    schema = {"type": "object", "properties": {"sku": {"type": "string"}}}
    async with db.tenant_transaction(tenant.id) as conn:
        created = await _NEW_TYPE.first(
            conn,
            {"tenant_id": tenant.id, "name": "visit", "json_schema": schema, "description": ""},
        )
        rows = await _TYPES.all(conn, {"tenant_id": tenant.id})
        through_sqlalchemy = (
            await conn.execute(select(func.count()).select_from(event_types))
        ).scalar_one()

    assert created.created_at is not None  # a server default: the column was left out
    assert [row.json_schema for row in rows] == [schema]
    assert rows[0]["json_schema"] == schema
    assert through_sqlalchemy == 1  # the same transaction, seen by SQLAlchemy's statements


async def test_a_value_in_the_statement_is_a_default_and_null_means_no_limit(
    db: Database, tenant: Tenant
) -> None:
    async with db.tenant_transaction(tenant.id) as conn:
        everything = await _ASSETS.all(conn, {"tenant_id": tenant.id, "limit": None})
        one = await _ASSETS.all(conn, {"tenant_id": tenant.id, "limit": 1})
        with pytest.raises(KeyError, match="tenant_id"):
            await _ASSETS.all(conn, {"limit": 1})

    assert [row.code for row in one] == [everything[0].code]


async def test_errors_are_sqlalchemy_errors_with_the_sqlstate(db: Database, tenant: Tenant) -> None:
    accounts = Prepared(insert(ledger_accounts))
    async with db.tenant_transaction(tenant.id) as conn:
        asset_id = (
            await conn.execute(select(assets.c.id).where(assets.c.tenant_id == tenant.id))
        ).scalar_one()
    row = {
        "tenant_id": tenant.id,
        "id": new_id(),
        "asset_id": asset_id,
        "purpose": "adjustments",
        "allow_negative": True,
    }

    async def open_twice() -> None:
        async with db.tenant_transaction(tenant.id) as conn:
            await accounts.execute(conn, row)
            await accounts.execute(conn, {**row, "id": new_id()})

    with pytest.raises(IntegrityError) as taken:
        await open_twice()
    assert getattr(taken.value.orig, "sqlstate", None) == "23505"

    async def divide_by_zero() -> None:
        async with db.tenant_transaction(tenant.id) as conn:
            await Prepared(select(text("1 / 0"))).first(conn)

    with pytest.raises(DBAPIError) as division:
        await divide_by_zero()
    assert getattr(division.value.orig, "sqlstate", None) == "22012"


async def test_concurrent_statements_on_one_connection_take_turns(
    db: Database, tenant: Tenant
) -> None:
    probe = Prepared(select(func.pg_sleep(0.01), bindparam("n", type_=Integer).label("n")))
    async with db.tenant_transaction(tenant.id) as conn:
        results = await asyncio.gather(
            *(probe.first(conn, {"n": n}) for n in range(5)),
            *(conn.execute(select(func.pg_sleep(0.01))) for _ in range(5)),
        )
    assert [row.n for row in results[:5]] == [0, 1, 2, 3, 4]


async def test_a_tenant_sees_only_its_rows(db: Database, tenant: Tenant) -> None:
    other = uuid.uuid4()
    async with db.tenant_transaction(tenant.id) as conn:
        assert await _ASSETS.all(conn, {"tenant_id": other, "limit": None}) == []
