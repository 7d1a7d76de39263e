"""Enrolling and changing members. Every change is validated before the first write, and an
identifier already taken in the tenant is reported as DUPLICATE_IDENTIFIER on its field."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import orjson
from pydantic import ValidationError
from sqlalchemy import delete, func, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.audit.service import record
from loyalty_core.errors import ErrorCode, LoyaltyError, NotFound, ValidationFailed
from loyalty_core.ids import new_id
from loyalty_core.members import repository as repo
from loyalty_core.members.models import (
    Identifier,
    IdentifierKind,
    Member,
    MemberStatus,
    Profile,
    normalise_identifier,
)
from loyalty_core.members.tables import member_identifiers, members
from loyalty_core.modules.contributions import DomainEvent
from loyalty_core.modules.topics import MemberUpdated

if TYPE_CHECKING:
    from loyalty_core.modules.dispatch import DomainEvents


MAX_ATTRIBUTES_BYTES = 16_384
CHANNELS = frozenset({"api", "web", "app", "pos", "import", "partner"})


async def create_member(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    identifiers: Sequence[tuple[str, str]],
    profile: dict[str, object] | None = None,
    attributes: dict[str, object] | None = None,
    channel: str = "api",
    actor: str,
) -> Member:
    """Enrol a member with at least one identifier."""
    if not identifiers:
        raise ValidationFailed("a member needs at least one identifier", field="identifiers")
    if channel not in CHANNELS:
        raise ValidationFailed(
            f"channel must be one of {', '.join(sorted(CHANNELS))}", field="channel"
        )
    checked_profile = _profile(profile or {})
    checked_attributes = _attributes(attributes or {})
    checked_identifiers = [_identifier(kind, value) for kind, value in identifiers]
    member_id = new_id()
    await conn.execute(
        insert(members).values(
            tenant_id=tenant_id,
            id=member_id,
            profile=checked_profile.model_dump(mode="json", by_alias=True, exclude_none=True),
            attributes=checked_attributes,
            enrolment_channel=channel,
        )
    )
    await _add_identifiers(conn, tenant_id, member_id, checked_identifiers)
    await record(conn, tenant_id, actor=actor, action="member.create", target=f"member:{member_id}")
    return await get_member(conn, tenant_id, member_id)


async def update_member(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    profile: dict[str, object] | None = None,
    attributes: dict[str, object] | None = None,
    status: MemberStatus | None = None,
    add_identifiers: Sequence[tuple[str, str]] = (),
    remove_identifiers: Sequence[tuple[str, str]] = (),
    actor: str,
    events: DomainEvents | None = None,
) -> Member:
    """Change a member: profile fields given are replaced (others kept), attributes merged
    (a null value removes the key), identifiers added or removed. Erased members are final.

    With ``events``, the change is announced as ``member.updated`` in the same transaction:
    the payload names what changed and which profile fields and identifier kinds the member
    did not have before and has now (``added``), never a value (the outbox keeps no personal
    data)."""
    current = await repo.get_for_update(conn, tenant_id, member_id)
    if current is None:
        raise NotFound("member not found", field="id")
    if current.status is MemberStatus.ERASED:
        raise LoyaltyError(
            "an erased member cannot be changed", code=ErrorCode.MEMBER_NOT_ACTIVE, field="id"
        )
    if status is MemberStatus.ERASED:
        raise ValidationFailed("erasure is its own operation", field="status")
    changes: dict[str, object] = {}
    if profile is not None:
        merged = {**current.profile.model_dump(by_alias=True, exclude_none=True), **profile}
        changes["profile"] = _profile(merged).model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
    if attributes is not None:
        merged_attributes = {**current.attributes, **attributes}
        changes["attributes"] = _attributes(
            {k: v for k, v in merged_attributes.items() if v is not None}
        )
    if status is not None:
        changes["status"] = status.value
    removals = [_identifier(kind, value) for kind, value in remove_identifiers]
    additions = [_identifier(kind, value) for kind, value in add_identifiers]
    before_kinds: set[str] = set()
    if events is not None:
        held = await repo.identifiers_of(conn, tenant_id, [member_id])
        before_kinds = {i.kind.value for i in held[member_id]}
    for identifier in removals:
        await conn.execute(
            delete(member_identifiers).where(
                member_identifiers.c.tenant_id == tenant_id,
                member_identifiers.c.member_id == member_id,
                member_identifiers.c.kind == identifier.kind.value,
                member_identifiers.c.value == identifier.value,
            )
        )
    await _add_identifiers(conn, tenant_id, member_id, additions)
    await conn.execute(
        update(members)
        .where(members.c.tenant_id == tenant_id, members.c.id == member_id)
        .values(**changes, updated_at=func.now())
    )
    remaining = await repo.identifiers_of(conn, tenant_id, [member_id])
    if not remaining[member_id]:
        raise ValidationFailed("a member needs at least one identifier", field="identifiers")
    data: dict[str, object] = {
        "fields": sorted(changes),
        "identifiersChanged": bool(removals or additions),
    }
    await record(
        conn,
        tenant_id,
        actor=actor,
        action="member.update",
        target=f"member:{member_id}",
        data=data,
    )
    updated = await get_member(conn, tenant_id, member_id)
    if events is not None:
        after_kinds = {i.kind.value for i in remaining[member_id]}
        before_profile = current.profile.model_dump(by_alias=True, exclude_none=True)
        after_profile = updated.profile.model_dump(by_alias=True, exclude_none=True)
        added = sorted(set(after_profile) - set(before_profile)) + sorted(
            after_kinds - before_kinds
        )
        await events.publish(
            conn,
            DomainEvent.of(
                tenant_id,
                MemberUpdated(
                    member_id=member_id,
                    fields=tuple(sorted(changes)),
                    identifiers_changed=bool(removals or additions),
                    added=tuple(added),
                ),
            ),
        )
    return updated


async def get_member(conn: AsyncConnection, tenant_id: uuid.UUID, member_id: uuid.UUID) -> Member:
    """The member, or NOT_FOUND (absent, or another tenant's)."""
    member = await repo.get(conn, tenant_id, member_id)
    if member is None:
        raise NotFound("member not found", field="id")
    return member


async def require_active(
    conn: AsyncConnection, tenant_id: uuid.UUID, member_id: uuid.UUID, *, field: str = "memberId"
) -> Member:
    """The member, if it exists and may earn and spend; NOT_FOUND or MEMBER_NOT_ACTIVE else."""
    member = await repo.get(conn, tenant_id, member_id)
    if member is None:
        raise NotFound("member not found", field=field)
    return check_active(member, field=field)


def check_active(member: Member, *, field: str = "memberId") -> Member:
    """The member, if it may earn and spend; MEMBER_NOT_ACTIVE else (for a caller that read
    the member already in its transaction)."""
    if member.status is not MemberStatus.ACTIVE:
        raise LoyaltyError(
            f"member is {member.status.value}", code=ErrorCode.MEMBER_NOT_ACTIVE, field=field
        )
    return member


async def find_member(
    conn: AsyncConnection, tenant_id: uuid.UUID, kind: str, value: str
) -> Member | None:
    """The member holding an identifier, or None (also for a malformed identifier)."""
    identifier = identifier_or_none(kind, value)
    if identifier is None:
        return None
    return await repo.find_by_identifier(conn, tenant_id, identifier.kind, identifier.value)


def stored_forms(
    identifiers: Iterable[tuple[str, str]],
) -> dict[tuple[str, str], tuple[str, str] | None]:
    """Each ``(kind, value)`` as sent -> as stored (kind and normalised value), or None when
    it is malformed: how a batch looks many up at once."""
    found: dict[tuple[str, str], tuple[str, str] | None] = {}
    for sent in identifiers:
        if sent not in found:
            stored = identifier_or_none(*sent)
            found[sent] = None if stored is None else (stored.kind.value, stored.value)
    return found


def identifier_or_none(kind: str, value: str) -> Identifier | None:
    """The identifier as stored (its value normalised), or None when it is malformed."""
    try:
        return _identifier(kind, value)
    except ValidationFailed:
        return None


def parse_identifier(kind: str, value: str, *, field: str = "identifier") -> Identifier:
    return _identifier(kind, value, field=field)


def _identifier(kind: str, value: str, *, field: str = "identifiers") -> Identifier:
    try:
        parsed_kind = IdentifierKind(kind.lower())
    except ValueError as exc:
        kinds = ", ".join(k.value for k in IdentifierKind)
        raise ValidationFailed(f"identifier kind must be one of {kinds}", field=field) from exc
    normalised = normalise_identifier(parsed_kind, value)
    if normalised is None:
        raise ValidationFailed(f"not a valid {parsed_kind.value}: {value[:64]!r}", field=field)
    return Identifier(parsed_kind, normalised)


async def _add_identifiers(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    identifiers: Sequence[Identifier],
) -> None:
    for identifier in identifiers:
        try:
            async with conn.begin_nested():
                await conn.execute(
                    insert(member_identifiers).values(
                        tenant_id=tenant_id,
                        id=new_id(),
                        member_id=member_id,
                        kind=identifier.kind.value,
                        value=identifier.value,
                    )
                )
        except IntegrityError as exc:
            raise LoyaltyError(
                f"{identifier.kind.value} {identifier.value!r} belongs to another member",
                code=ErrorCode.DUPLICATE_IDENTIFIER,
                field="identifiers",
            ) from exc


def _profile(data: dict[str, object]) -> Profile:
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValidationFailed(f"profile.{where}: {first['msg']}", field="profile") from exc


def _attributes(data: dict[str, object]) -> dict[str, object]:
    if len(orjson.dumps(data)) > MAX_ATTRIBUTES_BYTES:
        raise ValidationFailed(
            f"attributes exceed {MAX_ATTRIBUTES_BYTES} bytes of JSON", field="attributes"
        )
    return data


__all__ = [
    "CHANNELS",
    "check_active",
    "create_member",
    "find_member",
    "get_member",
    "identifier_or_none",
    "parse_identifier",
    "require_active",
    "stored_forms",
    "update_member",
]
