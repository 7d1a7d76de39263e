"""The SMTP sender against a real SMTP conversation: a small asyncio server started by the
test accepts the message, and the enrolment's code arrives in it."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest_asyncio
from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_onboarding.senders import Message, SmtpSender

from tests.fixtures.gateway import MakeApp, admin_token, graphql
from tests.onboarding import enable, enrolment_key, onboarding_gateway, start, verify


@dataclass
class SmtpStub:
    """Speaks just enough SMTP to accept mail; keeps what it received."""

    port: int = 0
    received: list[tuple[str, list[str], str]] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sender, recipients = "", []
        writer.write(b"220 stub ESMTP\r\n")
        while line := (await reader.readline()).decode():
            command = line.strip().upper()
            if command.startswith(("EHLO", "HELO")):
                writer.write(b"250 stub\r\n")
            elif command.startswith("MAIL FROM:"):
                sender = line.strip()[10:].strip("<>")
                writer.write(b"250 OK\r\n")
            elif command.startswith("RCPT TO:"):
                recipients.append(line.strip()[8:].strip("<>"))
                writer.write(b"250 OK\r\n")
            elif command == "DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                data = []
                while (chunk := (await reader.readline()).decode()) not in (".\r\n", ""):
                    data.append(chunk)
                self.received.append((sender, recipients, "".join(data)))
                sender, recipients = "", []
                writer.write(b"250 queued\r\n")
            elif command == "QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 OK\r\n")
            await writer.drain()
        writer.close()


@pytest_asyncio.fixture(loop_scope="session")
async def smtp() -> AsyncIterator[SmtpStub]:
    stub = SmtpStub()
    server = await asyncio.start_server(stub.handle, "127.0.0.1", 0)
    stub.port = server.sockets[0].getsockname()[1]
    async with server:
        yield stub


async def test_the_smtp_sender_delivers_to_an_smtp_server(smtp: SmtpStub) -> None:
    sender = SmtpSender(
        host="127.0.0.1",
        port=smtp.port,
        sender="club@example.com",
        sms_gateway_domain="sms.example.net",
    )
    await sender.send(Message(uuid.uuid4(), None, "email", "ada@example.com", "Hi", "Body 1"))
    await sender.send(Message(uuid.uuid4(), None, "sms", "+4915100000009", "Code", "Body 2"))
    assert [(s, r) for s, r, _ in smtp.received] == [
        ("club@example.com", ["ada@example.com"]),
        ("club@example.com", ["4915100000009@sms.example.net"]),
    ]
    assert "Subject: Hi" in smtp.received[0][2]
    assert "Body 1" in smtp.received[0][2]


async def test_a_tenant_on_smtp_gets_its_codes_by_mail_and_records_none(
    make_app: MakeApp, db: Database, tenant: Tenant, smtp: SmtpStub
) -> None:
    gateway = await onboarding_gateway(make_app)
    await enable(db, gateway, tenant, sender="smtp", smtp_host="127.0.0.1", smtp_port=smtp.port)
    client = gateway.client
    key = await enrolment_key(client, tenant.id)
    started = await start(client, key, channel="WEB", email="mail@example.com")
    assert started["verificationSent"] is True
    _, recipients, data = smtp.received[-1]
    assert recipients == ["mail@example.com"]
    found = re.search(r"code is ([0-9]{6})", data)
    assert found
    verified = await verify(client, key, started["enrolment"]["id"], found.group(1))
    assert verified["errors"] == []
    recorded = await graphql(client, "{ sentMessages { body } }", token=admin_token(tenant.id))
    assert recorded["data"]["sentMessages"] == []


async def test_a_mail_server_that_is_down_leaves_the_enrolment_to_retry(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await onboarding_gateway(make_app)
    closed = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = closed.sockets[0].getsockname()[1]
    closed.close()
    await closed.wait_closed()
    await enable(db, gateway, tenant, sender="smtp", smtp_host="127.0.0.1", smtp_port=port)
    key = await enrolment_key(gateway.client, tenant.id)
    started = await start(gateway.client, key, channel="WEB", email="down@example.com")
    assert started["errors"] == []
    assert started["verificationSent"] is False
