"""Shared GraphQL building blocks: payload errors, cursor connections, ids, mutation runner."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar, overload

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.types import Info

from loyalty_core.context import RequestContext
from loyalty_core.errors import ErrorCode as CoreErrorCode
from loyalty_core.errors import LoyaltyError, NotFound
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

    @classmethod
    def of(cls, error: LoyaltyError) -> UserError:
        return cls(code=error.code, field=error.field, message=error.message)


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


@overload
def connection(
    items: Sequence[T], first: int, cursor_of: Callable[[T], uuid.UUID]
) -> Connection[T]: ...


@overload
def connection(
    items: Sequence[R],
    first: int,
    cursor_of: Callable[[R], uuid.UUID],
    node_of: Callable[[R], T],
) -> Connection[T]: ...


def connection(
    items: Sequence[Any],
    first: int,
    cursor_of: Callable[[Any], uuid.UUID],
    node_of: Callable[[Any], Any] | None = None,
) -> Connection[Any]:
    """A page from ``first + 1`` fetched items: the extra one only tells there is a next page.

    With ``node_of``, the items are what was read (rows, models), cursors come from their
    ids and only the items on the page are made GraphQL nodes: a dashboard's ledger page is
    21 rows read for 20 entries shown. Without it, the items are the nodes.
    """
    page = items[:first]
    nodes = page if node_of is None else [node_of(item) for item in page]
    edges = [
        Edge(cursor=encode_cursor(cursor_of(item)), node=node)
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


def encode_cursor(value: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(value.bytes).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> uuid.UUID | None:
    """The position an ``after`` cursor names; None for no cursor, INVALID_INPUT for one that is
    not a cursor of this list."""
    if cursor is None:
        return None
    try:
        return uuid.UUID(bytes=base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise LoyaltyError("after: not a cursor of this list", field="after") from exc


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
    "Edge",
    "ErrorCode",
    "PageInfo",
    "UserError",
    "connection",
    "context",
    "decode_cursor",
    "encode_cursor",
    "page_size",
    "require_id",
    "run_mutation",
]
