"""What a module's handler posted while it handled one domain event.

``eventIngest`` answers with every ledger transaction posted for the event, the modules'
included: a stamp card's reward posted by an in-transaction handler belongs in the till's
answer as much as the base earn does. The dispatcher opens a :func:`recording` around the
handlers of each domain event, and the SDK's posting functions (``earn``, ``spend``,
``reverse``, ``give_back``, ``post``, all :func:`recorded`) add what they post to it. So a
module needs to do nothing, and cannot forget.

While an ``event.ingested`` is handled, a posting whose cause names no event gets the
event's id: a replay of the event finds its transactions by that id, so it lists the
module's postings exactly as the first answer did.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Concatenate, ParamSpec

from loyalty_core.ledger.models import LedgerTransaction, Posted

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from loyalty_core.ledger.service import Posting

P = ParamSpec("P")


@dataclass
class _Recording:
    event_id: uuid.UUID | None
    posted: list[LedgerTransaction] = field(default_factory=list)


_current: ContextVar[_Recording | None] = ContextVar("loyalty_ledger_recording", default=None)


@contextmanager
def recording(event_id: uuid.UUID | None) -> Iterator[list[LedgerTransaction]]:
    """Collect what the SDK posts inside the block, for the event ``event_id`` if any."""
    current = _Recording(event_id)
    token = _current.set(current)
    try:
        yield current.posted
    finally:
        _current.reset(token)


def recorded(
    post: Callable[Concatenate[AsyncConnection, Posting, P], Awaitable[Posted]],
) -> Callable[Concatenate[AsyncConnection, Posting, P], Awaitable[Posted]]:
    """``post`` as the SDK offers it: what it posts inside a :func:`recording` is collected."""

    @functools.wraps(post)
    async def wrapper(
        conn: AsyncConnection, posting: Posting, /, *args: P.args, **kwargs: P.kwargs
    ) -> Posted:
        current = _current.get()
        if current is None:
            return await post(conn, posting, *args, **kwargs)
        if current.event_id is not None and posting.cause.event_id is None:
            posting = replace(posting, cause=replace(posting.cause, event_id=current.event_id))
        done = await post(conn, posting, *args, **kwargs)
        if all(t.id != done.transaction.id for t in current.posted):
            current.posted.append(done.transaction)
        return done

    return wrapper


__all__ = ["recorded", "recording"]
