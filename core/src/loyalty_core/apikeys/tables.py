"""API keys, stored as a SHA-256 of their secret (the secret has 256 bits of entropy, so a
fast hash is safe; a slow password hash would only slow every till request)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKeyConstraint, String, Table
from sqlalchemy.dialects.postgresql import ARRAY

from loyalty_core.db.metadata import created_at_column, id_column, metadata, tenant_id_column

api_keys = Table(
    "api_keys",
    metadata,
    tenant_id_column(),
    id_column(),
    Column("name", String(100), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("scopes", ARRAY(String(32)), nullable=False),
    Column("created_by", String(200), nullable=False),
    created_at_column(),
    Column("revoked_at", DateTime(timezone=True)),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"]),
)

__all__ = ["api_keys"]
