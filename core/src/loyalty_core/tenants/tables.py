"""The tenants table. Its key is named ``tenant_id`` so row-level security treats it like
every other table; a second policy lets the platform scope see all tenants."""

from __future__ import annotations

from sqlalchemy import Column, String, Table, text
from sqlalchemy.dialects.postgresql import JSONB

from loyalty_core.db.metadata import created_at_column, metadata, tenant_id_column

tenants = Table(
    "tenants",
    metadata,
    tenant_id_column(),
    Column("slug", String(63), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("timezone", String(64), nullable=False, server_default="UTC"),
    Column("default_currency", String(3), nullable=False, server_default="EUR"),
    Column("settings", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    created_at_column(),
)

__all__ = ["tenants"]
