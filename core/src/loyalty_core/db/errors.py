"""What PostgreSQL refused because of what a caller sent, as the answer the caller gets.

A service checks its input before it writes, and a constraint is the wall behind it: an id
of another tenant or of nothing at all that reaches an insert is refused by a foreign key,
a value past a column's range by the column. Such a refusal is an answer, not an internal
error, whichever module's write met it, so the translation lives here, once, and is applied
where writes meet callers: :meth:`RequestContext.write` (every mutation run through
``run_mutation``, event ingestion), the gateway's error formatting as the last net, and any
module that opens its own transaction (``loyalty_core.sdk.db_answers``).

=========  ==========================  ====================================================
SQLSTATE   condition                   answer
=========  ==========================  ====================================================
23503      foreign_key_violation       NOT_FOUND on the field the key's column is sent as
                                       (a row that refers to nothing; not a delete of a
                                       row still referred to, which is a fault)
23505      unique_violation            ALREADY_EXISTS on the constraint's column
23514      check_violation             INVALID_INPUT
22001      string_data_right_trunc.    INVALID_INPUT (a value longer than its column)
22003      numeric_value_out_of_range  INVALID_INPUT
22007/8    datetime format / overflow  INVALID_INPUT
22021      character_not_in_repertoire INVALID_INPUT (a NUL or invalid byte sequence)
22P02      invalid_text_representation INVALID_INPUT
22P05      untranslatable_character    INVALID_INPUT
=========  ==========================  ====================================================

Every other database error stays what it is: a fault, masked as ``internal error``.
Serialisation failures and deadlocks (40001, 40P01) are retried by the writers that expect
them, never answered.

The field comes from the constraint: its name (the metadata's naming convention, which the
migrations follow) is looked up in the one ``MetaData`` that the core's and every module's
tables share, and its first column after ``tenant_id`` becomes the camelCase field
(``member_id`` -> ``memberId``). PostgreSQL's own detail names no key when row-level security
is on (it would leak rows), so the constraint is all there is to go by.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from types import TracebackType

from sqlalchemy import ForeignKeyConstraint, UniqueConstraint
from sqlalchemy.exc import DBAPIError

from loyalty_core.db.metadata import metadata
from loyalty_core.errors import ErrorCode, LoyaltyError, NotFound, ValidationFailed

FOREIGN_KEY_VIOLATION = "23503"
UNIQUE_VIOLATION = "23505"
CHECK_VIOLATION = "23514"

INVALID_VALUES: dict[str, str] = {
    "22001": "a value is longer than allowed",
    "22003": "a number is out of range",
    "22007": "a date or time is not valid",
    "22008": "a date or time is out of range",
    "22021": "a text contains a character that cannot be stored (NUL or invalid bytes)",
    "22P02": "a value is not of the expected form",
    "22P05": "a text contains a character that cannot be stored",
    CHECK_VIOLATION: "a value is outside what is allowed",
}


def db_answer(error: DBAPIError) -> LoyaltyError | None:
    """The answer to a caller whose write the database refused, or None for a fault."""
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate == FOREIGN_KEY_VIOLATION:
        # Only a row that refers to nothing is the caller's; deleting a row still referred
        # to ("update or delete on table ...") is a service that forgot to check: a fault.
        if not str(_driver_error(error)).startswith("insert or update on table"):
            return None
        return NotFound("not found", field=_field(error))
    if sqlstate == UNIQUE_VIOLATION:
        return LoyaltyError("already exists", code=ErrorCode.ALREADY_EXISTS, field=_field(error))
    if sqlstate in INVALID_VALUES:
        return ValidationFailed(INVALID_VALUES[sqlstate], field=_field(error))
    return None


def db_answers() -> DbAnswers:
    """A context manager that raises the database's refusals inside its block as the
    :class:`LoyaltyError` they answer (:func:`db_answer`); faults pass unchanged."""
    return _ANSWERS


class DbAnswers(AbstractContextManager[None]):
    """:func:`db_answers`: a plain class, not a generator-based manager, which costs a few
    microseconds to enter."""

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if isinstance(error, DBAPIError):
            answer = db_answer(error)
            if answer is not None:
                raise answer from error


_ANSWERS = DbAnswers()


def _field(error: DBAPIError) -> str | None:
    """The field of the constraint the error names, if a table of the metadata has it."""
    name = getattr(_driver_error(error), "constraint_name", None)
    if not name:
        return None
    for table in metadata.tables.values():
        for constraint in table.constraints:
            if constraint.name == name and isinstance(
                constraint, ForeignKeyConstraint | UniqueConstraint
            ):
                columns = [c.name for c in constraint.columns if c.name != "tenant_id"]
                return _camel(columns[0]) if columns else None
    return None


def _driver_error(error: DBAPIError) -> BaseException | None:
    """asyncpg's own exception (with the server's message and constraint name), which
    SQLAlchemy's adapter raised its DBAPI error from."""
    return getattr(error.orig, "__cause__", None)


def _camel(column: str) -> str:
    head, *rest = column.split("_")
    return head + "".join(part.title() for part in rest)


__all__ = ["DbAnswers", "db_answer", "db_answers"]
