"""Benchmark data: tenants, members and purchases through the real services, and (for P5) a
long ledger history written set-based.

Small data goes through the same services the API calls (tenant creation, enrolment, event
ingestion, API keys), so what the benchmarks read is what production would hold. Ten million
ledger rows cannot go through them in reasonable time, so :func:`seed_history` writes them
with ``INSERT ... SELECT generate_series`` in chunks, keeping the ledger's invariants by
construction (and checking them after): every transaction is an earn of one lot, balanced by
a credit on the member's available account and a debit on the tenant's ``issued`` account;
every member balance grows by exactly what its lots hold.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from loyalty_core.apikeys.service import create_api_key
from loyalty_core.auth import Scope
from loyalty_core.db.engine import Database
from loyalty_core.events.models import EventInput
from loyalty_core.events.service import Ingestion, ingest
from loyalty_core.ledger import repository as ledger_repo
from loyalty_core.ledger.models import Purpose
from loyalty_core.members.service import create_member
from loyalty_core.modules.dispatch import DomainEvents
from loyalty_core.modules.manager import build_registry
from loyalty_core.tenants.service import DEFAULT_ASSET_CODE, create_tenant
from sqlalchemy import text

SEED_ACTOR = "bench:seed"
TILL_SCOPES = (Scope.EVENTS_WRITE, Scope.MEMBERS_READ)
CARD_PREFIX = "BENCH-"
HISTORY_CHUNK = 250_000
"""Transactions per history statement: big enough to be set-based, small enough that one
statement's memory (and a failure's loss) stays modest."""


@dataclass(frozen=True)
class BenchTenant:
    """A seeded tenant: the till's API key, its members and their card numbers."""

    tenant_id: uuid.UUID
    api_key: str
    member_ids: tuple[uuid.UUID, ...]

    def card(self, index: int) -> str:
        return card_number(index)


def card_number(index: int) -> str:
    return f"{CARD_PREFIX}{index:07d}"


async def seed_tenant(
    database: Database, *, members: int, purchases: int, active: int = 8
) -> BenchTenant:
    """A tenant (1 point per EUR, points expiring after a year) with ``members`` members, the
    first ``active`` of them with ``purchases`` ingested purchases each, and a till's key."""
    now = datetime.now(UTC)
    async with database.platform_transaction() as conn:
        tenant = await create_tenant(
            conn,
            slug=f"bench-{secrets.token_hex(6)}",
            name="Benchmark retailer",
            earn_rates={"EUR": "1"},
            points_expiry_days=365,
        )
        member_ids = []
        for index in range(members):
            created = await create_member(
                conn,
                tenant.id,
                identifiers=[("card_number", card_number(index))],
                profile={"firstName": f"Member{index}", "lastName": "Bench"},
                channel="pos",
                actor=SEED_ACTOR,
            )
            member_ids.append(created.id)
        ingestion = Ingestion(
            tenant=tenant,
            actor=SEED_ACTOR,
            now=now,
            domain_events=DomainEvents(build_registry(), {}, database),
        )
        for index, member_id in enumerate(member_ids[:active]):
            for number in range(purchases):
                await ingest(conn, ingestion, _purchase(index, number, member_id, now))
        issued = await create_api_key(
            conn, tenant.id, name="Bench till", scopes=list(TILL_SCOPES), actor=SEED_ACTOR
        )
    return BenchTenant(tenant.id, issued.secret, tuple(member_ids))


async def activate_campaign(database: Database, tenant: BenchTenant) -> str:
    """Make a campaign active for ``tenant`` (``database``: the owner's); a note for the report.

    Issue 4 measures ingestion *with a campaign active*, because that is the path every real
    purchase takes once a programme runs promotions, and a dashboard that lists the active
    campaigns: double points on every purchase (a ``multiplier`` of 2, no condition, no
    budget), created and activated through the rules service as ``campaignCreate`` and
    ``campaignActivate`` do (those need an admin token, which production only accepts from an
    identity provider).
    """
    from loyalty_core.rules import service as campaigns

    async with database.tenant_transaction(tenant.tenant_id) as conn:
        campaign = await campaigns.create(
            conn,
            tenant.tenant_id,
            name="Bench double points",
            data=CAMPAIGN_DEFINITION,
            effects={},
            module_types={},
            actor=SEED_ACTOR,
        )
        await campaigns.set_status(conn, tenant.tenant_id, campaign.id, "active", SEED_ACTOR)
    return f"campaign active: {campaign.name!r} (multiplier 2 on every purchase)"


CAMPAIGN_DEFINITION = {
    "trigger": "purchase",
    "condition": "",
    "effects": [{"kind": "multiplier", "params": {"factor": "2"}}],
    "window": {
        "startsAt": None,
        "endsAt": None,
        "daysOfWeek": None,
        "hoursFrom": 0,
        "hoursTo": 24,
    },
    "priority": 0,
    "stacking": "stack",
    "budget": None,
    "limits": [],
    "pendingDays": None,
    "segments": [],
    "inactiveDays": None,
    "onDate": None,
}
"""What ``campaignCreate`` would store for the campaign (see ``rules.graphql.definition_data``)."""


def _purchase(index: int, number: int, member_id: uuid.UUID, now: datetime) -> EventInput:
    return EventInput(
        type="purchase",
        source="bench-seed",
        external_id=f"seed-{index}-{number}",
        payload={
            "amount": 1000 + 37 * number,
            "currency": "EUR",
            "store": "bench-store",
            "orderReference": f"S-{index}-{number}",
        },
        member_id=member_id,
        occurred_at=now - timedelta(minutes=number + 1),
    )


async def seed_history(owner: Database, tenant: BenchTenant, *, rows: int) -> int:
    """Add ``rows`` ledger entries (``rows // 2`` earn transactions, each with one lot) spread
    over the tenant's members, dated one second apart and ending an hour ago, so the purchases
    seeded through the services stay the newest. Returns the transactions written.

    Runs as the owner in tenant-scoped transactions. When the owner is a superuser the
    per-row deferred balance trigger is skipped (``session_replication_role = replica``),
    since these rows balance by construction: :func:`check_history` proves it afterwards.
    """
    transactions = rows // 2
    if transactions <= 0:
        return 0
    accounts, asset_id, issued = await _history_accounts(owner, tenant)
    async with owner.engine.connect() as conn:
        version = int((await conn.execute(text("SHOW server_version_num"))).scalar_one())
        superuser = bool(
            (
                await conn.execute(
                    text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                )
            ).scalar_one()
        )
    statement = text(_history_sql(uuidv7=version >= 180000))
    run = secrets.token_hex(4)
    for start in range(0, transactions, HISTORY_CHUNK):
        async with owner.tenant_transaction(tenant.tenant_id) as conn:
            if superuser:
                await conn.execute(text("SET LOCAL session_replication_role = replica"))
            await conn.execute(
                statement,
                {
                    "tenant": tenant.tenant_id,
                    "asset": asset_id,
                    "issued": issued,
                    "accounts": [a for a, _ in accounts],
                    "members": [m for _, m in accounts],
                    "start": start,
                    "stop": min(transactions, start + HISTORY_CHUNK),
                    "total": transactions,
                    "run": run,
                },
            )
    async with owner.engine.connect() as conn:
        await conn.execute(text("ANALYZE ledger_entries, ledger_transactions, ledger_lots"))
        await conn.commit()
    return transactions


async def check_history(owner: Database, tenant: BenchTenant) -> None:
    """Raise unless every transaction of the tenant balances and every member balance equals
    both its entries and the remaining of its lots (the ledger's invariants)."""
    async with owner.tenant_transaction(tenant.tenant_id) as conn:
        unbalanced = (await conn.execute(text(UNBALANCED_SQL), {"t": tenant.tenant_id})).scalar()
        drifted = (await conn.execute(text(DRIFTED_SQL), {"t": tenant.tenant_id})).scalar()
    if unbalanced or drifted:
        raise RuntimeError(f"history breaks the ledger: {unbalanced=} {drifted=}")


async def _history_accounts(
    owner: Database, tenant: BenchTenant
) -> tuple[list[tuple[uuid.UUID, uuid.UUID]], uuid.UUID, uuid.UUID]:
    """(available account, member) per member, the points asset, the ``issued`` account:
    created through the ledger repository, as the first earn would."""
    async with owner.tenant_transaction(tenant.tenant_id) as conn:
        asset = await ledger_repo.get_asset(conn, tenant.tenant_id, DEFAULT_ASSET_CODE)
        assert asset is not None
        accounts = [
            (
                await ledger_repo.member_account(
                    conn, tenant.tenant_id, member, asset, Purpose.AVAILABLE
                ),
                member,
            )
            for member in tenant.member_ids
        ]
        issued = await ledger_repo.tenant_account(conn, tenant.tenant_id, asset, Purpose.ISSUED)
    return accounts, asset.id, issued


def _history_sql(*, uuidv7: bool) -> str:
    """One chunk of history. With PostgreSQL 18's ``uuidv7(shift)`` ids sort by their (past)
    time as the gateway's own UUIDv7 ids do; older servers get random ids, which is still a
    valid ledger but puts history in no particular order."""
    new_id = "uuidv7(-age)" if uuidv7 else "gen_random_uuid()"
    return f"""
WITH gen AS MATERIALIZED (
    SELECT n,
           (CAST(:total AS bigint) - n + 3600) * interval '1 second' AS age,
           1 + n % 50 AS amount,
           (CAST(:accounts AS uuid[]))[1 + n % cardinality(CAST(:accounts AS uuid[]))] AS account,
           (CAST(:members AS uuid[]))[1 + n % cardinality(CAST(:members AS uuid[]))] AS member
    FROM generate_series(CAST(:start AS bigint), CAST(:stop AS bigint) - 1) AS n
), ids AS MATERIALIZED (
    SELECT gen.*, {new_id} AS tx, {new_id} AS lot, {new_id} AS credit, {new_id} AS debit
    FROM gen
), tx AS (
    INSERT INTO ledger_transactions (tenant_id, id, kind, idempotency_key, request_hash,
                                     reason, cause_kind, cause_id, actor, created_at)
    SELECT :tenant, tx, 'earn', 'history:' || :run || ':' || n, md5(n::text),
           'seeded history', 'job', 'bench-history', '{SEED_ACTOR}', now() - age
    FROM ids
), lots AS (
    INSERT INTO ledger_lots (tenant_id, id, account_id, member_id, asset_id, transaction_id,
                             earned, remaining, available_from, expires_at, created_at)
    SELECT :tenant, lot, account, member, :asset, tx, amount, amount, now() - age, NULL,
           now() - age
    FROM ids
), entries AS (
    INSERT INTO ledger_entries (tenant_id, id, transaction_id, account_id, asset_id, amount,
                                lot_id, created_at)
    SELECT :tenant, credit, tx, account, :asset, amount, lot, now() - age FROM ids
    UNION ALL
    SELECT :tenant, debit, tx, :issued, :asset, -amount, NULL, now() - age FROM ids
), balances AS (
    UPDATE ledger_accounts AS a SET balance = a.balance + t.total
    FROM (SELECT account, sum(amount) AS total FROM ids GROUP BY account) AS t
    WHERE a.tenant_id = :tenant AND a.id = t.account
)
SELECT count(*) FROM ids
"""


UNBALANCED_SQL = """
SELECT count(*) FROM (
    SELECT transaction_id FROM ledger_entries WHERE tenant_id = :t
    GROUP BY transaction_id, asset_id HAVING sum(amount) <> 0
) AS bad
"""

DRIFTED_SQL = """
SELECT count(*) FROM ledger_accounts AS a
WHERE a.tenant_id = :t AND a.member_id IS NOT NULL AND (
    a.balance <> (SELECT coalesce(sum(e.amount), 0) FROM ledger_entries AS e
                  WHERE e.tenant_id = a.tenant_id AND e.account_id = a.id)
    OR a.balance <> (SELECT coalesce(sum(l.remaining), 0) FROM ledger_lots AS l
                     WHERE l.tenant_id = a.tenant_id AND l.account_id = a.id)
)
"""


__all__ = [
    "CAMPAIGN_DEFINITION",
    "BenchTenant",
    "activate_campaign",
    "card_number",
    "check_history",
    "seed_history",
    "seed_tenant",
]
