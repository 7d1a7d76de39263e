"""The demo seeded once per test database: its tenant's slug is unique, and the tests of
several modules read what their seeds made in it."""

from __future__ import annotations

from loyalty_core.db.engine import Database
from loyalty_core.modules.manager import ModuleRegistry
from loyalty_gateway.demo import DemoCredentials, seed

_seeded: dict[int, DemoCredentials] = {}


async def demo_once(db: Database, registry: ModuleRegistry) -> DemoCredentials:
    """The demo's credentials, seeding it in ``db`` the first time it is asked for."""
    found = _seeded.get(id(db))
    if found is None:
        found = _seeded[id(db)] = await seed(db, registry)
    return found
