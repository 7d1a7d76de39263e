"""The SMTP sender against a real SMTP conversation: a small asyncio server started by the
test accepts the message (in the clear, after STARTTLS, or over implicit TLS, with AUTH
PLAIN or LOGIN when it asks for a login), and the enrolment's code arrives in it."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import re
import ssl
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_onboarding.senders import Message, SmtpRelay, SmtpSender
from loyalty_onboarding.settings import SmtpSecurity
from loyalty_testing import MakeApp, admin_token, graphql

from tests.onboarding import enable, enrolment_key, onboarding_gateway, start, verify

USER, PASSWORD = "club-relay", "s3cret-relay-password"


@dataclass
class SmtpStub:
    """Speaks just enough SMTP to accept mail; keeps what it received. With ``tls`` it offers
    STARTTLS (or, with ``implicit``, speaks TLS from the first byte); with ``login`` it offers
    AUTH (``mechanisms``, only once the connection is encrypted) and refuses mail before."""

    port: int = 0
    tls: ssl.SSLContext | None = None
    implicit: bool = False
    login: tuple[str, str] | None = None
    mechanisms: tuple[str, ...] = ("PLAIN", "LOGIN")
    received: list[tuple[str, list[str], str]] = field(default_factory=list)
    logins: list[tuple[str, str, bool]] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sender, recipients = "", []
        secure, authenticated = self.implicit, self.login is None

        async def reply(text: str) -> None:
            writer.write(text.encode() + b"\r\n")
            await writer.drain()

        async def line() -> str:
            return (await reader.readline()).decode().strip()

        await reply("220 stub ESMTP")
        while raw := (await reader.readline()).decode():
            command = raw.strip().upper()
            if command.startswith(("EHLO", "HELO")):
                features = []
                if self.tls is not None and not secure:
                    features.append("STARTTLS")
                if self.login is not None and secure:
                    features.append("AUTH " + " ".join(self.mechanisms))
                lines = ["stub", *features]
                for index, feature in enumerate(lines):
                    await reply(f"250{'-' if index < len(lines) - 1 else ' '}{feature}")
            elif command == "STARTTLS" and self.tls is not None and not secure:
                await reply("220 ready for TLS")
                try:
                    await writer.start_tls(self.tls)
                except ssl.SSLError:
                    break  # the client did not trust the certificate
                secure = True
            elif command.startswith("AUTH ") and self.login is not None and secure:
                parts = raw.strip().split()
                mechanism = parts[1].upper()
                if mechanism == "PLAIN" and "PLAIN" in self.mechanisms:
                    if len(parts) < 3:
                        await reply("334 ")
                        parts.append(await line())
                    _, user, password = base64.b64decode(parts[2]).decode().split("\0")
                elif mechanism == "LOGIN" and "LOGIN" in self.mechanisms:
                    if len(parts) < 3:
                        await reply("334 VXNlcm5hbWU6")
                        parts.append(await line())
                    user = base64.b64decode(parts[2]).decode()
                    await reply("334 UGFzc3dvcmQ6")
                    password = base64.b64decode(await line()).decode()
                else:
                    await reply("504 unrecognised mechanism")
                    continue
                authenticated = (user, password) == self.login
                self.logins.append((mechanism, user, authenticated))
                await reply("235 OK" if authenticated else "535 bad credentials")
            elif command.startswith("MAIL FROM:"):
                if not authenticated:
                    await reply("530 authentication required")
                    continue
                sender = raw.strip()[10:].strip("<>")
                await reply("250 OK")
            elif command.startswith("RCPT TO:"):
                recipients.append(raw.strip()[8:].strip("<>"))
                await reply("250 OK")
            elif command == "DATA":
                await reply("354 go ahead")
                data = []
                while (chunk := (await reader.readline()).decode()) not in (".\r\n", ""):
                    data.append(chunk)
                self.received.append((sender, recipients, "".join(data)))
                sender, recipients = "", []
                await reply("250 queued")
            elif command == "QUIT":
                await reply("221 bye")
                break
            else:
                await reply("250 OK")
        writer.close()


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for 127.0.0.1: the server's context and a client trusting it."""

    pem_file: Path
    server: ssl.SSLContext
    client: ssl.SSLContext


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("smtp-tls")
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (folder / "cert.pem").write_bytes(pem)
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    client = ssl.create_default_context(cadata=pem.decode())
    return Certificate(folder / "cert.pem", server, client)


StartStub = Callable[..., Awaitable[SmtpStub]]


@pytest_asyncio.fixture(loop_scope="session")
async def smtp_server() -> AsyncIterator[StartStub]:
    """Starts stubs on free ports (each configured as asked), closed after the test."""
    servers: list[asyncio.Server] = []

    async def started(**options: object) -> SmtpStub:
        stub = SmtpStub(**options)  # type: ignore[arg-type]
        implicit = stub.tls if stub.implicit else None
        server = await asyncio.start_server(stub.handle, "127.0.0.1", 0, ssl=implicit)
        servers.append(server)
        stub.port = server.sockets[0].getsockname()[1]
        return stub

    yield started
    for server in servers:
        server.close()
        await server.wait_closed()


@pytest_asyncio.fixture(loop_scope="session")
async def smtp(smtp_server: StartStub) -> SmtpStub:
    return await smtp_server()


def mail(recipient: str = "ada@example.com", body: str = "Body 1") -> Message:
    return Message(uuid.uuid4(), None, "email", recipient, "Hi", body)


async def test_the_smtp_sender_delivers_to_an_smtp_server(smtp: SmtpStub) -> None:
    sender = SmtpSender(
        host="127.0.0.1",
        port=smtp.port,
        sender="club@example.com",
        sms_gateway_domain="sms.example.net",
    )
    await sender.send(mail())
    await sender.send(Message(uuid.uuid4(), None, "sms", "+4915100000009", "Code", "Body 2"))
    assert [(s, r) for s, r, _ in smtp.received] == [
        ("club@example.com", ["ada@example.com"]),
        ("club@example.com", ["4915100000009@sms.example.net"]),
    ]
    assert "Subject: Hi" in smtp.received[0][2]
    assert "Body 1" in smtp.received[0][2]


@pytest.mark.parametrize(
    ("security", "mechanisms"),
    [
        (SmtpSecurity.STARTTLS, ("PLAIN", "LOGIN")),
        (SmtpSecurity.STARTTLS, ("LOGIN",)),
        (SmtpSecurity.TLS, ("PLAIN",)),
        (SmtpSecurity.TLS, ("LOGIN",)),
    ],
)
async def test_the_smtp_sender_logs_in_over_tls(
    smtp_server: StartStub,
    certificate: Certificate,
    security: SmtpSecurity,
    mechanisms: tuple[str, ...],
) -> None:
    stub = await smtp_server(
        tls=certificate.server,
        implicit=security is SmtpSecurity.TLS,
        login=(USER, PASSWORD),
        mechanisms=mechanisms,
    )
    sender = SmtpSender(
        host="127.0.0.1",
        port=stub.port,
        sender="club@example.com",
        security=security,
        credentials=(USER, PASSWORD),
        tls_context=certificate.client,
    )
    assert PASSWORD not in repr(sender)
    await sender.send(mail())
    assert stub.logins == [(mechanisms[0], USER, True)]
    assert [r for _, r, _ in stub.received] == [["ada@example.com"]]


async def test_a_wrong_password_an_untrusted_certificate_and_plain_text_send_nothing(
    smtp_server: StartStub, certificate: Certificate
) -> None:
    stub = await smtp_server(tls=certificate.server, login=(USER, PASSWORD))
    wrong = SmtpSender(
        host="127.0.0.1",
        port=stub.port,
        sender="club@example.com",
        security=SmtpSecurity.STARTTLS,
        credentials=(USER, "guess"),
        tls_context=certificate.client,
    )
    with pytest.raises(Exception, match="bad credentials"):
        await wrong.send(mail())
    untrusted = SmtpSender(
        host="127.0.0.1",
        port=stub.port,
        sender="club@example.com",
        security=SmtpSecurity.STARTTLS,
        credentials=(USER, PASSWORD),
    )
    with pytest.raises(ssl.SSLError):
        await untrusted.send(mail())
    with pytest.raises(ValueError, match="only sent over TLS"):
        SmtpSender(host="127.0.0.1", port=stub.port, sender="c@example.com", credentials=("u", "p"))
    assert stub.received == []
    assert stub.logins, "the wrong password was tried"
    assert not any(ok for *_, ok in stub.logins)


def test_relay_credentials_come_from_the_environment_and_only_for_their_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOYALTY_ONBOARDING_SMTP_HOST", "Relay.Example.net")
    monkeypatch.setenv("LOYALTY_ONBOARDING_SMTP_USERNAME", USER)
    monkeypatch.setenv("LOYALTY_ONBOARDING_SMTP_PASSWORD", PASSWORD)
    relay = SmtpRelay()
    assert PASSWORD not in repr(relay)
    assert relay.credentials_for("relay.example.net") == (USER, PASSWORD)
    assert relay.credentials_for("attacker.example.com") is None
    monkeypatch.delenv("LOYALTY_ONBOARDING_SMTP_PASSWORD")
    assert SmtpRelay().credentials_for("relay.example.net") is None


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


async def test_a_tenant_on_the_operators_relay_logs_in_with_credentials_it_never_sees(
    make_app: MakeApp,
    db: Database,
    tenant: Tenant,
    smtp_server: StartStub,
    certificate: Certificate,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stub = await smtp_server(tls=certificate.server, login=(USER, PASSWORD))
    monkeypatch.setenv("LOYALTY_ONBOARDING_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("LOYALTY_ONBOARDING_SMTP_USERNAME", USER)
    monkeypatch.setenv("LOYALTY_ONBOARDING_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.pem_file))
    gateway = await onboarding_gateway(make_app)
    await enable(
        db,
        gateway,
        tenant,
        sender="smtp",
        smtp_host="127.0.0.1",
        smtp_port=stub.port,
        smtp_security="starttls",
    )
    client = gateway.client
    key = await enrolment_key(client, tenant.id)
    started = await start(client, key, channel="WEB", email="relay@example.com")
    assert started["verificationSent"] is True
    assert stub.logins == [("PLAIN", USER, True)]
    assert [r for _, r, _ in stub.received] == [["relay@example.com"]]
    body = await graphql(
        client, "{ modules { name settings settingsSchema } }", token=admin_token(tenant.id)
    )
    assert PASSWORD not in str(body)
    assert USER not in str(body)


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
