"""Row-level security, the second wall between tenants: checked in the catalogue and in use."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from loyalty_core.db.engine import Database
from loyalty_core.ledger import repository as ledger_repo
from loyalty_core.ledger import service as ledger
from loyalty_core.ledger.models import Cause
from loyalty_core.ledger.tables import ledger_accounts
from loyalty_core.members.tables import members
from loyalty_core.tenants.models import Tenant
from loyalty_core.tenants.service import DEFAULT_ASSET_CODE
from loyalty_testing import create_test_tenant, insert_member
from sqlalchemy import Table, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

TENANT_TABLES = """
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
  AND EXISTS (
    SELECT 1 FROM pg_attribute a
    WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
  )
ORDER BY c.relname
"""


async def test_every_tenant_table_has_forced_row_level_security(owner_db: Database) -> None:
    async with owner_db.engine.connect() as conn:
        rows = (await conn.execute(text(TENANT_TABLES))).all()
    assert {"members", "ledger_accounts", "ledger_entries", "tenants"} <= {r.relname for r in rows}
    unprotected = [r.relname for r in rows if not (r.relrowsecurity and r.relforcerowsecurity)]
    assert unprotected == []


async def test_app_role_is_not_superuser_nor_bypassrls_and_owns_no_table(db: Database) -> None:
    async with db.engine.connect() as conn:
        role = (
            await conn.execute(
                text(
                    "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles "
                    "WHERE rolname = current_user"
                )
            )
        ).one()
        # Membership in an owning role would make the app role an owner too.
        owned = (
            await conn.execute(
                text(
                    "SELECT c.relname FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') "
                    "AND pg_has_role(current_user, c.relowner, 'MEMBER')"
                )
            )
        ).all()
    assert (role.rolsuper, role.rolbypassrls) == (False, False)
    assert owned == []


async def test_tenant_transaction_sees_no_rows_of_another_tenant(db: Database) -> None:
    first, second = await create_test_tenant(db), await create_test_tenant(db)
    await _member_with_points(db, first)
    second_member = await _member_with_points(db, second)

    async with db.tenant_transaction(first.id) as conn:
        assert await _count(conn, members) == 1
        assert await _count(conn, ledger_accounts) == 2  # the member's and the issued counter
        assert await _count(conn, members, members.c.tenant_id == second.id) == 0
        assert await _count(conn, ledger_accounts, ledger_accounts.c.tenant_id == second.id) == 0
        assert await _count(conn, members, members.c.id == second_member) == 0


async def test_transaction_without_tenant_sees_no_rows(db: Database) -> None:
    tenant = await create_test_tenant(db)
    await _member_with_points(db, tenant)
    async with db.engine.begin() as conn:
        for table in ("tenants", "members", "ledger_accounts", "ledger_entries"):
            count = (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
            assert count == 0, table


async def test_tenant_transaction_cannot_write_rows_of_another_tenant(db: Database) -> None:
    first, second = await create_test_tenant(db), await create_test_tenant(db)
    with pytest.raises(DBAPIError, match="row-level security"):
        async with db.tenant_transaction(first.id) as conn:
            await insert_member(conn, second.id)


async def _member_with_points(db: Database, tenant: Tenant) -> uuid.UUID:
    async with db.tenant_transaction(tenant.id) as conn:
        member_id = await insert_member(conn, tenant.id)
        asset = await ledger_repo.get_asset(conn, tenant.id, DEFAULT_ASSET_CODE)
        assert asset is not None
        posting = ledger.Posting(
            tenant_id=tenant.id,
            idempotency_key=f"welcome:{member_id}",
            reason="welcome",
            cause=Cause(kind="operator"),
            actor="test",
            now=datetime.now(UTC),
        )
        await ledger.earn(conn, posting, member_id=member_id, asset=asset, amount=10)
    return member_id


async def _count(conn: AsyncConnection, table: Table, *where: ColumnElement[bool]) -> int:
    """``count(*)`` of ``table``, deliberately without a tenant filter unless given one."""
    query = select(func.count()).select_from(table).where(*where)
    return int((await conn.execute(query)).scalar_one())
