"""The request metrics the gateway keeps in plain numbers are exposed exactly as the counter
and histogram of prometheus-client would expose the same requests."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from loyalty_gateway.metrics import LATENCY_BUCKETS, RequestStats
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

OPERATIONS = st.sampled_from(["query", "mutation", "subscription", "events.ndjson"])
OUTCOMES = st.sampled_from(["ok", "errors", "invalid"])
# The bounds themselves, either side of them and beyond the last: each lands in its bucket.
SECONDS = st.one_of(
    st.sampled_from(LATENCY_BUCKETS),
    st.floats(min_value=0.0, max_value=20.0, allow_nan=False),
)
REQUESTS = st.lists(st.tuples(OPERATIONS, OUTCOMES, st.none() | SECONDS), max_size=40)


def _samples(registry: CollectorRegistry) -> list[str]:
    """The exposition's sample lines, without the ``_created`` ones only prometheus-client's
    own metrics have (a start time, not a count)."""
    lines = generate_latest(registry).decode().splitlines()
    return sorted(line for line in lines if line and "_created" not in line)


@given(REQUESTS)
def test_request_stats_expose_what_prometheus_client_would(
    requests: list[tuple[str, str, float | None]],
) -> None:
    ours = CollectorRegistry()
    stats = RequestStats()
    ours.register(stats)
    theirs = CollectorRegistry()
    counter = Counter(
        "loyalty_graphql_requests", "GraphQL requests by operation type and outcome.",
        ["operation", "outcome"], registry=theirs,
    )  # fmt: skip
    histogram = Histogram(
        "loyalty_graphql_request_duration_seconds",
        "Time from a GraphQL request's arrival to its response, by operation type.",
        ["operation"], buckets=LATENCY_BUCKETS, registry=theirs,
    )  # fmt: skip

    for operation, outcome, seconds in requests:
        counter.labels(operation, outcome).inc()
        if seconds is None:  # as WebSocket operations are counted: not timed
            stats.count(operation, outcome)
        else:
            histogram.labels(operation).observe(seconds)
            stats.observe(operation, outcome, seconds)

    assert _samples(ours) == _samples(theirs)
