"""Reporting to an offer's funder: per offer and day, activations, redemptions, points
awarded and points taken back by refunds, and the money the partner owes for the rewards
(what clearing charged, fees included, net of what refunds credited back: its statement's
``FUNDED``, ``REVERSAL`` and fee lines for them), also as CSV. A partner reads only its own
offers' (the scope comes from its credential); the operator reads every offer's."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from loyalty_core.sdk import ValidationFailed, minor_units
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_partner_offers import repository as repo
from loyalty_partner_offers.models import PerformanceRow

MAX_DAYS = 366
HEADER = (
    "day",
    "offer_id",
    "external_id",
    "title",
    "activations",
    "redemptions",
    "points_awarded",
    "points_reversed",
    "money_owed",
    "currency",
)


async def performance(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    partner_id: uuid.UUID | None,
    offer_ids: Sequence[uuid.UUID] | None,
    since: date,
    until: date,
    zone: str,
) -> list[PerformanceRow]:
    """Rows of the days ``since`` to ``until`` (the tenant's days: ``zone``)."""
    if until < since:
        raise ValidationFailed("until is not before since", field="until")
    if (until - since).days >= MAX_DAYS:
        raise ValidationFailed(f"at most {MAX_DAYS} days", field="until")
    rows = await repo.performance(
        conn,
        tenant_id,
        partner_id=partner_id,
        offer_ids=offer_ids,
        since=since,
        until=until,
        zone=zone,
    )
    return [
        PerformanceRow(
            offer_id=row.offer_id,
            external_id=row.external_id,
            title=row.title,
            day=row.day,
            activations=row.activations,
            redemptions=row.redemptions,
            points_awarded=row.points_awarded,
            points_reversed=row.points_reversed,
            money_owed=row.money_owed,
            currency=row.currency,
        )
        for row in rows
    ]


def to_csv(rows: Sequence[PerformanceRow]) -> str:
    """The rows as CSV (RFC 4180, a header line first). A text cell that a spreadsheet
    would read as a formula is prefixed with an apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(
            (
                row.day.isoformat(),
                str(row.offer_id),
                _cell(row.external_id or ""),
                _cell(row.title),
                row.activations,
                row.redemptions,
                row.points_awarded,
                row.points_reversed,
                _money(row.money_owed, row.currency),
                row.currency or "",
            )
        )
    return out.getvalue()


def _money(minor: int, currency: str | None) -> str:
    """Minor units as a decimal amount of ``currency`` (``12.30``), for a spreadsheet."""
    if currency is None:
        return str(minor)
    return str(Decimal(minor).scaleb(-minor_units(currency)))


def _cell(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


__all__ = ["HEADER", "performance", "to_csv"]
