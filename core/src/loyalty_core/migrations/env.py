"""Alembic environment: runs on the connection ``loyalty_core.db.migrate`` hands over.

Online only: migrations always run against a live database through ``loyalty migrate``.
"""

from __future__ import annotations

from alembic import context

from loyalty_core.db.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
