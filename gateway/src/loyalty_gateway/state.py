"""What one gateway process holds while it serves, shared by its transports.

Built by :func:`loyalty_gateway.app.create_app` (and kept at ``app.state.gateway``): the HTTP
and WebSocket transports, the module routes and the health checks all take the same state, so
a request takes the same path to its tenant's schema whichever way it arrives.
"""

from __future__ import annotations

from dataclasses import dataclass

from loyalty_core.context import RequestContext
from loyalty_core.db.engine import Database
from loyalty_core.modules.manager import ModuleRegistry
from loyalty_core.settings import Settings

from loyalty_gateway.auth import Authenticator, Caller
from loyalty_gateway.metrics import GatewayMetrics
from loyalty_gateway.schema_cache import SchemaCache
from loyalty_gateway.subscriptions import BalanceNotifier


@dataclass(frozen=True)
class GatewayState:
    settings: Settings
    registry: ModuleRegistry
    database: Database
    schemas: SchemaCache
    authenticator: Authenticator
    notifier: BalanceNotifier
    metrics: GatewayMetrics

    def context(self, caller: Caller, request_id: str) -> RequestContext:
        """A fresh request context for one operation of ``caller``."""
        return RequestContext(
            principal=caller.principal,
            tenant=caller.tenant,
            database=self.database,
            registry=self.registry,
            enabled_modules=dict(caller.enabled_modules),
            settings=self.settings,
            request_id=request_id,
            notifier=self.notifier,
        )


__all__ = ["GatewayState"]
