"""Ingested events and the custom event types a tenant registers."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    String,
    Table,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from loyalty_core.db.metadata import created_at_column, id_column, metadata, tenant_id_column

event_types = Table(
    "event_types",
    metadata,
    tenant_id_column(),
    Column("name", String(64), primary_key=True),
    Column("description", String(500), nullable=False, server_default=""),
    Column("json_schema", JSONB, nullable=False),
    created_at_column(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
)

events = Table(
    "events",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("type", String(64), nullable=False),
    Column("source", String(64), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("member_id", UUID(as_uuid=True), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("payload_hash", String(64), nullable=False),
    Column("amount", BigInteger),
    Column("currency", String(3)),
    Column("refunded_amount", BigInteger, nullable=False, server_default="0"),
    Column("purchase_id", UUID(as_uuid=True)),
    Column("actor", String(200), nullable=False),
    created_at_column(),
    CheckConstraint(
        "amount IS NULL OR (refunded_amount >= 0 AND refunded_amount <= amount)",
        name="refund_within_amount",
    ),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
    ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
    ForeignKeyConstraint(["tenant_id", "purchase_id"], ["events.tenant_id", "events.id"]),
    UniqueConstraint("tenant_id", "source", "external_id", name="uq_events_source_external_id"),
    Index("ix_events_member", "tenant_id", "member_id", "occurred_at"),
)

__all__ = ["event_types", "events"]
