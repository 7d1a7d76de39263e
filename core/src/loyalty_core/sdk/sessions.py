"""Member sessions for modules that sign members in themselves: ``from loyalty_core.sdk
import sessions``.

A module that proves who a person is (onboarding's one-time code to an address a member
holds) turns that into a session the gateway accepts as the member's Bearer credential,
with :func:`member_session_token`. The core signs it (with ``LOYALTY_SESSION_SECRET``, its
own issuer and audience), so no module holds a key, and every session token is one the
gateway knows how to check.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from loyalty_core.context import RequestContext
from loyalty_core.sessions import MAX_TTL, SessionsNotConfigured, issue_member_session


def member_session_token(context: RequestContext, member_id: uuid.UUID, *, ttl: timedelta) -> str:
    """A session token for ``member_id`` of the caller's tenant, valid for ``ttl`` (at most
    :data:`MAX_TTL`, a day): a JWT with ``sub`` the member, ``role`` member and ``tenant``,
    which the gateway accepts as a Bearer credential. Check first that the member is the
    caller's to sign in (active, its address proven): the token is the member's from then
    on. Raises :class:`SessionsNotConfigured` (``SESSIONS_NOT_CONFIGURED``) in production
    without ``LOYALTY_SESSION_SECRET``; in development it falls back to the development
    secret."""
    return issue_member_session(
        context.settings, context.tenant_id, member_id, now=context.now(), ttl=ttl
    )


__all__ = ["MAX_TTL", "SessionsNotConfigured", "member_session_token"]
