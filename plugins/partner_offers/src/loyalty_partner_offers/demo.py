"""How partner offers show themselves in ``loyalty demo`` (filled in below)."""

from __future__ import annotations

from loyalty_core.sdk import DemoContext, DemoSeed


async def seed(demo: DemoContext) -> None:
    return None


DEMO = DemoSeed(settings={}, seed=seed)

__all__ = ["DEMO", "seed"]
