"""Who may do what in onboarding, in one place.

Web and app sign-up forms call anonymously with a public key holding only the
``enrolment`` scope: it names the tenant and may start, verify and complete web and app
enrolments, nothing else. Tills enrol with ``members:write`` on any channel. Members manage
their own consents and referral code; another member is NOT_FOUND, never FORBIDDEN.
"""

from __future__ import annotations

import uuid

from loyalty_core.sdk import (
    Forbidden,
    Principal,
    Role,
    Scope,
    parse_id,
    require_principal,
    require_tenant,
)

from loyalty_onboarding.models import Channel

SELF_SERVICE = frozenset({Channel.WEB, Channel.APP})


def enrolment_channels(principal: Principal | None) -> frozenset[Channel]:
    """The channels the caller may enrol on (raises FORBIDDEN when none)."""
    found = require_principal(principal)
    require_tenant(found)
    if found.may(Scope.MEMBERS_WRITE):
        return frozenset(Channel)
    if found.may(Scope.ENROLMENT):
        return SELF_SERVICE
    raise Forbidden("enrolment needs the enrolment or members:write scope")


def member_access(principal: Principal | None, value: str, *, write: bool) -> uuid.UUID | None:
    """The member id the caller may act on; None when it may not see that member."""
    found = require_principal(principal)
    require_tenant(found)
    member_id = parse_id(value)
    if found.role is Role.MEMBER:
        return member_id if member_id is not None and found.member_id == member_id else None
    if not found.may(Scope.MEMBERS_WRITE if write else Scope.MEMBERS_READ):
        raise Forbidden(f"requires the {'members:write' if write else 'members:read'} scope")
    return member_id


__all__ = ["SELF_SERVICE", "enrolment_channels", "member_access"]
