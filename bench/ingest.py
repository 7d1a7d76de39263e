"""Purchase ingestion requests (P1, P3, P5): one ``eventIngest``, or a batch of them.

Every request carries :data:`bench.loadgen.UNIQUE` in its external ids, which the load
generator replaces per request: the gateway must write each purchase, not answer a replay.
A purchase of 12.50 EUR earns 12 points at the seeded 1 point per EUR, so each ingest posts
one earn (a transaction, a lot, two entries, a balance update) and one outbox row.
"""

from __future__ import annotations

from typing import Any

import orjson

from bench.loadgen import SPREAD, UNIQUE, HttpRequest
from bench.seed import CARD_PREFIX, BenchTenant, card_number

PURCHASE_AMOUNT = 1250
POINTS_EARNED = 12
SOURCE = "bench-till"

INGEST_QUERY = (
    "mutation Ingest($input: EventIngestInput!) { eventIngest(input: $input) "
    "{ replayed event { id } transactions { id kind } errors { code field message } } }"
)
BATCH_QUERY = (
    "mutation IngestBatch($input: EventIngestBatchInput!) { eventIngestBatch(input: $input) "
    "{ results { replayed transactions { id } errors { code field message } } "
    "errors { code field message } } }"
)


def purchase(card: str, external_id: str) -> dict[str, Any]:
    """One purchase as a till sends it: the member by the card scanned."""
    return {
        "type": "purchase",
        "source": SOURCE,
        "externalId": external_id,
        "identifier": {"kind": "CARD_NUMBER", "value": card},
        "payload": {
            "amount": PURCHASE_AMOUNT,
            "currency": "EUR",
            "store": "bench-store",
            "orderReference": external_id,
        },
    }


def ingest_request(tenant: BenchTenant, members: int = 1) -> HttpRequest:
    """``eventIngest`` of one purchase, unique per request, by the first ``members`` members
    in turn (cards ``CARD_PREFIX`` + seven digits, as :func:`bench.seed.card_number`)."""
    variables = {"input": purchase(f"{CARD_PREFIX}{SPREAD}", UNIQUE)}
    body = orjson.dumps({"query": INGEST_QUERY, "variables": variables}).decode()
    return HttpRequest("/graphql", body, {"X-Api-Key": tenant.api_key}, spread=members)


def batch_request(tenant: BenchTenant, *, size: int, members: int) -> HttpRequest:
    """``eventIngestBatch`` of ``size`` purchases spread round-robin over ``members``."""
    events = [purchase(card_number(i % members), f"{UNIQUE}-{i}") for i in range(size)]
    body = orjson.dumps({"query": BATCH_QUERY, "variables": {"input": {"events": events}}})
    return HttpRequest(
        "/graphql", body.decode(), {"X-Api-Key": tenant.api_key}, units=size, timeout=120.0
    )


def ndjson_request(tenant: BenchTenant, *, size: int, members: int) -> HttpRequest:
    """The same purchases as :func:`batch_request`, as an NDJSON body for ``POST /events``."""
    events = [purchase(card_number(i % members), f"{UNIQUE}-{i}") for i in range(size)]
    body = b"\n".join(orjson.dumps(event) for event in events)
    headers = {"X-Api-Key": tenant.api_key, "Content-Type": "application/x-ndjson"}
    return HttpRequest("/events", body.decode(), headers, units=size, timeout=120.0)


def check_ingested(found: Any, *, events: int = 1, transactions: int = 1) -> None:
    """Raise unless every purchase of a response was written and posted ``transactions``
    ledger transactions (2 with P1's campaign: the base earn and the campaign's): a benchmark
    of refusals, replays or a campaign that never fires would measure the wrong thing."""
    if isinstance(found, list):  # the NDJSON endpoint's lines
        results = found
    elif "eventIngestBatch" in found["data"]:
        results = found["data"]["eventIngestBatch"]["results"]
    else:
        results = [found["data"]["eventIngest"]]
    good = [
        r
        for r in results
        if not r["errors"] and not r["replayed"] and len(r["transactions"]) == transactions
    ]
    if len(good) != events:
        raise RuntimeError(f"{events - len(good)} of {events} purchases were not ingested: {found}")


__all__ = [
    "POINTS_EARNED",
    "PURCHASE_AMOUNT",
    "batch_request",
    "check_ingested",
    "ingest_request",
    "ndjson_request",
    "purchase",
]
