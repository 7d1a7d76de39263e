"""How failures reach clients: GraphQL errors with ``extensions.code``, unexpected ones masked.

What a client sees::

    AuthError raised in a resolver       its message, extensions.code UNAUTHENTICATED / FORBIDDEN
    LoyaltyError raised in a resolver    its message, extensions.code (and field)
    database refusal of a caller's value as the LoyaltyError it answers (loyalty_core.db.errors)
    GraphQLError raised deliberately     as raised
    syntax error, token limit            extensions.code GRAPHQL_PARSE_FAILED
    validation, our limits               extensions.code GRAPHQL_VALIDATION_FAILED
    malformed request, bad variables     extensions.code BAD_REQUEST
    anything else                        "internal error", extensions {code INTERNAL, requestId},
                                         logged with its stack and the request id

The request id in the masked error is the one in the log line, so support can find the stack
from what a client reports, and the client never sees internals.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from graphql import ExecutionResult, GraphQLError
from loyalty_core.db.errors import db_answer
from loyalty_core.errors import AuthError, ErrorCode, LoyaltyError
from sqlalchemy.exc import DBAPIError

PARSE_FAILED = ErrorCode.GRAPHQL_PARSE_FAILED.value
VALIDATION_FAILED = ErrorCode.GRAPHQL_VALIDATION_FAILED.value
BAD_REQUEST = ErrorCode.BAD_REQUEST.value
INTERNAL = ErrorCode.INTERNAL.value
INTERNAL_MESSAGE = "internal error"

_log = logging.getLogger(__name__)


def error(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    """A GraphQL error raised outside execution (transport, credentials)."""
    return {"message": message, "extensions": {"code": code, **extensions}}


def coded(errors: Iterable[GraphQLError], code: str) -> list[dict[str, Any]]:
    """Request errors (parse, validation, variables): as graphql-core reports them, with a code."""
    formatted = []
    for graphql_error in errors:
        entry: dict[str, Any] = dict(graphql_error.formatted)
        entry["extensions"] = {**(graphql_error.extensions or {}), "code": code}
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


def _format(graphql_error: GraphQLError, request_id: str) -> dict[str, Any]:
    original = graphql_error.original_error
    if original is None or isinstance(original, GraphQLError):
        return dict(graphql_error.formatted)
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
        ".".join(str(p) for p in graphql_error.path or ()) or "the operation",
        exc_info=(type(original), original, original.__traceback__),
    )
    return _with(graphql_error, INTERNAL_MESSAGE, {"code": INTERNAL, "requestId": request_id})


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
    "VALIDATION_FAILED",
    "coded",
    "error",
    "format_errors",
    "format_result",
    "is_request_error",
]
