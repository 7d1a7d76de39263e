"""A statement as a partner receives it: CSV and JSON for its accounting, a printable HTML
document, and the operator's summary of a period across partners.

Amounts are written in the currency's major unit with exactly its minor digits (``-12.34``),
converted from the integer minor units without floating point, so the export adds up to the
statement to the unit.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from loyalty_core.sdk import minor_units

from loyalty_clearing.models import Movement, Partner, Period, Statement

COLUMNS = (
    "date",
    "kind",
    "points",
    "asset",
    "rate",
    "amount",
    "reason",
    "cause",
    "carried_forward_from",
)


def money(amount: int, currency: str) -> str:
    """Minor units as a decimal string of the major unit (``1234`` EUR: ``12.34``)."""
    return str(Decimal(amount).scaleb(-minor_units(currency)))


def statement_json(
    statement: Statement, partner: Partner, period: Period, lines: Sequence[Movement]
) -> dict[str, Any]:
    cur = statement.currency
    return {
        "statement": str(statement.id),
        "partner": {"id": str(partner.id), "name": partner.name},
        "period": {"from": period.starts_on.isoformat(), "to": period.ends_on.isoformat()},
        "currency": cur,
        "opening": money(statement.opening, cur),
        "pointsIssued": statement.points_issued,
        "issued": money(statement.issued_amount, cur),
        "pointsRedeemed": statement.points_redeemed,
        "redeemed": money(statement.redeemed_amount, cur),
        "pointsReversed": statement.points_reversed,
        "reversals": money(statement.reversals_amount, cur),
        "fees": money(statement.fees_amount, cur),
        "adjustments": money(statement.adjustments_amount, cur),
        "blocks": money(statement.blocks_amount, cur),
        "rounding": money(statement.rounding_amount, cur),
        "closing": money(statement.closing, cur),
        "due": _due(statement, partner),
        "lines": [_line(line, period, cur) for line in lines],
    }


def statement_csv(statement: Statement, period: Period, lines: Sequence[Movement]) -> str:
    """One row per line, then the opening and closing as rows of their own."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    cur = statement.currency
    writer.writerow(
        [
            period.starts_on.isoformat(),
            "opening",
            "",
            "",
            "",
            money(statement.opening, cur),
            "",
            "",
            "",
        ]
    )
    for line in lines:
        row = _line(line, period, cur)
        writer.writerow(
            [_safe(str(row[column] if row[column] is not None else "")) for column in _KEYS]
        )
    writer.writerow(
        [
            period.ends_on.isoformat(),
            "closing",
            "",
            "",
            "",
            money(statement.closing, cur),
            "",
            "",
            "",
        ]
    )
    return out.getvalue()


def statement_html(
    statement: Statement, partner: Partner, period: Period, lines: Sequence[Movement]
) -> str:
    """A printable page: who, which period, the totals, every line, the net due."""
    data = statement_json(statement, partner, period, lines)
    e = html.escape
    rows = "".join(
        "<tr>"
        + "".join(f"<td>{e(str(line[key] if line[key] is not None else ''))}</td>" for key in _KEYS)
        + "</tr>"
        for line in data["lines"]
    )
    totals = "".join(
        f"<tr><th>{e(label)}</th><td>{e(str(data[key]))}</td></tr>" for label, key in _TOTALS
    )
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>Statement {e(partner.name)} {e(data['period']['from'])}</title>"
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:2px 6px;text-align:left}</style></head><body>"
        f"<h1>Settlement statement: {e(partner.name)}</h1>"
        f"<p>Period {e(data['period']['from'])} to {e(data['period']['to'])} "
        f"(end exclusive), amounts in {e(data['currency'])}.</p>"
        f"<table>{totals}</table><h2>Lines</h2><table><tr>"
        + "".join(f"<th>{e(column)}</th>" for column in COLUMNS)
        + f"</tr>{rows}</table><p><strong>{e(data['due'])}</strong></p></body></html>"
    )


def summary_csv(rows: Sequence[tuple[Statement, Partner]]) -> str:
    """The operator's view of a period: one row per partner's statement."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        (
            "partner",
            "currency",
            "opening",
            "issued",
            "redeemed",
            "reversals",
            "fees",
            "adjustments",
            "blocks",
            "rounding",
            "closing",
        )
    )
    for statement, partner in rows:
        cur = statement.currency
        writer.writerow(
            [_safe(partner.name), cur]
            + [
                money(amount, cur)
                for amount in (
                    statement.opening,
                    statement.issued_amount,
                    statement.redeemed_amount,
                    statement.reversals_amount,
                    statement.fees_amount,
                    statement.adjustments_amount,
                    statement.blocks_amount,
                    statement.rounding_amount,
                    statement.closing,
                )
            ]
        )
    return out.getvalue()


_KEYS = (
    "date",
    "kind",
    "points",
    "asset",
    "rate",
    "amount",
    "reason",
    "cause",
    "carriedForwardFrom",
)
_TOTALS = (
    ("Opening", "opening"),
    ("Points issued", "pointsIssued"),
    ("Issued", "issued"),
    ("Points redeemed", "pointsRedeemed"),
    ("Redeemed", "redeemed"),
    ("Reversals", "reversals"),
    ("Fees", "fees"),
    ("Adjustments", "adjustments"),
    ("Point blocks", "blocks"),
    ("Rounding", "rounding"),
    ("Closing", "closing"),
)


def _line(line: Movement, period: Period, currency: str) -> dict[str, Any]:
    carried = line.occurred_at < period.starts_at
    return {
        "date": line.occurred_at.isoformat(),
        "kind": line.kind.value,
        "points": line.points,
        "asset": line.asset_code,
        "rate": None if line.rate is None else str(line.rate),
        "amount": money(line.amount, currency),
        "reason": line.reason,
        "cause": line.cause,
        "carriedForwardFrom": line.occurred_at.date().isoformat() if carried else None,
    }


def _due(statement: Statement, partner: Partner) -> str:
    amount = money(abs(statement.closing), statement.currency)
    if statement.closing > 0:
        return f"The operator owes {partner.name} {amount} {statement.currency}."
    if statement.closing < 0:
        return f"{partner.name} owes the operator {amount} {statement.currency}."
    return "Nothing is due either way."


def _safe(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@") and not _is_number(cell) else cell


def _is_number(cell: str) -> bool:
    try:
        Decimal(cell)
    except ArithmeticError:
        return False
    return True


__all__ = ["money", "statement_csv", "statement_html", "statement_json", "summary_csv"]
