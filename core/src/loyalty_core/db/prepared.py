"""Hot statements, compiled once by SQLAlchemy and run by asyncpg directly.

Every statement of this codebase is built with SQLAlchemy Core. Executing one through
``AsyncConnection.execute`` costs, beyond what asyncpg itself spends, about 110 µs of CPU even
when the statement object is built once (measured here: 155 µs against 44 µs for a one-row
SELECT by primary key): the hop into the synchronous engine through a greenlet, the DBAPI
cursor emulation, the compiled-cache key, result metadata. An event ingest ran two dozen
statements and a member dashboard five, so that overhead was a third of their CPU.

:class:`Prepared` keeps what SQLAlchemy is good at, once: building the statement from the
table definitions and compiling it, with its bind types, for the connection's dialect. Each
execution then hands the compiled SQL and the positional values to the asyncpg connection
under the transaction (the pool's connections are in driver-level autocommit and
:mod:`loyalty_core.db.engine` sent ``BEGIN``, so this is the same transaction), where asyncpg's
own statement cache keeps it prepared. It waits for the same per-connection lock as
SQLAlchemy's statements, so GraphQL resolvers sharing a read connection never overlap on it;
rows read like SQLAlchemy's (``row.column``); errors come out as
SQLAlchemy's ``DBAPIError`` with the SQLSTATE in ``orig.sqlstate``, as from ``conn.execute``,
so retries and error handling need not know which path ran.

Only for statements on a request's hot path, built once at import: everything else stays on
``conn.execute``. Every bind parameter must be given (or carry a value in the statement, as
``limit(20)`` does); an INSERT writes the columns given, the others take their server
defaults (the tables have no Python-side defaults).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any, NoReturn

import asyncpg
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

_UNSET = object()


class Row(asyncpg.Record):  # type: ignore[misc]  # asyncpg ships no type stubs for Record
    """A result row read as ``row.column`` or ``row["column"]``, like SQLAlchemy's. (JSON
    columns arrive decoded: SQLAlchemy registers its JSON codecs on every connection.)

    Each statement's rows are of a subclass with a property per known result column (an
    ``itemgetter``, read at C speed); any other name goes through ``__getattr__``."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class _Compiled:
    """A statement compiled for one dialect and one set of parameter names."""

    def __init__(
        self,
        sql: str,
        names: tuple[str, ...],
        defaults: tuple[Any, ...],
        processors: tuple[Callable[[Any], Any] | None, ...],
    ) -> None:
        self.sql = sql
        self.names = names
        self.defaults = defaults
        self.processors = processors
        # Where every parameter must be given (nearly every statement), one C call picks
        # the values: a function call per value cost more than the rest of the run.
        self._pick = itemgetter(*names) if names and all(d is _UNSET for d in defaults) else None
        self._processed = tuple((i, p) for i, p in enumerate(processors) if p is not None)

    def values(self, params: Mapping[str, Any]) -> list[Any]:
        """The positional values for ``params``, through the bind types' processors."""
        if self._pick is None:
            return [
                _value(params, name, default, process)
                for name, default, process in zip(
                    self.names, self.defaults, self.processors, strict=True
                )
            ]
        try:
            picked = self._pick(params)
        except KeyError as missing:
            raise KeyError(f"no value for bind parameter {missing.args[0]!r}") from None
        found = list(picked) if len(self.names) > 1 else [picked]
        for index, process in self._processed:
            value = found[index]
            if value is not None:
                found[index] = process(value)
        return found


class Prepared:
    """A statement built once with SQLAlchemy Core (at import) and run by asyncpg in the
    caller's transaction: on a hot path (every event) it saves the ~110 µs of CPU each
    execution through SQLAlchemy costs. Every bind parameter must be given (or carry its
    value in the statement); an INSERT writes the columns given, the others take their
    server defaults. Rows read as ``row.column``; errors come out as from ``conn.execute``."""

    def __init__(self, statement: ClauseElement) -> None:
        self._statement = statement
        columns = getattr(statement, "exported_columns", ())
        names = {str(getattr(c, "name", "")) for c in columns} - {""}
        shadowed = names & set(dir(asyncpg.Record))
        if shadowed:
            raise ValueError(f"result columns {sorted(shadowed)} hide asyncpg.Record methods")
        properties = {name: property(itemgetter(name)) for name in names}
        self._row: type[Row] = type("PreparedRow", (Row,), properties)
        self._compiled: dict[tuple[int, frozenset[str]], _Compiled] = {}

    async def all(
        self, conn: AsyncConnection, params: Mapping[str, Any] | None = None
    ) -> list[Any]:
        """Every row of the result."""
        return await self._run(conn, params or {}, "fetch")  # type: ignore[no-any-return]

    async def first(self, conn: AsyncConnection, params: Mapping[str, Any] | None = None) -> Any:
        """The first row, or None."""
        return await self._run(conn, params or {}, "fetchrow")

    async def execute(self, conn: AsyncConnection, params: Mapping[str, Any] | None = None) -> None:
        """Run it for its effect."""
        await self._run(conn, params or {}, "execute")

    async def execute_many(self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run it once per parameter set (all with the same keys), pipelined by asyncpg."""
        if rows:
            await self._run(conn, rows[0], "executemany", rows)

    async def _run(
        self,
        conn: AsyncConnection,
        params: Mapping[str, Any],
        method: str,
        many: Sequence[Mapping[str, Any]] | None = None,
    ) -> Any:
        dialect = conn.dialect
        key = (id(dialect), frozenset(params))
        compiled = self._compiled.get(key) or self._compile(dialect, key)
        adapted: Any = conn.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]
        driver = adapted.driver_connection
        values = compiled.values(params)
        async with adapted._execute_mutex:  # the lock SQLAlchemy's statements take
            try:
                if method == "execute":
                    return await driver.execute(compiled.sql, *values)
                if many is not None:
                    rows = [compiled.values(row) for row in many]
                    return await driver.executemany(compiled.sql, rows)
                return await getattr(driver, method)(compiled.sql, *values, record_class=self._row)
            except asyncpg.PostgresError as error:
                _raise_as_sqlalchemy(adapted, dialect, compiled.sql, values, error)

    def _compile(self, dialect: Dialect, key: tuple[int, frozenset[str]]) -> _Compiled:
        # An INSERT's columns are those given, as SQLAlchemy does per execution: the others
        # take their server defaults. (Selects and updates ignore ``column_keys``.)
        compiled = self._statement.compile(dialect=dialect, column_keys=sorted(key[1]))
        assert isinstance(compiled, SQLCompiler)
        names = tuple(compiled.positiontup or ())
        binds = [compiled.binds[name] for name in names]
        self._compiled[key] = found = _Compiled(
            str(compiled),
            names,
            tuple(_UNSET if b.required else b.value for b in binds),
            tuple(b.type.dialect_impl(dialect).bind_processor(dialect) for b in binds),
        )
        return found


def _value(
    params: Mapping[str, Any],
    name: str,
    default: Any,
    process: Callable[[Any], Any] | None,
) -> Any:
    value = params.get(name, default)
    if value is _UNSET:
        raise KeyError(f"no value for bind parameter {name!r}")
    return value if process is None or value is None else process(value)


def _raise_as_sqlalchemy(
    adapted: Any, dialect: Dialect, sql: str, values: list[Any], error: Exception
) -> NoReturn:
    """Raise ``error`` as ``conn.execute`` would have: SQLAlchemy's asyncpg adapter translates
    it to its DBAPI exception (SQLSTATE kept), which SQLAlchemy wraps in a ``DBAPIError``."""
    dbapi_error: type[Exception] = dialect.loaded_dbapi.Error
    try:
        adapted._handle_exception(error)
    except dbapi_error as translated:
        raise DBAPIError.instance(sql, values, translated, dbapi_error) from error
    raise error  # pragma: no cover  # the adapter always raises


__all__ = ["Prepared", "Row"]
