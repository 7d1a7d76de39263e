"""Alembic migrations of the core (branch label ``core``)."""
