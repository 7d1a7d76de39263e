"""Events as the rest of the code sees them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from loyalty_core.ledger.models import LedgerTransaction


@dataclass(frozen=True)
class EventInput:
    """One event as a touchpoint sends it. The member is given by id or by identifier."""

    type: str
    source: str
    external_id: str
    payload: dict[str, Any]
    member_id: uuid.UUID | None = None
    identifier: tuple[str, str] | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class StoredEvent:
    """An event as stored: type, source and external id, member, time, payload; purchases and
    refunds also amount and currency."""

    id: uuid.UUID
    type: str
    source: str
    external_id: str
    member_id: uuid.UUID
    occurred_at: datetime
    payload: dict[str, Any]
    amount: int | None
    currency: str | None
    refunded_amount: int
    purchase_id: uuid.UUID | None
    created_at: datetime


class NoticeCode(StrEnum):
    """What a notice says: the event was stored, but the till should know something."""

    CURRENCY_NOT_EARNED = "CURRENCY_NOT_EARNED"
    """A purchase in a currency the tenant has no earn rate for: stored, no base points."""


@dataclass(frozen=True)
class Notice:
    """Something about an ingested event that is not an error (the event is valid and was
    stored) but that its sender would otherwise not learn, such as why it earned nothing."""

    code: NoticeCode
    message: str


@dataclass(frozen=True)
class IngestResult:
    """What ingesting one event did; ``replayed`` when it had been ingested before."""

    event: StoredEvent
    replayed: bool
    transactions: list[LedgerTransaction] = field(default_factory=list)
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    json_schema: dict[str, Any]
    builtin: bool
    module: str | None = None


__all__ = ["EventInput", "EventType", "IngestResult", "Notice", "NoticeCode", "StoredEvent"]
