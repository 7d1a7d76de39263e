"""Outbox rows, written in the same transaction as the change they announce, so a broker
attached later sees exactly the committed changes."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKeyConstraint, Index, String, Table, text
from sqlalchemy.dialects.postgresql import JSONB

from loyalty_core.db.metadata import created_at_column, id_column, metadata, tenant_id_column

outbox = Table(
    "outbox",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("topic", String(100), nullable=False),
    Column("payload", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    created_at_column(),
    Column("published_at", DateTime(timezone=True)),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
    Index(
        "ix_outbox_unpublished", "tenant_id", "id", postgresql_where=text("published_at IS NULL")
    ),
)

__all__ = ["outbox"]
