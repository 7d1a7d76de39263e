"""The one SQLAlchemy ``MetaData`` of the core's tables, and column helpers they share.

Every table carries ``tenant_id`` as the first column of its primary key and of every foreign
key, so the schema can be distributed by tenant (Citus) without change, and row-level security
filters every row by the tenant set on the transaction.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, MetaData, func
from sqlalchemy.dialects.postgresql import UUID

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def tenant_id_column() -> Column[object]:
    """The ``tenant_id`` column every table starts with (first column of its primary key)."""
    return Column("tenant_id", UUID(as_uuid=True), primary_key=True, nullable=False)


def id_column(name: str = "id") -> Column[object]:
    """The ``id`` column (a UUIDv7 from ``new_id``), second column of the primary key."""
    return Column(name, UUID(as_uuid=True), primary_key=True, nullable=False)


def created_at_column() -> Column[object]:
    """A ``created_at`` column set by the database at insert."""
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


__all__ = ["created_at_column", "id_column", "metadata", "tenant_id_column"]
