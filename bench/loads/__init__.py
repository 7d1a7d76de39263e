"""What a busy retailer runs with each module on the ingest path, for the module tax (P7).

A module that does work when a purchase is ingested (a hook on ingestion, a domain event
handler, a rule effect, a fact for conditions) adds a file here, named for the module, that
defines ``LOAD``: a :class:`ModuleLoad` that enables the module for a seeded tenant and
configures it as a busy retailer would (twenty badges live, a four-level ladder, a partner
attributed on every purchase), through the module's own services. :mod:`bench.p7_module_tax`
finds every such file and measures P1 on that tenant against a core-only tenant in the same
run.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from loyalty_core.db.engine import Database

from bench.seed import BenchTenant


@dataclass(frozen=True)
class LoadSetup:
    """What :attr:`ModuleLoad.configure` made: a line for the report saying what runs, and
    what the purchases need to look like for the module to do its work."""

    note: str
    api_key: str | None = None
    """The key the till's purchases are sent with, when not the tenant's till key (a
    partner's touchpoint, for clearing)."""
    transactions: int = 2
    """Ledger transactions the first purchase posts (P1's campaign makes 2: the base earn and
    the double points); checked before measuring, so a load that does nothing is never
    measured."""


@dataclass(frozen=True)
class ModuleLoad:
    """A module, and how a busy retailer configures it for ``tenant`` (``database``: the
    app role's; the module is enabled through ``loyalty_core.modules.service``)."""

    module: str
    configure: Callable[[Database, BenchTenant], Awaitable[LoadSetup]]


def module_loads() -> list[ModuleLoad]:
    """Every module's load defined here, in the order of their names."""
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.append(module.LOAD)
    return found


__all__ = ["LoadSetup", "ModuleLoad", "module_loads"]
