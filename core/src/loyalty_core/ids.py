"""Identifiers: UUIDv7 underneath (sortable by creation), opaque strings on the wire."""

from __future__ import annotations

import uuid

import uuid_utils


def new_id() -> uuid.UUID:
    """A new UUIDv7: time-ordered, so primary keys append to the index's right edge."""
    return uuid.UUID(bytes=uuid_utils.uuid7().bytes)


def parse_id(value: str) -> uuid.UUID | None:
    """The UUID behind an opaque id, or None when the string is not one of ours."""
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None


__all__ = ["new_id", "parse_id"]
