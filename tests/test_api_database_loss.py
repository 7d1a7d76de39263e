"""The database going away is not an internal error.

PostgreSQL ending the gateway's sessions (a restart, a failover, an idle-session timeout, an
operator's ``pg_terminate_backend``) is answered without a failure where nothing had run yet
(a connection found dead at BEGIN is replaced), and with the retryable ``UNAVAILABLE`` where a
write was cut off, whose retry with the same idempotency key then writes exactly once."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import orjson
import pytest
from loyalty_core.db.engine import Database
from loyalty_core.ledger.tables import ledger_transactions
from loyalty_core.tenants.models import Tenant
from loyalty_gateway.jobs import run_jobs_once
from loyalty_testing import APP_ROLE, MakeApp, RunningGateway, admin_token, graphql
from sqlalchemy import func, select, text

from tests.api import POINTS_ADJUST, available, credit, enrol, pos_key

INGEST = """
mutation($input: EventIngestInput!) {
  eventIngest(input: $input) { event { id } replayed errors { code field } }
}
"""
BALANCE = "query($id: ID!) { member(id: $id) { balances { available } } }"
APP_BACKENDS = "SELECT pid FROM pg_stat_activity WHERE usename = :role AND pid <> pg_backend_pid()"


async def _app_backends(owner_db: Database, *, waiting_on_a_lock: bool = False) -> list[int]:
    query = APP_BACKENDS + (" AND wait_event_type = 'Lock'" if waiting_on_a_lock else "")
    async with owner_db.engine.connect() as owner:
        rows = await owner.execute(text(query), {"role": APP_ROLE})
        return [int(pid) for (pid,) in rows]


async def _terminate(owner_db: Database, pids: list[int]) -> None:
    """End these sessions, as a restart or failover would, and wait until they are gone."""
    async with owner_db.engine.connect() as owner:
        for pid in pids:
            await owner.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await owner.commit()
    deadline = time.monotonic() + 10
    while set(pids) & set(await _app_backends(owner_db)):
        assert time.monotonic() < deadline, "the sessions outlived their termination"
        await asyncio.sleep(0.02)


class Till:
    """A member, a till's key and the requests a till and an admin send, each checked to
    have succeeded."""

    def __init__(self, gateway: RunningGateway, tenant: Tenant, member_id: str, key: str) -> None:
        self.gateway, self.tenant, self.member_id, self.key = gateway, tenant, member_id, key
        self._numbers = itertools.count()

    async def read(self) -> None:
        body = await graphql(self.gateway.client, BALANCE, {"id": self.member_id}, api_key=self.key)
        assert "errors" not in body, body
        assert body["data"]["member"]["balances"], body

    async def adjust(self) -> None:
        variables = _adjustment(self.member_id, f"adjust-{uuid.uuid4()}", 1)
        body = await graphql(
            self.gateway.client, POINTS_ADJUST, variables, token=admin_token(self.tenant.id)
        )
        assert "errors" not in body, body
        assert body["data"]["pointsAdjust"]["errors"] == [], body

    async def ingest(self) -> None:
        variables = {"input": _purchase(f"receipt-{uuid.uuid4()}", self.member_id)}
        body = await graphql(self.gateway.client, INGEST, variables, api_key=self.key)
        assert "errors" not in body, body
        assert body["data"]["eventIngest"]["errors"] == [], body

    async def post_events(self) -> None:
        lines = [orjson.dumps(_purchase(f"file-{uuid.uuid4()}", self.member_id)) for _ in range(3)]
        response = await self.gateway.client.post(
            "/events",
            content=b"\n".join(lines),
            headers={"Content-Type": "application/x-ndjson", "X-Api-Key": self.key},
        )
        assert response.status_code == 200, response.text
        answers = [orjson.loads(line) for line in response.content.splitlines()]
        assert [answer.get("errors", []) for answer in answers] == [[], [], []], answers

    def requests(self) -> dict[str, Callable[[], Awaitable[None]]]:
        return {
            "read": self.read,
            "adjust": self.adjust,
            "ingest": self.ingest,
            "events": self.post_events,
        }


def _purchase(external_id: str, member_id: str) -> dict[str, Any]:
    return {
        "type": "purchase",
        "source": "till-1",
        "externalId": external_id,
        "memberId": member_id,
        "payload": {"amount": 1000, "currency": "EUR"},
    }


def _adjustment(member_id: str, key: str, amount: int) -> dict[str, Any]:
    return {
        "input": {
            "memberId": member_id,
            "amount": amount,
            "reason": "goodwill",
            "idempotencyKey": key,
        }
    }


async def _till(make_app: MakeApp, tenant: Tenant) -> Till:
    gateway = await make_app()
    member_id = await enrol(gateway.client, tenant.id, "ada@example.com")
    await credit(gateway.client, tenant.id, member_id, 100)
    return Till(gateway, tenant, member_id, await pos_key(gateway.client, tenant.id))


async def test_no_request_fails_after_the_database_ended_every_session_of_the_gateway(
    make_app: MakeApp, tenant: Tenant, owner_db: Database
) -> None:
    """Whatever the gateway is asked next, one request after another and then many at once,
    once PostgreSQL has ended every session it held (the held connections, the LISTEN one):
    none fails, and the notifier listens again. Each kind of request comes first once."""
    till = await _till(make_app, tenant)
    requests = till.requests()
    kinds = sorted(requests)
    for turn, kind in enumerate(kinds):
        await asyncio.gather(*(till.read() for _ in range(8)))  # several connections held
        assert (await till.gateway.client.get("/readyz")).status_code == 200
        backends = await _app_backends(owner_db)
        assert len(backends) > 2

        await _terminate(owner_db, backends)

        assert (await till.gateway.client.get("/readyz")).status_code == 200
        pick = random.Random(turn)
        for then in [kind, *pick.sample(kinds, len(kinds))]:
            await requests[then]()
        await asyncio.gather(*(requests[then]() for then in pick.choices(kinds, k=12)))
        deadline = time.monotonic() + 10
        while not till.gateway.state.notifier.listening:
            assert time.monotonic() < deadline, "the notifier did not reconnect"
            await asyncio.sleep(0.05)


async def test_the_jobs_run_after_the_database_ended_every_session(
    make_app: MakeApp, tenant: Tenant, owner_db: Database
) -> None:
    till = await _till(make_app, tenant)
    state = till.gateway.state
    await run_jobs_once(state.database, state.registry, metrics=state.metrics, tenants=[tenant])

    await _terminate(owner_db, await _app_backends(owner_db))

    await run_jobs_once(state.database, state.registry, metrics=state.metrics, tenants=[tenant])
    metrics = (await till.gateway.client.get("/metrics")).text
    assert 'outcome="failed"' not in metrics


async def _ledger_transactions(db: Database, tenant: Tenant) -> int:
    async with db.tenant_transaction(tenant.id) as conn:
        count = await conn.scalar(
            select(func.count()).where(ledger_transactions.c.tenant_id == tenant.id)
        )
    return int(count or 0)


async def _adjust_once(till: Till, key: str) -> dict[str, Any]:
    variables = _adjustment(till.member_id, key, 7)
    return await graphql(
        till.gateway.client, POINTS_ADJUST, variables, token=admin_token(till.tenant.id)
    )


async def _ingest_once(till: Till, key: str) -> dict[str, Any]:
    variables = {"input": _purchase(key, till.member_id)}
    return await graphql(till.gateway.client, INGEST, variables, api_key=till.key)


@pytest.mark.parametrize(
    ("send", "field", "points"),
    [(_adjust_once, "pointsAdjust", 7), (_ingest_once, "eventIngest", 10)],
    ids=["pointsAdjust", "eventIngest"],
)
async def test_a_write_cut_off_midway_is_unavailable_and_its_retry_writes_once(
    make_app: MakeApp,
    tenant: Tenant,
    db: Database,
    owner_db: Database,
    send: Callable[[Till, str], Coroutine[Any, Any, dict[str, Any]]],
    field: str,
    points: int,
) -> None:
    """The write waits for the member's account, which another transaction holds; its session
    is ended while it waits. The answer is UNAVAILABLE (never INTERNAL), nothing was written,
    and the same request again writes once, then replays."""
    till = await _till(make_app, tenant)
    before = await _ledger_transactions(db, tenant)
    async with db.tenant_transaction(tenant.id) as holder:
        await holder.execute(
            text("SELECT 1 FROM ledger_accounts WHERE member_id = :m FOR UPDATE"),
            {"m": uuid.UUID(till.member_id)},
        )
        cut_off = asyncio.create_task(send(till, "receipt-77"))
        deadline = time.monotonic() + 10
        while not (waiting := await _app_backends(owner_db, waiting_on_a_lock=True)):
            assert time.monotonic() < deadline, "the write never waited for the account"
            await asyncio.sleep(0.02)
        await _terminate(owner_db, waiting)
        answer = await cut_off

    assert [e["extensions"]["code"] for e in answer["errors"]] == ["UNAVAILABLE"], answer
    assert await _ledger_transactions(db, tenant) == before
    retried = await send(till, "receipt-77")
    assert "errors" not in retried, retried
    assert retried["data"][field]["errors"] == []
    assert retried["data"][field]["replayed"] is False
    replayed = await send(till, "receipt-77")
    assert replayed["data"][field]["replayed"] is True
    assert await _ledger_transactions(db, tenant) == before + 1
    assert await available(till.gateway.client, tenant.id, till.member_id) == 100 + points
