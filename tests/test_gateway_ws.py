"""Subscriptions over ``graphql-transport-ws``: the handshake, its close codes, streaming."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws
from loyalty_core.apikeys.service import create_api_key
from loyalty_core.db.engine import Database
from loyalty_core.ledger import repository as ledger_repo
from loyalty_core.ledger import service as ledger
from loyalty_core.ledger.models import Cause
from loyalty_core.modules.manager import build_registry
from loyalty_core.tenants.models import Tenant
from loyalty_core.tenants.service import DEFAULT_ASSET_CODE
from loyalty_gateway import ws
from loyalty_gateway.subscriptions import LISTENER_APPLICATION_NAME, BalanceNotifier
from loyalty_testing import (
    MakeApp,
    RunningGateway,
    admin_token,
    enable_for,
    insert_member,
    member_token,
)
from sqlalchemy import text

from tests.modules import greetings

PROTOCOL = ["graphql-transport-ws"]
TIMEOUT = 5.0


@pytest_asyncio.fixture(loop_scope="session")
async def gateway(make_app: MakeApp) -> RunningGateway:
    return await make_app(build_registry(plugins=[greetings], load_entry_points=False))


@pytest_asyncio.fixture(loop_scope="session")
async def greeted(gateway: RunningGateway, db: Database, tenant: Tenant) -> Tenant:
    await enable_for(db, gateway.registry, tenant, greetings.NAME)
    return tenant


@asynccontextmanager
async def socket(
    gateway: RunningGateway,
    subprotocols: list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> AsyncIterator[AsyncWebSocketSession]:
    session: AsyncWebSocketSession
    async with aconnect_ws(
        "http://test/graphql",
        gateway.client,
        subprotocols=PROTOCOL if subprotocols is None else subprotocols,
        keepalive_ping_interval_seconds=None,
        headers=headers or {},
    ) as session:
        yield session


@asynccontextmanager
async def initialised(gateway: RunningGateway, bearer: str) -> AsyncIterator[AsyncWebSocketSession]:
    async with socket(gateway) as session:
        await session.send_json(
            {"type": "connection_init", "payload": {"authorization": f"Bearer {bearer}"}}
        )
        assert await receive(session) == {"type": "connection_ack"}
        yield session


async def receive(session: AsyncWebSocketSession) -> dict[str, Any]:
    message: dict[str, Any] = await session.receive_json(timeout=TIMEOUT)
    return message


async def close_code(session: AsyncWebSocketSession) -> int:
    with pytest.raises(WebSocketDisconnect) as closed:
        await session.receive_json(timeout=TIMEOUT)
    return closed.value.code


async def close_code_after_messages(session: AsyncWebSocketSession) -> int:
    """The close code, skipping whatever the server sent before closing."""
    while True:
        try:
            await session.receive_json(timeout=TIMEOUT)
        except WebSocketDisconnect as closed:
            return closed.code


def subscribe(operation_id: str, query: str) -> dict[str, Any]:
    return {"id": operation_id, "type": "subscribe", "payload": {"query": query}}


# -- the handshake ---------------------------------------------------------------------------


async def test_init_is_acknowledged_and_pings_are_answered(
    gateway: RunningGateway, tenant: Tenant
) -> None:
    async with initialised(gateway, admin_token(tenant.id)) as session:
        await session.send_json({"type": "ping"})

        assert await receive(session) == {"type": "pong"}


async def test_the_upgrade_requests_credential_serves_when_init_has_none(
    gateway: RunningGateway, tenant: Tenant
) -> None:
    headers = {"Authorization": f"Bearer {admin_token(tenant.id)}"}
    async with socket(gateway, headers=headers) as session:
        await session.send_json({"type": "connection_init"})

        assert await receive(session) == {"type": "connection_ack"}


async def test_api_keys_in_the_init_payload_authenticate(
    gateway: RunningGateway, db: Database, tenant: Tenant
) -> None:
    async with db.tenant_transaction(tenant.id) as conn:
        issued = await create_api_key(
            conn, tenant.id, name="till", scopes=["members:read"], actor="test"
        )

    async with socket(gateway) as session:
        await session.send_json({"type": "connection_init", "payload": {"apiKey": issued.secret}})

        assert await receive(session) == {"type": "connection_ack"}


@pytest.mark.parametrize(
    "payload",
    [None, {"authorization": "Bearer forged"}, {"apiKey": "lk_nothing"}],
    ids=["no credential", "bad token", "bad API key"],
)
async def test_init_without_a_valid_credential_closes_4403(
    gateway: RunningGateway, payload: dict[str, str] | None
) -> None:
    async with socket(gateway) as session:
        await session.send_json({"type": "connection_init", "payload": payload})

        assert await close_code(session) == 4403


async def test_subscribing_before_init_closes_4401(gateway: RunningGateway) -> None:
    async with socket(gateway) as session:
        await session.send_json(subscribe("1", "{ __typename }"))

        assert await close_code(session) == 4401


async def test_a_second_init_closes_4429(gateway: RunningGateway, tenant: Tenant) -> None:
    async with initialised(gateway, admin_token(tenant.id)) as session:
        await session.send_json({"type": "connection_init"})

        assert await close_code(session) == 4429


async def test_an_unknown_message_closes_4400(gateway: RunningGateway) -> None:
    async with socket(gateway) as session:
        await session.send_text("not json")

        assert await close_code(session) == 4400


async def test_no_init_in_time_closes_4408(
    gateway: RunningGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ws, "INIT_TIMEOUT_SECONDS", 0.1)

    async with socket(gateway) as session:
        assert await close_code(session) == 4408


async def test_a_socket_without_the_subprotocol_closes_4406(gateway: RunningGateway) -> None:
    async with socket(gateway, subprotocols=[]) as session:
        assert await close_code(session) == 4406


# -- operations ------------------------------------------------------------------------------


async def test_a_subscription_streams_next_messages_then_completes(
    gateway: RunningGateway, greeted: Tenant
) -> None:
    async with initialised(gateway, admin_token(greeted.id)) as session:
        await session.send_json(subscribe("count", "subscription { countdown(start: 3) }"))

        messages = [await receive(session) for _ in range(4)]

    assert messages == [
        {"id": "count", "type": "next", "payload": {"data": {"countdown": 3}}},
        {"id": "count", "type": "next", "payload": {"data": {"countdown": 2}}},
        {"id": "count", "type": "next", "payload": {"data": {"countdown": 1}}},
        {"id": "count", "type": "complete"},
    ]


async def test_complete_from_the_client_stops_a_subscription(
    gateway: RunningGateway, greeted: Tenant
) -> None:
    async with initialised(gateway, admin_token(greeted.id)) as session:
        await session.send_json(subscribe("t", "subscription { ticks }"))
        assert (await receive(session))["type"] == "next"

        await session.send_json({"id": "t", "type": "complete"})
        await session.send_json({"type": "ping"})
        while (message := await receive(session))["type"] == "next":
            pass
        assert message == {"type": "pong"}
        await asyncio.sleep(0.05)
        await session.send_json({"type": "ping"})

        assert await receive(session) == {"type": "pong"}  # no further ticks


async def test_a_duplicate_operation_id_closes_4409(
    gateway: RunningGateway, greeted: Tenant
) -> None:
    async with initialised(gateway, admin_token(greeted.id)) as session:
        await session.send_json(subscribe("same", "subscription { ticks }"))
        await session.send_json(subscribe("same", "subscription { ticks }"))

        code = await close_code_after_messages(session)

    assert code == 4409


async def test_queries_run_over_the_socket_too(gateway: RunningGateway, tenant: Tenant) -> None:
    async with initialised(gateway, admin_token(tenant.id)) as session:
        await session.send_json(subscribe("q", "{ viewer { role } }"))

        assert await receive(session) == {
            "id": "q",
            "type": "next",
            "payload": {"data": {"viewer": {"role": "ADMIN"}}},
        }
        assert await receive(session) == {"id": "q", "type": "complete"}


async def test_query_variables_are_coerced_over_the_socket_too(
    gateway: RunningGateway, tenant: Tenant
) -> None:
    query = 'query ($kind: IdentifierKind!) { memberByIdentifier(kind: $kind, value: "x") { id } }'
    async with initialised(gateway, admin_token(tenant.id)) as session:
        for operation_id, kind in (("good", "CARD_NUMBER"), ("bad", "SHOE_SIZE")):
            message = subscribe(operation_id, query)
            message["payload"]["variables"] = {"kind": kind}
            await session.send_json(message)
        answers = [await receive(session) for _ in range(3)]  # the two run side by side

    by_kind: dict[tuple[str, str], Any] = {(a["id"], a["type"]): a.get("payload") for a in answers}
    assert by_kind[("good", "next")] == {"data": {"memberByIdentifier": None}}
    assert ("good", "complete") in by_kind
    assert "'SHOE_SIZE' does not exist" in by_kind[("bad", "error")][0]["message"]


async def test_invalid_documents_get_an_error_message(
    gateway: RunningGateway, tenant: Tenant
) -> None:
    async with initialised(gateway, admin_token(tenant.id)) as session:
        await session.send_json(subscribe("bad", "subscription { countdown }"))

        message = await receive(session)

    assert message["id"] == "bad"
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_text_no_field_takes_is_refused_over_the_socket(
    gateway: RunningGateway, greeted: Tenant
) -> None:
    """A NUL in a variable of a query or a subscription (whose variables graphql-core
    coerces), or in a literal: INVALID_INPUT with the field, never run."""
    bad = {"t": "a\x00b"}
    async with initialised(gateway, admin_token(greeted.id)) as session:
        for operation_id, query in (
            ("query", "query($t: String!) { hello(name: $t) { text } }"),
            ("subscription", "subscription($t: String!) { echo(text: $t) }"),
        ):
            message = subscribe(operation_id, query)
            message["payload"]["variables"] = bad
            await session.send_json(message)
            answer = await receive(session)
            assert answer["type"] == "error", answer
            assert answer["payload"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "t"}
        await session.send_json(subscribe("literal", 'subscription { echo(text: "a\\u0000") }'))
        answer = await receive(session)
        assert answer["payload"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "text"}
        await session.send_json(subscribe("fine", 'subscription { echo(text: "ab") }'))
        assert (await receive(session))["payload"] == {"data": {"echo": "ab"}}


async def test_balance_changes_stream_to_the_member(
    gateway: RunningGateway, db: Database, tenant: Tenant
) -> None:
    async with db.tenant_transaction(tenant.id) as conn:
        member_id = await insert_member(conn, tenant.id)
    query = "subscription { balanceChanged { asset { code } available } }"

    notifier: BalanceNotifier = gateway.state.notifier
    assert not notifier.following  # nobody subscribes: ledger writes notify nobody here
    async with initialised(gateway, member_token(tenant.id, member_id)) as session:
        await session.send_json(subscribe("b", query))
        first = await receive(session)
        assert notifier.following
        await _earn(db, tenant, member_id, 120)
        second = await receive(session)
        await session.send_json({"id": "b", "type": "complete"})
        await _until_left(notifier)

    assert first["payload"]["data"]["balanceChanged"] == [
        {"asset": {"code": DEFAULT_ASSET_CODE}, "available": 0}
    ]
    assert second["payload"]["data"]["balanceChanged"] == [
        {"asset": {"code": DEFAULT_ASSET_CODE}, "available": 120}
    ]


async def test_each_result_of_a_subscription_reads_a_moment_of_its_own(
    gateway: RunningGateway, greeted: Tenant, db: Database
) -> None:
    """A module's subscription whose results read through the request's snapshot and
    DataLoaders: the second result sees what committed after the first."""
    async with db.tenant_transaction(greeted.id) as conn:
        member_id = await insert_member(conn, greeted.id)
    query = f'subscription {{ memberChanges(id: "{member_id}") {{ balances {{ available }} }} }}'

    async with initialised(gateway, admin_token(greeted.id)) as session:
        await session.send_json(subscribe("m", query))
        first = await receive(session)
        await _earn(db, greeted, member_id, 120)
        second = await receive(session)
        await session.send_json({"id": "m", "type": "complete"})

    assert first["payload"]["data"]["memberChanges"] == {"balances": [{"available": 0}]}
    assert second["payload"]["data"]["memberChanges"] == {"balances": [{"available": 120}]}


async def test_the_notifier_wakes_only_the_member_a_notification_names(
    gateway: RunningGateway, owner_db: Database
) -> None:
    notifier: BalanceNotifier = gateway.state.notifier
    tenant_id, member_id, other_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    changes = await notifier.subscribe(tenant_id, member_id)
    others = await notifier.subscribe(tenant_id, other_id)
    assert notifier.listening
    assert notifier.following

    await _notify_balance(owner_db, tenant_id, member_id)

    await asyncio.wait_for(anext(changes), TIMEOUT)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(anext(others), 0.2)
    await changes.aclose()
    assert notifier.following  # one subscriber is left
    await notifier.sync()
    assert notifier.following
    await others.aclose()
    await notifier.sync()  # the keep-alive's tidy-up, at once
    assert not notifier.following


async def test_a_reconnected_notifier_listens_again_for_its_subscribers(
    gateway: RunningGateway, owner_db: Database
) -> None:
    notifier: BalanceNotifier = gateway.state.notifier
    tenant_id, member_id = uuid.uuid4(), uuid.uuid4()
    changes = await notifier.subscribe(tenant_id, member_id)
    async with owner_db.engine.begin() as conn:
        await conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = :name"
            ),
            {"name": LISTENER_APPLICATION_NAME},
        )
    # Woken once connected again (changes may have been missed), listening again by then.
    await asyncio.wait_for(anext(changes), TIMEOUT)
    assert notifier.listening
    assert notifier.following

    await _notify_balance(owner_db, tenant_id, member_id)
    await asyncio.wait_for(anext(changes), TIMEOUT)
    await changes.aclose()


async def _notify_balance(owner_db: Database, tenant_id: uuid.UUID, member_id: uuid.UUID) -> None:
    """The notification the ledger's trigger sends when the member's balance changes."""
    async with owner_db.engine.begin() as conn:
        await conn.execute(
            text("SELECT pg_notify('loyalty_balance', :payload)"),
            {"payload": f"{tenant_id}:{member_id}"},
        )


async def _until_left(notifier: BalanceNotifier) -> None:
    """Wait until the notifier has left the balance channel (the subscription's end reaches
    it from the socket's task)."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            await notifier.sync()
            if not notifier.following:
                return
            await asyncio.sleep(0.01)


async def _earn(db: Database, tenant: Tenant, member_id: uuid.UUID, amount: int) -> None:
    async with db.tenant_transaction(tenant.id) as conn:
        asset = await ledger_repo.get_asset(conn, tenant.id, DEFAULT_ASSET_CODE)
        assert asset is not None
        posting = ledger.Posting(
            tenant_id=tenant.id,
            idempotency_key=f"test:{uuid.uuid4()}",
            reason="test",
            cause=Cause(kind="operator", id="test"),
            actor="test",
            now=datetime.now(UTC),
        )
        await ledger.earn(conn, posting, member_id=member_id, asset=asset, amount=amount)
