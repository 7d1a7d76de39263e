"""How failures reach clients: GraphQL errors with ``extensions.code``, unexpected ones masked.

What a client sees::

    AuthError raised in a resolver     its message, extensions.code UNAUTHENTICATED / FORBIDDEN
    LoyaltyError raised in a resolver  its message, extensions.code (and field)
    a database refusal of a value      as the LoyaltyError it answers (loyalty_core.db.errors)
    GraphQLError raised deliberately   as raised
    syntax error, token limit          extensions.code GRAPHQL_PARSE_FAILED
    size, depth, cost, merge budget    extensions.code QUERY_TOO_COMPLEX
    validation, aliases, operations    extensions.code GRAPHQL_VALIDATION_FAILED
    malformed request, bad variables   extensions.code BAD_REQUEST
    a value no field may take          extensions.code INVALID_INPUT and extensions.field
    the database went away             extensions.code UNAVAILABLE: send the request again
                                       (over HTTP, a 503 with Retry-After when nothing ran)
    anything else                      "internal error", extensions {code INTERNAL, requestId},
                                       logged with its stack and the request id

The request id in the masked error is the one in the log line, so support can find the stack
from what a client reports, and the client never sees internals.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from graphql import ExecutionResult, GraphQLError
from loyalty_core.db.errors import db_answer
from loyalty_core.errors import AuthError, ErrorCode, LoyaltyError, Unavailable
from sqlalchemy.exc import DBAPIError

PARSE_FAILED = ErrorCode.GRAPHQL_PARSE_FAILED.value
VALIDATION_FAILED = ErrorCode.GRAPHQL_VALIDATION_FAILED.value
TOO_COMPLEX = ErrorCode.QUERY_TOO_COMPLEX.value
BAD_REQUEST = ErrorCode.BAD_REQUEST.value
INTERNAL = ErrorCode.INTERNAL.value
INTERNAL_MESSAGE = "internal error"
UNAVAILABLE = ErrorCode.UNAVAILABLE.value
UNAVAILABLE_MESSAGE = (
    "the database is unavailable: send the request again, with the same idempotency keys"
)
RETRY_AFTER_SECONDS = 1
"""What a 503 asks clients to wait: a restarted or failed-over database, or a replaced
connection, is back within seconds, and the gateway reconnects on the next request."""

_SUGGESTION = re.compile(r" Did you mean [^?]*\?")
"""graphql-core's suggestion (``did_you_mean``): names, which hold no question mark."""
_log = logging.getLogger(__name__)


def error(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    """A GraphQL error raised outside execution (transport, credentials)."""
    return {"message": message, "extensions": {"code": code, **extensions}}


def unavailable_reply_body() -> dict[str, Any]:
    """The body of a request refused because the database went away before anything ran."""
    return {"errors": [error(UNAVAILABLE_MESSAGE, UNAVAILABLE)]}


def coded(errors: Iterable[GraphQLError], code: str, *, suggestions: bool) -> list[dict[str, Any]]:
    """Request errors (parse, validation, variables): as graphql-core reports them, with
    ``code`` unless they carry their own (a value no field may take is ``INVALID_INPUT`` with
    its field, whether the gateway refused it or a scalar did through graphql-core).

    Without ``suggestions``, graphql-core's "Did you mean ...?" is cut from the messages: it
    names fields, arguments, types and enum values close to what was sent, which tells a
    stranger the schema piece by piece where introspection is off (so they go together)."""
    formatted = []
    for graphql_error in errors:
        entry: dict[str, Any] = dict(graphql_error.formatted)
        if not suggestions:
            entry["message"] = _SUGGESTION.sub("", entry["message"])
        extensions = {"code": code, **(graphql_error.extensions or {})}
        original = graphql_error.original_error
        if isinstance(original, LoyaltyError) and "field" not in extensions:
            extensions["code"] = original.code.value
            if original.field:
                extensions["field"] = original.field
        entry["extensions"] = extensions
        formatted.append(entry)
    return formatted


def format_errors(errors: Iterable[GraphQLError], *, request_id: str) -> list[dict[str, Any]]:
    """Execution errors for the client: expected failures keep their message and get a code,
    unexpected ones are masked and logged."""
    return [_format(graphql_error, request_id) for graphql_error in errors]


def format_result(result: ExecutionResult, *, request_id: str) -> dict[str, Any]:
    """The response body of an execution result (``data`` always present, per the spec)."""
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = format_errors(result.errors, request_id=request_id)
    if result.extensions:
        body["extensions"] = result.extensions
    return body


def is_request_error(result: ExecutionResult) -> bool:
    """Whether execution never started (unknown operation, variables that do not coerce): such
    errors carry no path, and there is no data. Per the GraphQL-over-HTTP spec that is a 400."""
    errors = result.errors or []
    return result.data is None and bool(errors) and all(e.path is None for e in errors)


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database went away: :class:`Unavailable`, or a group of
    them (the lanes of a batch each lost their connection)."""
    if isinstance(exc, BaseExceptionGroup):
        return exc.split(Unavailable)[1] is None
    return isinstance(exc, Unavailable)


def _format(graphql_error: GraphQLError, request_id: str) -> dict[str, Any]:
    original = graphql_error.original_error
    if original is None or isinstance(original, GraphQLError):
        return dict(graphql_error.formatted)
    if is_unavailable(original):
        _log.warning("the database was unavailable resolving %s", _path(graphql_error))
        return _with(graphql_error, UNAVAILABLE_MESSAGE, {"code": UNAVAILABLE})
    if isinstance(original, AuthError):
        return _with(graphql_error, original.message, {"code": original.code.value})
    if isinstance(original, DBAPIError):
        # The last net: a write that met the database outside run_mutation still answers.
        original = db_answer(original) or original
    if isinstance(original, LoyaltyError):
        extensions: dict[str, Any] = {"code": original.code.value}
        if original.field is not None:
            extensions["field"] = original.field
        return _with(graphql_error, original.message, extensions)
    _log.error(
        "unexpected error resolving %s",
        _path(graphql_error),
        exc_info=(type(original), original, original.__traceback__),
    )
    return _with(graphql_error, INTERNAL_MESSAGE, {"code": INTERNAL, "requestId": request_id})


def _path(graphql_error: GraphQLError) -> str:
    return ".".join(str(p) for p in graphql_error.path or ()) or "the operation"


def _with(graphql_error: GraphQLError, message: str, extensions: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"message": message}
    if graphql_error.locations is not None:
        entry["locations"] = [location.formatted for location in graphql_error.locations]
    if graphql_error.path is not None:
        entry["path"] = graphql_error.path
    entry["extensions"] = extensions
    return entry


__all__ = [
    "BAD_REQUEST",
    "INTERNAL",
    "INTERNAL_MESSAGE",
    "PARSE_FAILED",
    "RETRY_AFTER_SECONDS",
    "TOO_COMPLEX",
    "UNAVAILABLE",
    "UNAVAILABLE_MESSAGE",
    "VALIDATION_FAILED",
    "coded",
    "error",
    "format_errors",
    "format_result",
    "is_request_error",
    "is_unavailable",
    "unavailable_reply_body",
]
