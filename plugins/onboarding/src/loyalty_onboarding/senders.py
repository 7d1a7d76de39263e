"""How messages leave: a sender interface, a development sender that records what it
would send (admins read it with ``sentMessages``), and an SMTP sender for production.

Senders run after the enrolment committed, never inside its transaction: a slow mail server
must not hold row locks, and a message about a rolled-back enrolment must not go out.

SMTP credentials are secrets, so they never live in tenant settings (which admins read back
with the ``modules`` query): the operator sets them in the process environment
(``SmtpRelay``), bound to one relay host. They are offered only to that host and only over
TLS, so a tenant admin who points ``smtp_host`` elsewhere, or turns TLS off, gets a relay
that sees no password.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol

from loyalty_core.sdk import Database, new_id
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import insert

from loyalty_onboarding.settings import OnboardingSettings, SenderKind, SmtpSecurity
from loyalty_onboarding.tables import messages


@dataclass(frozen=True)
class Message:
    """One message to one person: ``medium`` is ``email`` or ``sms``."""

    tenant_id: uuid.UUID
    enrolment_id: uuid.UUID | None
    medium: str
    recipient: str
    subject: str
    body: str
    member_id: uuid.UUID | None = None
    """The member a sign-in code goes to (enrolment messages name their enrolment)."""


class Sender(Protocol):
    async def send(self, message: Message) -> None: ...


@dataclass(frozen=True)
class DevelopmentSender:
    """Records messages in ``onboarding_messages`` instead of sending them."""

    database: Database

    async def send(self, message: Message) -> None:
        async with self.database.tenant_transaction(message.tenant_id) as conn:
            await conn.execute(
                insert(messages).values(
                    tenant_id=message.tenant_id,
                    id=new_id(),
                    enrolment_id=message.enrolment_id,
                    member_id=message.member_id,
                    medium=message.medium,
                    recipient=message.recipient,
                    subject=message.subject,
                    body=message.body,
                )
            )


class SmtpRelay(BaseSettings):
    """The operator's authenticated relay, from ``LOYALTY_ONBOARDING_SMTP_*``: the
    credentials are used for tenants whose ``smtp_host`` is this ``host``, over TLS only."""

    model_config = SettingsConfigDict(env_prefix="LOYALTY_ONBOARDING_SMTP_", extra="ignore")

    host: str | None = Field(None, description="The relay the credentials belong to.")
    username: str | None = Field(None, description="SMTP AUTH user name.")
    password: SecretStr | None = Field(None, description="SMTP AUTH password.")

    def credentials_for(self, host: str) -> tuple[str, str] | None:
        """(user, password) for ``host``, or None when none are set for it."""
        if not (self.host and self.username and self.password):
            return None
        if self.host.strip().lower() != host.strip().lower():
            return None
        return self.username, self.password.get_secret_value()


@dataclass(frozen=True)
class SmtpSender:
    """Sends e-mail through an SMTP relay (the standard library's client, in a thread);
    texts go to an e-mail-to-SMS gateway when ``sms_gateway_domain`` is set.

    ``security`` is ``none``, ``starttls`` (upgrade on the submission port, usually 587) or
    ``tls`` (implicit TLS from the first byte, usually 465); certificates are verified
    against ``tls_context`` (the system's trust store by default). ``credentials`` are sent
    with AUTH (PLAIN or LOGIN, whichever the server offers) and never without TLS.
    """

    host: str
    port: int
    sender: str
    security: SmtpSecurity = SmtpSecurity.NONE
    credentials: tuple[str, str] | None = field(default=None, repr=False)
    sms_gateway_domain: str | None = None
    timeout: float = 10.0
    tls_context: ssl.SSLContext | None = None

    def __post_init__(self) -> None:
        if self.credentials is not None and self.security is SmtpSecurity.NONE:
            raise ValueError("SMTP credentials are only sent over TLS (starttls or tls)")

    async def send(self, message: Message) -> None:
        await asyncio.to_thread(self._send, message)

    def _send(self, message: Message) -> None:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = self._address(message)
        email["Subject"] = message.subject
        email.set_content(message.body)
        context = self.tls_context or ssl.create_default_context()
        client: smtplib.SMTP
        if self.security is SmtpSecurity.TLS:
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.security is SmtpSecurity.STARTTLS:
                client.starttls(context=context)
            if self.credentials is not None:
                client.login(*self.credentials)
            client.send_message(email)

    def _address(self, message: Message) -> str:
        if message.medium == "email":
            return message.recipient
        if self.sms_gateway_domain is None:
            raise RuntimeError("texts need sms_gateway_domain with the SMTP sender")
        return f"{message.recipient.lstrip('+')}@{self.sms_gateway_domain}"


def sender_for(
    settings: OnboardingSettings, database: Database, relay: SmtpRelay | None = None
) -> Sender:
    """The sender a tenant configured; SMTP credentials come from the environment's relay
    (``relay``, read when not given) and only for its host, over TLS."""
    if settings.sender is SenderKind.SMTP:
        found = (relay or SmtpRelay()).credentials_for(settings.smtp_host)
        return SmtpSender(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            security=settings.smtp_security,
            credentials=found if settings.smtp_security is not SmtpSecurity.NONE else None,
            sms_gateway_domain=settings.sms_gateway_domain,
        )
    return DevelopmentSender(database)


_sending: set[asyncio.Task[None]] = set()
"""Messages being sent in the background (held, so the event loop does not drop them)."""
_log = logging.getLogger(__name__)


def send_later(sender: Sender, message: Message) -> None:
    """Send ``message`` in the background, after the request's answer: a request that sends
    then takes as long as one that does not (a sign-in for an address no member holds), so
    its timing does not tell which it was. A failure is logged; the person asks again."""

    async def send() -> None:
        try:
            await sender.send(message)
        except Exception:
            _log.exception(
                "sending a %s message of tenant %s failed", message.medium, message.tenant_id
            )

    task = asyncio.get_running_loop().create_task(send())
    _sending.add(task)
    task.add_done_callback(_sending.discard)


async def flush() -> None:
    """Wait for the messages being sent in the background: for a process that stops, and
    for tests that read what the development sender recorded."""
    while _sending:
        await asyncio.gather(*_sending, return_exceptions=True)


__all__ = [
    "DevelopmentSender",
    "Message",
    "Sender",
    "SmtpRelay",
    "SmtpSender",
    "flush",
    "send_later",
    "sender_for",
]
