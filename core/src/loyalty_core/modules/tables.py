"""Per-tenant module configuration (Saleor's ``PluginConfiguration``, keyed by tenant)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, ForeignKeyConstraint, String, Table, func, text
from sqlalchemy.dialects.postgresql import JSONB

from loyalty_core.db.metadata import metadata, tenant_id_column

tenant_modules = Table(
    "tenant_modules",
    metadata,
    tenant_id_column(),
    Column("module", String(64), primary_key=True),
    Column("enabled", Boolean, nullable=False),
    Column("settings", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
)

__all__ = ["tenant_modules"]
