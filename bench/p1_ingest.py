"""P1, purchase ingest: ``eventIngest`` over HTTP vs pgbench running the same SQL statements.

The gateway side sends one purchase per request (a till scanning a card), each with a new
external id. The baseline is ``pgbench -M prepared`` with the same number of clients running
:func:`pgbench_script`: the statements one ingest runs, in its one transaction, as the app role
under row-level security, written by hand from the code (``db.engine``, ``events.service``,
``ledger.service``, ``ledger.repository``, ``rules.engine``) in the order it runs them. The
API key, tenant and modules come from the gateway's caller cache once warm, so they cost no
statement. It is the ceiling of the write path on this
machine: the ratio is what the gateway's Python, GraphQL and round trips leave of it. Goal
(issue 4): >= 0.6, with a campaign active (:func:`bench.seed.activate_campaign`).

    .venv/bin/python -m bench.p1_ingest [--members 100 ...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from bench.harness import (
    Bench,
    Comparison,
    Goal,
    Sample,
    alternate,
    answer,
    libpq_environment,
    main,
    metered,
    reaped_children_cpu,
)
from bench.ingest import POINTS_EARNED, PURCHASE_AMOUNT, check_ingested, ingest_request
from bench.loadgen import LoadResult, percentile
from bench.processes import pinned
from bench.seed import CARD_PREFIX, BenchTenant, activate_campaign, seed_tenant

TITLE = "P1 purchase ingest: eventIngest over HTTP vs pgbench running the same statements"


def add_arguments(arguments: argparse.ArgumentParser) -> None:
    arguments.add_argument("--members", type=int, default=100, help="members of the tenant")


async def measure(bench: Bench) -> list[Comparison]:
    gateway, (tenant, note) = await asyncio.gather(bench.gateway(), _tenant_with_campaign(bench))
    members = int(bench.options.extra.get("members", 100))
    request = ingest_request(tenant, members)
    check_ingested(await answer(gateway, request), transactions=2)
    pgbench = await PgbenchSide.prepare(bench, tenant)
    await pgbench.check()
    await bench.analyze()
    baselines, gateways = await alternate(
        pgbench, bench.http("gateway eventIngest", gateway, request), bench.options
    )
    name = "P1 ingest: gateway / pgbench (same statements)"
    comparison = Comparison(name, "ingests", baselines, gateways, Goal(minimum=0.6), notes=[note])
    return [comparison]


async def _tenant_with_campaign(bench: Bench) -> tuple[BenchTenant, str]:
    members = int(bench.options.extra.get("members", 100))
    async with bench.connect() as database:  # each member earned once: their accounts exist
        tenant = await seed_tenant(database, members=members, purchases=1, active=members)
        return tenant, await activate_campaign(database, tenant)


def pgbench_script(*, uuidv7: bool, campaign: bool, members: int) -> str:
    """One purchase ingest as SQL. ``:tenant``, ``:key`` and ``:actor`` come from ``-D``; the
    member is one of the first ``members`` at random (the gateway side takes them in turn);
    the ids later statements need are stored with ``\\gset``. pgbench turns every ``:name``
    into a parameter, even inside a literal, so no literal holds a colon before a letter. Ids
    are UUIDv7 made by the server (the gateway makes them in Python) where PostgreSQL 18 has
    ``uuidv7()``."""
    new_id = "uuidv7()" if uuidv7 else "gen_random_uuid()"
    payload = (
        f'{{"amount": {PURCHASE_AMOUNT}, "currency": "EUR", "store": "bench-store", '
        '"orderReference": "pgbench"}'
    )
    base_claim = f"""INSERT INTO ledger_transactions (tenant_id, id, kind, idempotency_key,
        request_hash, reason, cause_kind, cause_id, event_id, actor, details)
    VALUES (:tenant, {new_id}, 'earn', 'event:' || CAST(:event_id AS text) || ':' || 'base',
        md5(random()::text), 'purchase pgbench', 'event', 'purchase:' || 'pgbench', :event_id,
        :actor, '{{}}')"""
    return f"""
-- the mutation's transaction (events.service.ingest, base earn); the API key, tenant and
-- modules come from the gateway's caller cache (warm after the check request)
\\set m random(0, {members - 1})
BEGIN;
SELECT set_config('loyalty.tenant_id', :tenant, true);
SELECT m.* FROM members AS m
  JOIN member_identifiers AS i ON i.tenant_id = m.tenant_id AND i.member_id = m.id
 WHERE i.tenant_id = :tenant AND i.kind = 'card_number'
   AND i.value = '{CARD_PREFIX}' || lpad(CAST(:m AS text), 7, '0') \\gset member_
INSERT INTO events (tenant_id, id, type, source, external_id, member_id, occurred_at, payload,
                    payload_hash, amount, currency, actor)
VALUES (:tenant, {new_id}, 'purchase', 'bench-pgbench', gen_random_uuid()::text, :member_id,
        now(), '{payload}', md5(random()::text), {PURCHASE_AMOUNT}, 'EUR', :actor)
ON CONFLICT (tenant_id, source, external_id) DO NOTHING RETURNING id AS event_id \\gset
SELECT id AS asset_id FROM assets WHERE tenant_id = :tenant AND code = 'points' \\gset
{earn_statement(base_claim, new_id)}
{campaign_statements(new_id) if campaign else ""}
INSERT INTO outbox (tenant_id, id, topic, payload)
VALUES (:tenant, {new_id}, 'event.ingested', '{{"type": "purchase"}}');
COMMIT;
"""


def earn_statement(claim: str, new_id: str) -> str:
    """An earn as the ledger runs it once the accounts exist (``ledger.repository``'s
    ``claim_and_credit``): ``claim`` (the transaction header's insert) claims the idempotency
    key, and when it did the member's account, the lot and both entries are written, in one
    statement. pgbench sends its parameters untyped, so they are cast where PostgreSQL cannot
    infer the type (the select lists of ``INSERT ... SELECT``); the gateway's driver sends
    them typed."""
    points = POINTS_EARNED
    tenant, asset = "CAST(:tenant AS uuid)", "CAST(:asset_id AS uuid)"
    return f"""WITH claim AS (
    {claim}
    ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
    RETURNING *
), accounts AS (
    SELECT
        (SELECT id FROM ledger_accounts
          WHERE tenant_id = :tenant AND member_id = :member_id
            AND asset_id = :asset_id AND purpose = 'available') AS account_id,
        (SELECT id FROM ledger_accounts
          WHERE tenant_id = :tenant AND member_id IS NULL AND owner_ref IS NULL
            AND asset_id = :asset_id AND purpose = 'issued') AS counter_id
), credited AS (
    UPDATE ledger_accounts SET balance = ledger_accounts.balance + {points}
      FROM accounts, claim
     WHERE ledger_accounts.tenant_id = :tenant AND ledger_accounts.id = accounts.account_id
       AND accounts.counter_id IS NOT NULL
    RETURNING ledger_accounts.id
), lot AS (
    INSERT INTO ledger_lots (tenant_id, id, account_id, member_id, asset_id, transaction_id,
                             earned, remaining, available_from, expires_at)
    SELECT {tenant}, {new_id}, credited.id, CAST(:member_id AS uuid), {asset}, claim.id,
           {points}, {points}, now(), now() + interval '365 days'
      FROM credited, claim
    RETURNING id, account_id, transaction_id
), entries AS (
    INSERT INTO ledger_entries (tenant_id, id, transaction_id, account_id, asset_id, amount, lot_id)
    SELECT {tenant}, {new_id}, lot.transaction_id, lot.account_id, {asset}, {points}, lot.id
      FROM lot
    UNION ALL
    SELECT {tenant}, {new_id}, lot.transaction_id, accounts.counter_id, {asset}, -{points}, NULL
      FROM lot, accounts
)
SELECT claim.*, (SELECT id FROM lot) AS lot_id FROM claim;"""


def campaign_statements(new_id: str) -> str:
    """What the rules step adds to an ingest with one active campaign (``rules.engine``): its
    versions (with the count of failures a success would reset, ``rules.health``), then the
    campaign's earn (as the base earn) and the award. The campaign has no
    condition and targets no segment, so the member's aggregates and segments are not read
    (``engine.needs_history``); the member row and the asset were read already. A campaign
    without budget, limits or module effects cannot be refused, so it takes no savepoint and
    counts no budget."""
    points = POINTS_EARNED
    award_claim = f"""INSERT INTO ledger_transactions (tenant_id, id, kind, idempotency_key,
        request_hash, reason, cause_kind, cause_id, event_id, rule_id, rule_version, actor,
        details)
    VALUES (:tenant, {new_id}, 'earn',
        'event:' || CAST(:event_id AS text) || ':' || 'rule:' || CAST(:campaign_id AS text)
        || ':' || 'v1:' || '0',
        md5(random()::text), 'Bench double points (v1)', 'rule', 'purchase:' || 'pgbench',
        :event_id, :campaign_id, 1, :actor, '{{}}')"""
    return f"""
SELECT v.campaign_id, v.version AS campaign_version, v.definition, c.name,
       coalesce(h.consecutive, 0) AS consecutive_failures
  FROM rule_campaign_versions AS v
  JOIN rule_campaigns AS c ON c.tenant_id = v.tenant_id AND c.id = v.campaign_id
                          AND c.current_version = v.version
  LEFT JOIN rule_campaign_health AS h ON h.tenant_id = c.tenant_id AND h.campaign_id = c.id
 WHERE v.tenant_id = :tenant AND v.trigger_type = 'purchase' AND c.status = 'active' \\gset
{earn_statement(award_claim, new_id)}
INSERT INTO rule_awards (tenant_id, id, campaign_id, version, member_id, event_id, points,
                         periods)
VALUES (:tenant, {new_id}, :campaign_id, 1, :member_id, :event_id, {points}, '[]');"""


@dataclass
class PgbenchSide:
    """pgbench as a side: one script run is one ingest; latencies from its per-transaction
    log. It has no server process of its own, so only PostgreSQL's CPU is reported."""

    label: str
    bench: Bench
    pgbench: Path
    script: str
    variables: dict[str, str]

    @classmethod
    async def prepare(cls, bench: Bench, tenant: BenchTenant) -> PgbenchSide:
        pgbench = bench.database.pgbench()
        if pgbench is None:
            raise RuntimeError("no pgbench: install PostgreSQL's client tools")
        async with bench.connect() as database, database.engine.connect() as conn:
            version = int((await conn.execute(text("SHOW server_version_num"))).scalar_one())
        tenant_part, key_part = tenant.api_key.split("_")[1:3]
        variables = {
            "tenant": str(tenant.tenant_id),
            "key": key_part,
            "actor": f"apikey:{key_part}",
        }
        assert tenant_part == tenant.tenant_id.hex
        label = "pgbench -M prepared (same SQL)"
        return cls(
            label,
            bench,
            pgbench,
            pgbench_script(
                uuidv7=version >= 180000,
                campaign=True,
                members=int(bench.options.extra.get("members", 100)),
            ),
            variables,
        )

    async def run(self, seconds: float) -> Sample:
        async def work() -> LoadResult:
            return await self._pgbench(seconds)

        # pgbench's own CPU goes where the gateway's does: the client's share of the machine.
        return await metered(self.label, reaped_children_cpu, self.bench.meter, work)

    async def check(self) -> None:
        """One run of the script must write what one ingest writes (the base earn's and the
        campaign's lots), or the baseline would be measured doing less than the gateway."""
        before = await self._lots()
        await self._pgbench(0)
        written = await self._lots() - before
        if written != 2:
            raise RuntimeError(f"one pgbench ingest wrote {written} lots instead of 2")

    async def _lots(self) -> int:
        tenant_id = uuid.UUID(self.variables["tenant"])
        async with self.bench.connect() as database, database.tenant_transaction(tenant_id) as conn:
            found = await conn.execute(
                text(
                    "SELECT count(*) FROM ledger_lots AS l JOIN ledger_transactions AS t"
                    " ON t.tenant_id = l.tenant_id AND t.id = l.transaction_id"
                    " WHERE l.tenant_id = :tenant AND t.cause_id = 'purchase:pgbench'"
                ),
                {"tenant": self.variables["tenant"]},
            )
            return int(found.scalar_one())

    async def _pgbench(self, seconds: float) -> LoadResult:
        """``seconds`` of the script on ``--connections`` clients; 0: one run on one."""
        options = self.bench.options
        duration = max(1, round(seconds))
        with tempfile.TemporaryDirectory(prefix="bench-pgbench-") as folder:
            script = Path(folder) / "ingest.sql"
            script.write_text(self.script)
            argv = [str(self.pgbench), "-n", "-M", "prepared", "-j", "1", "-f", str(script)]
            if seconds:
                argv += ["-c", str(options.connections), "-T", str(duration)]
            else:
                argv += ["-c", "1", "-t", "1"]
            argv += ["-l", "--log-prefix", str(Path(folder) / "tx")]
            for name, value in self.variables.items():
                argv += ["-D", f"{name}={value}"]
            env = {**os.environ, **libpq_environment(self.bench.database.app)}
            process = await asyncio.create_subprocess_exec(
                *pinned(argv, options.load_cpus),
                cwd=folder,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            stdout, stderr = await process.communicate()
            if process.returncode != 0:
                output = (stdout + stderr).decode()[-3000:]
                raise RuntimeError(f"pgbench failed ({process.returncode}):\n{output}")
            latencies = sorted(_latencies(Path(folder)))
        return LoadResult(
            units=len(latencies),
            seconds=float(duration),
            p50_ms=percentile(latencies, 0.50),
            p99_ms=percentile(latencies, 0.99),
            errors=0,
        )


def _latencies(folder: Path) -> list[float]:
    """Milliseconds per script run from pgbench's logs (third field: microseconds)."""
    found: list[float] = []
    for log in folder.glob("tx.*"):
        for line in log.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3 and fields[2].isdigit():
                found.append(int(fields[2]) / 1000)
    return found


__all__ = [
    "PgbenchSide",
    "campaign_statements",
    "earn_statement",
    "measure",
    "pgbench_script",
]

if __name__ == "__main__":
    sys.exit(main(TITLE, measure, add_arguments=add_arguments))
