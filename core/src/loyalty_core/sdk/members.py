"""Members as modules use them: ``from loyalty_core.sdk import members``.

A module that enrols people (sign-up forms, tills) creates members through the same rules
the core's ``memberCreate`` follows: identifiers validated and normalised, one holder per
identifier, every change audited.
"""

from loyalty_core.members.models import (
    Identifier,
    IdentifierKind,
    Member,
    MemberStatus,
    Profile,
    normalise_identifier,
)
from loyalty_core.members.repository import identifiers_of
from loyalty_core.members.service import (
    create_member,
    find_member,
    get_member,
    require_active,
    update_member,
)

__all__ = [
    "Identifier",
    "IdentifierKind",
    "Member",
    "MemberStatus",
    "Profile",
    "create_member",
    "find_member",
    "get_member",
    "identifiers_of",
    "normalise_identifier",
    "require_active",
    "update_member",
]
