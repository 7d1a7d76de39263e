"""P3, bulk ingest: ``eventIngestBatch`` of 1000 purchases, and the same purchases as an
NDJSON body to ``POST /events``, vs COPY of the rows they produce.

The gateway sides post batches of ``--batch`` purchases (default 1000, the API's maximum),
spread over the tenant's members, each with a new external id. The baseline writes, per
batch and in one transaction, exactly the rows such a batch leaves behind, with COPY:

- ``events``: one row per purchase;
- ``ledger_transactions``: one earn per purchase (idempotency key ``event:<id>:base``);
- ``ledger_lots``: one lot per earn;
- ``ledger_entries``: two per earn (the member's available account, the tenant's ``issued``);
- ``outbox``: one ``event.ingested`` row per purchase;

plus one set-based ``UPDATE`` of the members' balances (COPY cannot update, and without it
the ledger would break its balance invariant), after locking those accounts in id order as
the gateway does (two batches updating the same accounts in a join's order can deadlock).
The deferred balance trigger runs on both sides. Not copied: the gateway commits a chunk of
each lane (up to 250 events) at a time, so that one chunk's failure costs only its events a
second try and concurrent batches never hold each other's locks for long. COPY runs as the
database owner, because PostgreSQL refuses COPY FROM into tables under row-level security
for roles subject to it: the baseline therefore needs a superuser owner (the embedded
server's is). Events per second; goal (issue 4): >= 0.5.

    .venv/bin/python -m bench.p3_bulk [--batch 1000 --clients 2 --members 100 ...]

Three rounds of 30 seconds by default (:data:`SECONDS`), not the shared five of 10.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
from loyalty_core.ids import new_id

from bench.harness import (
    Bench,
    Comparison,
    Goal,
    HttpSide,
    Sample,
    alternate_many,
    answer,
    asyncpg_dsn,
    main,
    metered,
    run_id,
)
from bench.ingest import (
    POINTS_EARNED,
    PURCHASE_AMOUNT,
    SOURCE,
    batch_request,
    check_ingested,
    ndjson_request,
)
from bench.loadgen import LoadResult, percentile
from bench.processes import cpu_set
from bench.seed import BenchTenant, seed_tenant

TITLE = "P3 bulk ingest: eventIngestBatch and POST /events (NDJSON) vs COPY of the same rows"


ROUNDS, SECONDS = 3, 30.0
"""P3's own defaults. The batches still in flight when a round ends are not counted, about one
batch's events per round on each side. In 10-second rounds that is 3% of the gateway's events
(a batch takes half a second) against 1% of COPY's (a quarter of a second); in 30-second
rounds, 1% against 0.4%."""


def add_arguments(arguments: argparse.ArgumentParser) -> None:
    arguments.set_defaults(rounds=ROUNDS, seconds=SECONDS)
    arguments.add_argument("--batch", type=int, default=1000, help="purchases per request")
    arguments.add_argument("--clients", type=int, default=2, help="concurrent batches")
    arguments.add_argument("--members", type=int, default=100, help="members of the tenant")


async def measure(bench: Bench) -> list[Comparison]:
    extra = bench.options.extra
    size, members = int(extra.get("batch", 1000)), int(extra.get("members", 100))
    options = replace(bench.options, connections=int(extra.get("clients", 2)))
    async with bench.connect() as database:
        tenant = await seed_tenant(database, members=members, purchases=1, active=members)
    gateway = await bench.gateway()
    requests = {
        "eventIngestBatch": batch_request(tenant, size=size, members=members),
        "POST /events (NDJSON)": ndjson_request(tenant, size=size, members=members),
    }
    for request in requests.values():
        check_ingested(await answer(gateway, request), events=size)
    copy = await CopySide.prepare(bench, tenant, size=size, clients=options.connections)
    await bench.analyze()
    sides = [
        HttpSide(f"gateway {name}", gateway, request, bench.meter, options, bench.tool)
        for name, request in requests.items()
    ]
    copies, measured = await alternate_many(copy, sides, options)
    note = f"{options.connections} concurrent batches on each side (--clients), not --connections"
    return [
        Comparison(
            f"P3 bulk: gateway {name}, {size} events per request / COPY (events/s)",
            "events",
            copies,
            samples,
            Goal(minimum=0.5),
            notes=[note],
        )
        for name, samples in zip(requests, measured, strict=True)
    ]


@dataclass
class CopySide:
    """COPY of the rows ``size`` purchases produce, ``clients`` batches at a time, from this
    process pinned to the load generator's cores while it runs."""

    label: str
    bench: Bench
    tenant: BenchTenant
    accounts: list[tuple[uuid.UUID, uuid.UUID]]
    asset_id: uuid.UUID
    issued_id: uuid.UUID
    size: int
    clients: int

    @classmethod
    async def prepare(
        cls, bench: Bench, tenant: BenchTenant, *, size: int, clients: int
    ) -> CopySide:
        connection = await asyncpg.connect(asyncpg_dsn(bench.database.owner))
        try:
            async with connection.transaction():
                await connection.execute(SET_TENANT, str(tenant.tenant_id))
                rows = await connection.fetch(ACCOUNTS, tenant.tenant_id)
        finally:
            await connection.close()
        accounts = [(r["id"], r["member_id"]) for r in rows if r["purpose"] == "available"]
        issued = next(r for r in rows if r["purpose"] == "issued")
        label = f"COPY {size} events + ledger rows"
        return cls(label, bench, tenant, accounts, issued["asset_id"], issued["id"], size, clients)

    async def run(self, seconds: float) -> Sample:
        async def work() -> LoadResult:
            return await self._copy_for(seconds)

        return await metered(self.label, None, self.bench.meter, work)

    async def _copy_for(self, seconds: float) -> LoadResult:
        dsn = asyncpg_dsn(self.bench.database.owner)
        connections = [await asyncpg.connect(dsn) for _ in range(self.clients)]
        latencies: list[float] = []
        affinity = _pin_self(self.bench.options.load_cpus)
        started = time.perf_counter()
        deadline = started + seconds
        try:

            async def client(connection: Any) -> None:
                while time.perf_counter() < deadline:
                    begun = time.perf_counter()
                    await self._copy_batch(connection)
                    latencies.append(1000 * (time.perf_counter() - begun))

            await asyncio.gather(*(client(c) for c in connections))
        finally:
            elapsed = time.perf_counter() - started
            _restore(affinity)
            for connection in connections:
                await connection.close()
        latencies.sort()
        return LoadResult(
            units=len(latencies) * self.size,
            seconds=elapsed,
            p50_ms=percentile(latencies, 0.50),
            p99_ms=percentile(latencies, 0.99),
            errors=0,
        )

    async def _copy_batch(self, connection: Any) -> None:
        rows = self._rows(datetime.now(UTC), run_id())
        async with connection.transaction():
            await connection.execute(SET_TENANT, str(self.tenant.tenant_id))
            for table, (columns, records) in rows.items():
                await connection.copy_records_to_table(table, records=records, columns=columns)
            totals: dict[uuid.UUID, int] = {}
            for index in range(self.size):
                account = self.accounts[index % len(self.accounts)][0]
                totals[account] = totals.get(account, 0) + POINTS_EARNED
            # The accounts locked in id order first, as the gateway's chunks lock them: two
            # batches crediting the same accounts in the order a join happens to take deadlock.
            ordered = sorted(totals)
            await connection.execute(LOCK_ACCOUNTS, self.tenant.tenant_id, ordered)
            await connection.execute(
                BALANCES, ordered, [totals[a] for a in ordered], self.tenant.tenant_id
            )

    def _rows(
        self, now: datetime, batch: str
    ) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
        """The rows of one batch, table by table, in foreign-key order."""
        tenant = self.tenant.tenant_id
        expires = now + timedelta(days=365)
        events: list[tuple[Any, ...]] = []
        transactions: list[tuple[Any, ...]] = []
        lots: list[tuple[Any, ...]] = []
        entries: list[tuple[Any, ...]] = []
        outbox: list[tuple[Any, ...]] = []
        for index in range(self.size):
            account, member = self.accounts[index % len(self.accounts)]
            event, transaction, lot = new_id(), new_id(), new_id()
            external = f"copy-{batch}-{index}"
            payload = orjson.dumps(
                {"amount": PURCHASE_AMOUNT, "currency": "EUR", "orderReference": external}
            ).decode()
            events.append(
                (
                    tenant,
                    event,
                    "purchase",
                    SOURCE,
                    external,
                    member,
                    now,
                    payload,
                    external,
                    PURCHASE_AMOUNT,
                    "EUR",
                    "bench:copy",
                )
            )
            transactions.append(
                (
                    tenant,
                    transaction,
                    "earn",
                    f"event:{event}:base",
                    external,
                    f"purchase {external}",
                    "event",
                    f"purchase:{external}",
                    event,
                    "bench:copy",
                    "{}",
                )
            )
            lots.append(
                (
                    tenant,
                    lot,
                    account,
                    member,
                    self.asset_id,
                    transaction,
                    POINTS_EARNED,
                    POINTS_EARNED,
                    now,
                    expires,
                )
            )
            entries.append(
                (tenant, new_id(), transaction, account, self.asset_id, POINTS_EARNED, lot)
            )
            entries.append(
                (tenant, new_id(), transaction, self.issued_id, self.asset_id, -POINTS_EARNED, None)
            )
            outbox.append((tenant, new_id(), "event.ingested", '{"type": "purchase"}'))
        return {
            "events": (EVENT_COLUMNS, events),
            "ledger_transactions": (TRANSACTION_COLUMNS, transactions),
            "ledger_lots": (LOT_COLUMNS, lots),
            "ledger_entries": (ENTRY_COLUMNS, entries),
            "outbox": (OUTBOX_COLUMNS, outbox),
        }


SET_TENANT = "SELECT set_config('loyalty.tenant_id', $1, true)"
ACCOUNTS = (
    "SELECT id, member_id, asset_id, purpose FROM ledger_accounts "
    "WHERE tenant_id = $1 AND purpose IN ('available', 'issued') AND owner_ref IS NULL"
)
LOCK_ACCOUNTS = """
SELECT id FROM ledger_accounts WHERE tenant_id = $1 AND id = ANY($2::uuid[])
ORDER BY id FOR NO KEY UPDATE
"""
BALANCES = """
UPDATE ledger_accounts AS a SET balance = a.balance + d.delta
FROM unnest($1::uuid[], $2::bigint[]) AS d(id, delta)
WHERE a.tenant_id = $3 AND a.id = d.id
"""
EVENT_COLUMNS = [
    "tenant_id",
    "id",
    "type",
    "source",
    "external_id",
    "member_id",
    "occurred_at",
    "payload",
    "payload_hash",
    "amount",
    "currency",
    "actor",
]
TRANSACTION_COLUMNS = [
    "tenant_id",
    "id",
    "kind",
    "idempotency_key",
    "request_hash",
    "reason",
    "cause_kind",
    "cause_id",
    "event_id",
    "actor",
    "details",
]
LOT_COLUMNS = [
    "tenant_id",
    "id",
    "account_id",
    "member_id",
    "asset_id",
    "transaction_id",
    "earned",
    "remaining",
    "available_from",
    "expires_at",
]
ENTRY_COLUMNS = ["tenant_id", "id", "transaction_id", "account_id", "asset_id", "amount", "lot_id"]
OUTBOX_COLUMNS = ["tenant_id", "id", "topic", "payload"]


def _pin_self(cpus: str | None) -> set[int] | None:
    """Move this process to the load generator's cores; the affinity to restore after."""
    if not cpus or not hasattr(os, "sched_setaffinity") or (os.cpu_count() or 1) < 2:
        return None
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpu_set(cpus))
    return before


def _restore(affinity: set[int] | None) -> None:
    if affinity is not None:
        os.sched_setaffinity(0, affinity)


__all__ = ["CopySide", "measure"]

if __name__ == "__main__":
    sys.exit(main(TITLE, measure, add_arguments=add_arguments))
