"""Many rows in one statement: ``INSERT ... SELECT * FROM unnest(...)`` with one array per
column.

A multi-row ``VALUES`` list would be a different statement for every row count (nothing
prepared survives) with a bind parameter per cell, and asyncpg's ``executemany`` still runs
the statement once per row on the server. One array per column keeps one prepared statement
whatever the count, and PostgreSQL inserts the rows in one execution: for a chunk of a batch,
writing its ledger rows this way costs the server a fraction of a statement per row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import JSON, String, Table, insert, text
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.db.prepared import Prepared
from loyalty_core.ids import json_default


class InsertRows:
    """An ``INSERT`` of ``columns`` into ``table`` from one array per column; ``tail`` is
    what follows it (``ON CONFLICT ...``, ``RETURNING ...``), written as SQL. Without a
    ``tail``, a single row goes in by a plain ``INSERT``, which costs the server less than
    unpacking arrays of one."""

    def __init__(self, table: Table, columns: Sequence[str], tail: str = "") -> None:
        self.columns = tuple(columns)
        # JSON travels as text, cast back in the SELECT: an array of JSON values that are
        # lists themselves would be taken for a multidimensional array.
        self._json = frozenset(n for n in self.columns if isinstance(table.c[n].type, JSON))
        names = ", ".join(self.columns)
        values = ", ".join(f"{n}::jsonb" if n in self._json else n for n in self.columns)
        # Each array's type is cast in the SQL and its parameter left untyped, so asyncpg
        # encodes the lists as they are: SQLAlchemy's array bind processors would walk every
        # element of every column in Python first.
        arrays = ", ".join(
            f"CAST(:{n} AS {'TEXT' if n in self._json else _sql_type(table, n)}[])"
            for n in self.columns
        )
        statement = text(
            f"INSERT INTO {table.name} ({names}) SELECT {values} "  # noqa: S608  # names from the table
            f"FROM unnest({arrays}) AS row ({names}) {tail}"
        )
        self._prepared = Prepared(statement.columns(*table.c) if tail else statement)
        self._single = None if tail else Prepared(insert(table))

    def arrays(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
        """The rows as one list per column (JSON serialised)."""
        return {
            name: [_json(row[name]) for row in rows]
            if name in self._json
            else [row[name] for row in rows]
            for name in self.columns
        }

    async def execute(self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
        if len(rows) == 1 and self._single is not None:
            await self._single.execute(conn, rows[0])
        elif rows:
            await self._prepared.execute(conn, self.arrays(rows))

    async def all(self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """The rows ``RETURNING`` gave (inserted ones only, under ``ON CONFLICT DO NOTHING``)."""
        return await self._prepared.all(conn, self.arrays(rows)) if rows else []


_POSTGRESQL = PGDialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it unannotated


def _sql_type(table: Table, column: str) -> str:
    """The array's element type: strings as ``TEXT``, since a cast to ``VARCHAR(n)`` would
    cut a long value short where the insert's own cast refuses it."""
    type_ = table.c[column].type
    if isinstance(type_, String):
        return "TEXT"
    return str(type_.compile(dialect=_POSTGRESQL))


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value, default=json_default).decode()


__all__ = ["InsertRows"]
