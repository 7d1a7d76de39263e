"""Shared GraphQL building blocks: payload errors, cursor connections, ids, mutation runner."""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar, overload

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.types import Info

from loyalty_core.context import RequestContext
from loyalty_core.errors import ErrorCode as CoreErrorCode
from loyalty_core.errors import LoyaltyError, NotFound, ValidationFailed
from loyalty_core.ids import parse_id
from loyalty_core.modules.dispatch import DomainEvents

ErrorCode = CoreErrorCode
strawberry.enum(ErrorCode, name="ErrorCode", description="Machine-readable error codes.")

T = TypeVar("T")
R = TypeVar("R")

MAX_PAGE = 100


@strawberry.type(description="An expected failure of a mutation: nothing was written.")
class UserError:
    """An expected failure in a payload's ``errors``: a code, the field at fault, a message."""

    code: ErrorCode
    field: str | None
    message: str
    line: int | None = strawberry.field(
        default=None,
        description="Where in the field's text the problem is, from 1 (a condition that does "
        "not compile or names an unknown field); null when it has no place in the text.",
    )
    column: int | None = strawberry.field(
        default=None, description="The column on `line`, from 1, in characters."
    )

    @classmethod
    def of(cls, error: LoyaltyError) -> UserError:
        return cls(
            code=error.code,
            field=error.field,
            message=error.message,
            line=error.line,
            column=error.column,
        )


@strawberry.type
class PageInfo:
    """Where a page sits in its list: pass ``endCursor`` as ``after`` for the next one."""

    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    """One node of a page with the cursor to continue after it."""

    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    """A Relay-style page of a list: edges with cursors, and whether there is more."""

    edges: list[Edge[T]]
    page_info: PageInfo


class Cursors:
    """The cursors of one list of one tenant: a position in the list (the id of an item) and
    a tag that binds it to the list and the tenant, so that a cursor of another list (the
    members' passed to a member's ledger, one member's ledger to another's) or another
    tenant's is refused as ``INVALID_INPUT`` on ``after``, not read as a position.

    ``name`` names the list, and the object it belongs to when it is one's (the core's are
    ``members``, ``campaigns``, ``ledger:<member id>``; a module's start with the module's
    name, ``giftcards.cards``). The tag is the first 8 bytes of the BLAKE2s hash of the
    tenant id and the name, taken once per page, so a cursor costs what the bare id's base64
    cost before. It binds, it does not authenticate: a caller could put its own list's tag
    beside any id, but positions are ids it may see anyway, and every read is filtered by the
    caller's tenant, so nothing is gained.
    """

    __slots__ = ("_tag",)

    def __init__(self, tenant_id: uuid.UUID, name: str) -> None:
        self._tag = hashlib.blake2s(tenant_id.bytes + name.encode(), digest_size=8).digest()

    def encode(self, position: uuid.UUID) -> str:
        """The cursor of ``position`` (32 characters of URL-safe base64)."""
        return base64.urlsafe_b64encode(position.bytes + self._tag).decode()

    def decode(self, cursor: str | None) -> uuid.UUID | None:
        """The position a cursor of this list holds (None without one); ValidationFailed on
        ``after`` for anything else."""
        if cursor is None:
            return None
        try:
            raw = base64.urlsafe_b64decode(cursor) if len(cursor) == _CURSOR_LENGTH else b""
        except (ValueError, binascii.Error):
            raw = b""
        if raw[16:] != self._tag:
            raise ValidationFailed("not a cursor of this list", field="after")
        return uuid.UUID(bytes=raw[:16])


_CURSOR_LENGTH = 32


@overload
def connection(
    cursors: Cursors, items: Sequence[T], first: int, cursor_of: Callable[[T], uuid.UUID]
) -> Connection[T]: ...


@overload
def connection(
    cursors: Cursors,
    items: Sequence[R],
    first: int,
    cursor_of: Callable[[R], uuid.UUID],
    node_of: Callable[[R], T],
) -> Connection[T]: ...


def connection(
    cursors: Cursors,
    items: Sequence[Any],
    first: int,
    cursor_of: Callable[[Any], uuid.UUID],
    node_of: Callable[[Any], Any] | None = None,
) -> Connection[Any]:
    """A page from ``first + 1`` fetched items: the extra one only tells there is a next page.
    Cursors are ``cursors``' (the list's, see :class:`Cursors`).

    With ``node_of``, the items are what was read (rows, models), cursors come from their
    ids and only the items on the page are made GraphQL nodes: a dashboard's ledger page is
    21 rows read for 20 entries shown. Without it, the items are the nodes.
    """
    page = items[:first]
    nodes = page if node_of is None else [node_of(item) for item in page]
    encode = cursors.encode
    edges = [
        Edge(cursor=encode(cursor_of(item)), node=node)
        for item, node in zip(page, nodes, strict=True)
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(items) > first,
            has_previous_page=False,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


def page_size(first: int | None) -> int:
    """The page size asked for: 20 when left out; INVALID_INPUT outside 1..100."""
    if first is None:
        return 20
    if first < 1 or first > MAX_PAGE:
        raise LoyaltyError(f"first must be between 1 and {MAX_PAGE}", field="first")
    return first


def require_id(value: str, *, field: str = "id") -> uuid.UUID:
    """The UUID behind an id argument; a malformed id is simply not found."""
    parsed = parse_id(value)
    if parsed is None:
        raise NotFound("not found", field=field)
    return parsed


def context(info: Info[RequestContext, None]) -> RequestContext:
    return info.context


async def run_mutation(
    info: Info[RequestContext, None],
    work: Callable[[AsyncConnection, DomainEvents], Awaitable[R]],
) -> tuple[R | None, list[UserError]]:
    """Run ``work`` in a transaction of its own: its result, or the error as payload data
    after the rollback (bad input never leaves a partial write)."""
    try:
        async with info.context.write() as (conn, events):
            return await work(conn, events), []
    except LoyaltyError as error:
        return None, [UserError.of(error)]


__all__ = [
    "Connection",
    "Cursors",
    "Edge",
    "ErrorCode",
    "PageInfo",
    "UserError",
    "connection",
    "context",
    "page_size",
    "require_id",
    "run_mutation",
]
