"""How messages leave: a sender interface, a development sender that records what it
would send (admins read it with ``sentMessages``), and an SMTP sender for production.

Senders run after the enrolment committed, never inside its transaction: a slow mail server
must not hold row locks, and a message about a rolled-back enrolment must not go out.
"""

from __future__ import annotations

import asyncio
import smtplib
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from loyalty_core.sdk import Database, new_id
from sqlalchemy import insert

from loyalty_onboarding.settings import OnboardingSettings, SenderKind
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
                    medium=message.medium,
                    recipient=message.recipient,
                    subject=message.subject,
                    body=message.body,
                )
            )


@dataclass(frozen=True)
class SmtpSender:
    """Sends e-mail through an SMTP relay (the standard library's client, in a thread);
    texts go to an e-mail-to-SMS gateway when ``sms_gateway_domain`` is set."""

    host: str
    port: int
    sender: str
    starttls: bool = False
    sms_gateway_domain: str | None = None
    timeout: float = 10.0

    async def send(self, message: Message) -> None:
        await asyncio.to_thread(self._send, message)

    def _send(self, message: Message) -> None:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = self._address(message)
        email["Subject"] = message.subject
        email.set_content(message.body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as client:
            if self.starttls:
                client.starttls()
            client.send_message(email)

    def _address(self, message: Message) -> str:
        if message.medium == "email":
            return message.recipient
        if self.sms_gateway_domain is None:
            raise RuntimeError("texts need sms_gateway_domain with the SMTP sender")
        return f"{message.recipient.lstrip('+')}@{self.sms_gateway_domain}"


def sender_for(settings: OnboardingSettings, database: Database) -> Sender:
    """The sender a tenant configured."""
    if settings.sender is SenderKind.SMTP:
        return SmtpSender(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            starttls=settings.smtp_starttls,
            sms_gateway_domain=settings.sms_gateway_domain,
        )
    return DevelopmentSender(database)


__all__ = ["DevelopmentSender", "Message", "Sender", "SmtpSender", "sender_for"]
