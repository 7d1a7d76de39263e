"""What PostgreSQL refuses because of a caller's value is an answer with a code and, where
the constraint tells, the field; a fault stays a fault (``loyalty_core.db.errors``)."""

from __future__ import annotations

import uuid

import pytest
from loyalty_core.db.engine import Database
from loyalty_core.db.errors import db_answer, db_answers
from loyalty_core.errors import ErrorCode, LoyaltyError
from loyalty_core.ids import new_id
from loyalty_core.members.tables import member_identifiers, members
from loyalty_core.tenants.models import Tenant
from loyalty_testing import insert_member
from sqlalchemy import Executable, Insert, delete, insert, text
from sqlalchemy.exc import DBAPIError


async def refusal(
    db: Database, tenant: Tenant, statement: Executable, values: dict[str, str] | None = None
) -> DBAPIError:
    """The error the database raised for ``statement``."""
    with pytest.raises(DBAPIError) as raised:
        async with db.tenant_transaction(tenant.id) as conn:
            await conn.execute(statement, values)
    return raised.value


def identifier(tenant: Tenant, member_id: uuid.UUID, value: str) -> Insert:
    return insert(member_identifiers).values(
        tenant_id=tenant.id, id=new_id(), member_id=member_id, kind="email", value=value
    )


@pytest.mark.parametrize(
    ("cast", "value"),
    [
        ("integer", "99999999999"),  # 22003 numeric_value_out_of_range
        ("integer", "forty-two"),  # 22P02 invalid_text_representation
        ("jsonb", '"nul \\u0000 inside"'),  # 22P05 untranslatable_character
        ("timestamptz", "2026-13-45"),  # 22008 datetime_field_overflow
    ],
)
async def test_a_value_the_database_cannot_take_is_invalid_input(
    db: Database, tenant: Tenant, cast: str, value: str
) -> None:
    statement = text(f"SELECT CAST(CAST(:v AS text) AS {cast})")
    answer = db_answer(await refusal(db, tenant, statement, {"v": value}))
    assert answer is not None
    assert answer.code is ErrorCode.INVALID_INPUT


async def test_a_nul_in_text_is_invalid_input(db: Database, tenant: Tenant) -> None:
    error = await refusal(db, tenant, text("SELECT CAST(:v AS text)"), {"v": "a\x00b"})
    answer = db_answer(error)
    assert answer is not None
    assert answer.code is ErrorCode.INVALID_INPUT


async def test_a_row_that_refers_to_nothing_is_not_found_on_its_field(
    db: Database, tenant: Tenant
) -> None:
    error = await refusal(db, tenant, identifier(tenant, uuid.uuid4(), "x@example.com"))
    answer = db_answer(error)
    assert answer is not None
    assert (answer.code, answer.field) == (ErrorCode.NOT_FOUND, "memberId")


async def test_a_duplicate_is_already_exists_and_a_fault_stays_a_fault(
    db: Database, owner_db: Database, tenant: Tenant
) -> None:
    async with db.tenant_transaction(tenant.id) as conn:
        member_id = await insert_member(conn, tenant.id)
        await conn.execute(identifier(tenant, member_id, "dup@example.com"))
    duplicate = await refusal(db, tenant, identifier(tenant, member_id, "dup@example.com"))
    division = await refusal(db, tenant, text("SELECT 1 / 0"))
    still_referred = await refusal(
        owner_db,
        tenant,
        delete(members).where(members.c.tenant_id == tenant.id, members.c.id == member_id),
    )

    answer = db_answer(duplicate)
    assert answer is not None
    assert (answer.code, answer.field) == (ErrorCode.ALREADY_EXISTS, "kind")
    assert db_answer(division) is None
    assert getattr(still_referred.orig, "sqlstate", None) == "23503"
    assert db_answer(still_referred) is None  # a service that deletes must check first
    with pytest.raises(LoyaltyError), db_answers():
        raise duplicate
    with pytest.raises(DBAPIError), db_answers():
        raise division
