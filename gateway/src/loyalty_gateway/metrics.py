"""Prometheus metrics of one gateway process, served at ``/metrics``.

Each app has its own collector registry (not prometheus-client's global one), so several apps
in one process (tests, embedded use) never count into each other.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from starlette.requests import Request
from starlette.responses import Response

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Outcome:
    """How a GraphQL request ended (the ``outcome`` label)."""

    OK = "ok"
    ERRORS = "errors"  # executed, with errors in the response
    INVALID = "invalid"  # refused before execution: malformed, parse or validation errors
    UNAUTHENTICATED = "unauthenticated"
    INTERNAL = "internal"


class GatewayMetrics:
    """The gateway's counters, histograms and gauges, and the ``/metrics`` endpoint."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "loyalty_graphql_requests",
            "GraphQL requests by operation type and outcome.",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "loyalty_graphql_request_duration_seconds",
            "Time from a GraphQL request's arrival to its response, by operation type.",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.schema_builds = Counter(
            "loyalty_schema_builds",
            "Schemas composed for a module set (cache misses).",
            registry=self.registry,
        )
        self.schema_cache_size = Gauge(
            "loyalty_schema_cache_size", "Composed schemas in the cache.", registry=self.registry
        )
        self.module_load_failures = Gauge(
            "loyalty_module_load_failures",
            "Modules that failed to load at start-up (1 per module).",
            ["module"],
            registry=self.registry,
        )
        self.subscriptions = Gauge(
            "loyalty_graphql_subscriptions",
            "Subscriptions streaming right now.",
            registry=self.registry,
        )
        self.job_runs = Counter(
            "loyalty_job_runs",
            "Runs of periodic jobs per tenant, by job and outcome.",
            ["job", "outcome"],
            registry=self.registry,
        )
        self._labelled: dict[tuple[str, str], tuple[Counter, Histogram]] = {}

    def observe_request(self, operation: str, outcome: str, seconds: float) -> None:
        # ``labels()`` validates and looks its child up on every call: the few (operation,
        # outcome) pairs are kept, since every request counts here.
        children = self._labelled.get((operation, outcome))
        if children is None:
            children = (self.requests.labels(operation, outcome), self.latency.labels(operation))
            self._labelled[operation, outcome] = children
        children[0].inc()
        children[1].observe(seconds)

    async def endpoint(self, request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


__all__ = ["LATENCY_BUCKETS", "GatewayMetrics", "Outcome"]
