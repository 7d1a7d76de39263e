"""Members and their identifiers (card number, e-mail, phone, external id)."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    String,
    Table,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from loyalty_core.db.metadata import created_at_column, id_column, metadata, tenant_id_column

members = Table(
    "members",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("profile", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("attributes", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("enrolment_channel", String(32), nullable=False, server_default="api"),
    created_at_column(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("status IN ('active', 'blocked', 'erased')", name="status"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
)

member_identifiers = Table(
    "member_identifiers",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("member_id", UUID(as_uuid=True), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("value", String(320), nullable=False),
    created_at_column(),
    ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
    UniqueConstraint("tenant_id", "kind", "value", name="uq_member_identifiers_kind_value"),
    Index("ix_member_identifiers_member", "tenant_id", "member_id"),
)

__all__ = ["member_identifiers", "members"]
