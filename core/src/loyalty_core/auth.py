"""Who is calling: the principal a credential resolves to, and the checks resolvers make.

The tenant always comes from the credential, never from a header or an argument. Another
tenant's object, and another member's, is NOT_FOUND, never FORBIDDEN: existence is not leaked.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from loyalty_core.errors import Forbidden, Unauthenticated


class Role(StrEnum):
    """Who a principal is: a member, a touchpoint's API key, a tenant admin or a platform admin."""

    MEMBER = "member"
    TOUCHPOINT = "touchpoint"
    ADMIN = "admin"
    PLATFORM = "platform"


class Scope(StrEnum):
    """What an API key may do; tenant admins may do all of it."""

    EVENTS_WRITE = "events:write"
    MEMBERS_READ = "members:read"
    MEMBERS_WRITE = "members:write"
    POINTS_REDEEM = "points:redeem"
    ENROLMENT = "enrolment"
    """Self sign-up only: a key a website or app embeds (it is public), which names the
    tenant for anonymous enrolment and may do nothing else."""


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. ``subject`` is the member id (members), the API key id
    (touchpoints) or the token subject (admins)."""

    role: Role
    subject: str
    tenant_id: uuid.UUID | None = None
    scopes: frozenset[Scope] = field(default_factory=frozenset)

    @property
    def actor(self) -> str:
        """How the audit log and the ledger name this caller."""
        return f"{self.role.value}:{self.subject}"

    @property
    def member_id(self) -> uuid.UUID | None:
        return uuid.UUID(self.subject) if self.role is Role.MEMBER else None

    def may(self, scope: Scope) -> bool:
        return self.role is Role.ADMIN or (self.role is Role.TOUCHPOINT and scope in self.scopes)


def require_principal(principal: Principal | None) -> Principal:
    """The caller, or UNAUTHENTICATED when there is none."""
    if principal is None:
        raise Unauthenticated("authentication required")
    return principal


def require_tenant(principal: Principal | None) -> uuid.UUID:
    """The caller's tenant; platform admins have none and are refused tenant operations."""
    tenant_id = require_principal(principal).tenant_id
    if tenant_id is None:
        raise Forbidden("this operation needs a tenant credential")
    return tenant_id


def require_admin(principal: Principal | None) -> uuid.UUID:
    """The tenant of a tenant admin (or a platform admin acting in it); FORBIDDEN for anyone
    else."""
    found = require_principal(principal)
    if found.role is not Role.ADMIN or found.tenant_id is None:
        raise Forbidden("tenant admins only")
    return found.tenant_id


def require_platform(principal: Principal | None) -> Principal:
    found = require_principal(principal)
    if found.role is not Role.PLATFORM:
        raise Forbidden("platform admins only")
    return found


def require_scope(principal: Principal | None, scope: Scope) -> uuid.UUID:
    """The tenant of an admin, or of a touchpoint holding ``scope``."""
    found = require_principal(principal)
    tenant_id = require_tenant(found)
    if not found.may(scope):
        raise Forbidden(f"requires the {scope.value} scope")
    return tenant_id


def may_read_member(principal: Principal | None, member_id: uuid.UUID) -> bool:
    """Admins and touchpoints with members:read see every member; a member only itself."""
    found = require_principal(principal)
    if found.role is Role.MEMBER:
        return found.member_id == member_id
    return found.may(Scope.MEMBERS_READ)


__all__ = [
    "Principal",
    "Role",
    "Scope",
    "may_read_member",
    "require_admin",
    "require_platform",
    "require_principal",
    "require_scope",
    "require_tenant",
]
