"""The stamp card table, declared as its migration creates it."""

from loyalty_core.sdk import metadata, tenant_id_column
from sqlalchemy import Column, DateTime, Integer, Table, func
from sqlalchemy.dialects.postgresql import UUID

cards = Table(
    "stamp_card_cards",
    metadata,
    tenant_id_column(),
    Column("member_id", UUID(as_uuid=True), primary_key=True, nullable=False),
    Column("stamps", Integer, nullable=False),
    Column("completed", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
