"""SQL of members and identifiers, always filtered by tenant."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, any_, bindparam, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.db.prepared import Prepared
from loyalty_core.members.models import Identifier, IdentifierKind, Member, MemberStatus, Profile
from loyalty_core.members.tables import member_identifiers, members

# Reads every member look-up, ingest and dashboard runs: built once, run by asyncpg.
_IDS = bindparam("ids", type_=ARRAY(UUID(as_uuid=True)))
_MEMBER = Prepared(
    select(members).where(
        members.c.tenant_id == bindparam("tenant_id"), members.c.id == bindparam("id")
    )
)
_IDENTIFIERS = Prepared(
    select(member_identifiers)
    .where(
        member_identifiers.c.tenant_id == bindparam("tenant_id"),
        member_identifiers.c.member_id == any_(_IDS),
    )
    .order_by(member_identifiers.c.kind, member_identifiers.c.value)
)


_MEMBERS = Prepared(
    select(members).where(members.c.tenant_id == bindparam("tenant_id"), members.c.id == any_(_IDS))
)


async def get(conn: AsyncConnection, tenant_id: uuid.UUID, member_id: uuid.UUID) -> Member | None:
    row = await _MEMBER.first(conn, {"tenant_id": tenant_id, "id": member_id})
    return None if row is None else member_from_row(row)


async def get_many(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Member]:
    """Many members by id in one statement; unknown ones are left out."""
    rows = await _MEMBERS.all(conn, {"tenant_id": tenant_id, "ids": list(member_ids)})
    return {member.id: member for member in map(member_from_row, rows)}


async def get_for_update(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_id: uuid.UUID
) -> Member | None:
    row = (
        await conn.execute(
            select(members)
            .where(members.c.tenant_id == tenant_id, members.c.id == member_id)
            .with_for_update()
        )
    ).first()
    return None if row is None else member_from_row(row)


async def find_by_identifier(
    conn: AsyncConnection, tenant_id: uuid.UUID, kind: IdentifierKind, value: str
) -> Member | None:
    """The member holding an identifier, in one statement (a till's every request asks)."""
    parameters = {"tenant_id": tenant_id, "kind": kind.value, "value": value}
    row = await _BY_IDENTIFIER.first(conn, parameters)
    return None if row is None else member_from_row(row)


_BY_IDENTIFIER = Prepared(
    select(members)
    .join(
        member_identifiers,
        (member_identifiers.c.tenant_id == members.c.tenant_id)
        & (member_identifiers.c.member_id == members.c.id),
    )
    .where(
        member_identifiers.c.tenant_id == bindparam("tenant_id"),
        member_identifiers.c.kind == bindparam("kind"),
        member_identifiers.c.value == bindparam("value"),
    )
)
"""Built once with bound parameters, run by asyncpg: a till's every request asks it."""
_IDS_BY_IDENTIFIERS = Prepared(
    text(
        "SELECT i.kind, i.value, i.member_id FROM member_identifiers AS i"
        " JOIN unnest(CAST(:kinds AS text[]), CAST(:values AS text[])) AS wanted (kind, value)"
        " ON i.kind = wanted.kind AND i.value = wanted.value"
        " WHERE i.tenant_id = :tenant_id"
    )
)


async def ids_by_identifier(
    conn: AsyncConnection, tenant_id: uuid.UUID, identifiers: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], uuid.UUID]:
    """The member ids of many ``(kind, value)`` identifiers in one statement; unknown ones
    are left out."""
    if not identifiers:
        return {}
    rows = await _IDS_BY_IDENTIFIERS.all(
        conn,
        {
            "tenant_id": tenant_id,
            "kinds": [kind for kind, _ in identifiers],
            "values": [value for _, value in identifiers],
        },
    )
    return {(row["kind"], row["value"]): row["member_id"] for row in rows}


async def identifiers_of(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Identifier]]:
    """Identifiers of many members in one query (the DataLoader behind ``Member.identifiers``)."""
    rows = await _IDENTIFIERS.all(conn, {"tenant_id": tenant_id, "ids": list(member_ids)})
    found: dict[uuid.UUID, list[Identifier]] = {member_id: [] for member_id in member_ids}
    for row in rows:
        found[row.member_id].append(Identifier(IdentifierKind(row.kind), row.value))
    return found


async def search(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    query: str | None,
    status: MemberStatus | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[Member]:
    """Members newest first (ids are time-ordered), optionally matching ``query`` against
    identifiers (prefix) and names (substring), keyset-paginated after a member id."""
    statement = select(members).where(members.c.tenant_id == tenant_id)
    if status is not None:
        statement = statement.where(members.c.status == status.value)
    if after is not None:
        statement = statement.where(members.c.id < after)
    if query:
        typed = query.strip()
        pattern = _escape_like(typed.lower())
        # Identifiers are stored in their kind's form: e-mail addresses in lower case, card
        # numbers and external ids as issued (often upper case), phones without spaces. A
        # prefix in each form a person may type keeps the search on the value's index.
        forms = {typed, typed.lower(), typed.upper(), typed.replace(" ", "")}
        by_identifier = select(member_identifiers.c.member_id).where(
            member_identifiers.c.tenant_id == tenant_id,
            or_(
                *(
                    member_identifiers.c.value.like(f"{_escape_like(form)}%", escape="\\")
                    for form in sorted(forms)
                )
            ),
        )
        statement = statement.where(
            or_(
                members.c.id.in_(by_identifier),
                members.c.profile["firstName"].astext.ilike(f"%{pattern}%", escape="\\"),
                members.c.profile["lastName"].astext.ilike(f"%{pattern}%", escape="\\"),
            )
        )
    rows = await conn.execute(statement.order_by(members.c.id.desc()).limit(limit))
    return [member_from_row(row) for row in rows]


def member_from_row(row: Row[Any]) -> Member:
    return Member(
        id=row.id,
        status=MemberStatus(row.status),
        profile=Profile.model_validate(row.profile),
        attributes=dict(row.attributes),
        enrolment_channel=row.enrolment_channel,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


__all__ = [
    "find_by_identifier",
    "get",
    "get_for_update",
    "get_many",
    "identifiers_of",
    "member_from_row",
    "search",
]
