"""Composed schemas by module set: built on first use, kept in an LRU, pre-built at start-up.

Tenants share schemas: every tenant with the same enabled modules uses the same compiled
schema (and its document cache). Building one costs tens of milliseconds, so the sets tenants
use are built when the process starts, and enabling or disabling a module only moves a tenant
to another set on its next request: no restart, nothing to invalidate.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import strawberry
from graphql import GraphQLSchema
from loyalty_core.db.engine import Database
from loyalty_core.modules.manager import CORE_MODULE, ModuleRegistry
from loyalty_core.modules.service import module_sets_in_use

from loyalty_gateway.composition import compose_schema, graphql_schema
from loyalty_gateway.direct_resolvers import mark_direct_resolvers
from loyalty_gateway.documents import DocumentCache
from loyalty_gateway.limits import DocumentLimits
from loyalty_gateway.metrics import GatewayMetrics
from loyalty_gateway.plain_fields import mark_plain_fields

CORE_ONLY: frozenset[str] = frozenset()
"""The module set of anonymous callers and platform admins: the core alone."""


@dataclass(frozen=True)
class CompiledSchema:
    """A composed schema, the graphql-core schema it executes on, and its documents."""

    modules: frozenset[str]
    schema: strawberry.Schema
    graphql: GraphQLSchema
    documents: DocumentCache = field(compare=False)


class SchemaCache:
    """An LRU of compiled schemas keyed by the set of enabled module names."""

    def __init__(
        self,
        registry: ModuleRegistry,
        limits: DocumentLimits,
        *,
        size: int,
        metrics: GatewayMetrics | None = None,
    ) -> None:
        if size < 1:
            raise ValueError("the schema cache holds at least one schema")
        self._registry = registry
        self._limits = limits
        self._size = size
        self._metrics = metrics
        self._schemas: OrderedDict[frozenset[str], CompiledSchema] = OrderedDict()
        # One thread prepares new documents for every schema: while it works, the event loop
        # keeps half the process at least (the GIL passes between two threads).
        self._preparer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="documents")

    def close(self) -> None:
        """Stop the thread that prepares new documents (a document it is preparing finishes)."""
        self._preparer.shutdown(wait=False, cancel_futures=True)

    def __len__(self) -> int:
        return len(self._schemas)

    def __contains__(self, modules: object) -> bool:
        return modules in self._schemas

    def get(self, modules: frozenset[str]) -> CompiledSchema:
        """The compiled schema of the core plus ``modules``, composed on a miss."""
        modules = modules - {CORE_MODULE}
        compiled = self._schemas.get(modules)
        if compiled is not None:
            self._schemas.move_to_end(modules)
            return compiled
        compiled = self._compile(modules)
        self._schemas[modules] = compiled
        if len(self._schemas) > self._size:
            self._schemas.popitem(last=False)
        if self._metrics is not None:
            self._metrics.schema_builds.inc()
            self._metrics.schema_cache_size.set(len(self._schemas))
        return compiled

    async def prebuild(self, database: Database) -> list[frozenset[str]]:
        """Build the core-only schema and the module sets most tenants use (as many as the
        cache holds), read in one statement of the platform scope."""
        async with database.platform_transaction() as conn:
            in_use = await module_sets_in_use(conn, self._registry)
        in_use[CORE_ONLY] += 1
        built = [modules for modules, _ in in_use.most_common(self._size)]
        for modules in reversed(built):  # the most used last: least likely to be evicted
            self.get(modules)
        return built

    def _compile(self, modules: frozenset[str]) -> CompiledSchema:
        schema, core_schema = composed(self._registry, modules)
        documents = DocumentCache(core_schema, self._limits, preparer=self._preparer)
        return CompiledSchema(modules, schema, core_schema, documents)


def composed(
    registry: ModuleRegistry, modules: frozenset[str]
) -> tuple[strawberry.Schema, GraphQLSchema]:
    """The schema of ``modules`` with its fields marked for the executor, composed once per
    registry and module set: a composed schema is never changed after marking, so the
    gateways of one process share it (each keeps its own documents). The last
    :data:`COMPOSED_KEPT` sets of each registry are kept."""
    by_modules = _COMPOSED.setdefault(registry, OrderedDict())
    found = by_modules.get(modules)
    if found is None:
        schema = compose_schema(registry, modules)
        core_schema = graphql_schema(schema)
        mark_plain_fields(core_schema)
        mark_direct_resolvers(schema, core_schema)
        found = by_modules[modules] = (schema, core_schema)
        if len(by_modules) > COMPOSED_KEPT:
            by_modules.popitem(last=False)
    by_modules.move_to_end(modules)
    return found


COMPOSED_KEPT = 64
"""Composed module sets kept per registry beyond the gateways' own caches."""

_COMPOSED: weakref.WeakKeyDictionary[
    ModuleRegistry, OrderedDict[frozenset[str], tuple[strawberry.Schema, GraphQLSchema]]
] = weakref.WeakKeyDictionary()


__all__ = ["CORE_ONLY", "CompiledSchema", "SchemaCache"]
