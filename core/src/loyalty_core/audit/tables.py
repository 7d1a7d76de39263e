"""The audit log table (insert-only for the app role)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKeyConstraint, Index, String, Table, text
from sqlalchemy.dialects.postgresql import JSONB

from loyalty_core.db.metadata import created_at_column, id_column, metadata, tenant_id_column

audit_log = Table(
    "audit_log",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("actor", String(200), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(200), nullable=False),
    Column("data", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    created_at_column(),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
    Index("ix_audit_log_target", "tenant_id", "target"),
)

__all__ = ["audit_log"]
