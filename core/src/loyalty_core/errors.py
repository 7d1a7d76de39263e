"""Errors of the loyalty domain, each with a machine-readable code.

Hierarchy::

    LoyaltyError                 expected failure: returned as data in a payload's `errors`
    ├── ValidationFailed         INVALID_INPUT and friends: bad input, nothing written
    ├── NotFound                 NOT_FOUND: absent, or another tenant's (never FORBIDDEN)
    ├── Conflict                 IDEMPOTENCY_CONFLICT, DUPLICATE_IDENTIFIER, ...
    └── InsufficientFunds        INSUFFICIENT_BALANCE
    AuthError                    raised as a GraphQL error with extensions.code
    ├── Unauthenticated          UNAUTHENTICATED
    └── Forbidden                FORBIDDEN
    Unavailable                  UNAVAILABLE: the database went away; the same request may
                                 be sent again (idempotency keys make that safe)

A service raises; the GraphQL layer turns a ``LoyaltyError`` into a payload error after the
transaction rolled back, so bad input never leaves a partial write.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Every code a client may see in a payload's ``errors`` or in ``extensions.code``."""

    INVALID_INPUT = "INVALID_INPUT"
    NOT_FOUND = "NOT_FOUND"
    UNKNOWN_EVENT_TYPE = "UNKNOWN_EVENT_TYPE"
    SCHEMA_VIOLATION = "SCHEMA_VIOLATION"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    DUPLICATE_IDENTIFIER = "DUPLICATE_IDENTIFIER"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    ASSET_NOT_SPENDABLE = "ASSET_NOT_SPENDABLE"
    REFUND_EXCEEDS_PURCHASE = "REFUND_EXCEEDS_PURCHASE"
    MEMBER_NOT_ACTIVE = "MEMBER_NOT_ACTIVE"
    VERIFICATION_FAILED = "VERIFICATION_FAILED"
    VERIFICATION_EXPIRED = "VERIFICATION_EXPIRED"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    SESSIONS_NOT_CONFIGURED = "SESSIONS_NOT_CONFIGURED"
    SELF_REFERRAL = "SELF_REFERRAL"
    REFERRAL_CAP_REACHED = "REFERRAL_CAP_REACHED"
    UNDER_REVIEW = "UNDER_REVIEW"
    MODULE_NOT_INSTALLED = "MODULE_NOT_INSTALLED"
    MODULE_NOT_ENABLED = "MODULE_NOT_ENABLED"
    INVALID_SETTINGS = "INVALID_SETTINGS"
    GIFT_CARD_LOCKED = "GIFT_CARD_LOCKED"
    GIFT_CARD_NOT_ACTIVE = "GIFT_CARD_NOT_ACTIVE"
    VALUE_HELD = "VALUE_HELD"
    UNKNOWN_TENDER = "UNKNOWN_TENDER"
    PAYMENT_EXPIRED = "PAYMENT_EXPIRED"
    INVALID_PAYMENT_STATE = "INVALID_PAYMENT_STATE"
    REFUND_EXCEEDS_CAPTURE = "REFUND_EXCEEDS_CAPTURE"
    PAYMENT_ALREADY_USED = "PAYMENT_ALREADY_USED"
    PARTNER_NOT_ACTIVE = "PARTNER_NOT_ACTIVE"
    PARTNER_ROLE_MISSING = "PARTNER_ROLE_MISSING"
    RATE_CARD_MISSING = "RATE_CARD_MISSING"
    POINT_BLOCKS_EXHAUSTED = "POINT_BLOCKS_EXHAUSTED"
    CREDIT_LIMIT_EXCEEDED = "CREDIT_LIMIT_EXCEEDED"
    PERIOD_NOT_ENDED = "PERIOD_NOT_ENDED"
    PERIOD_CLOSED = "PERIOD_CLOSED"
    NO_TIER_LADDER = "NO_TIER_LADDER"
    REWARD_UNAVAILABLE = "REWARD_UNAVAILABLE"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    REWARD_LIMIT_REACHED = "REWARD_LIMIT_REACHED"
    CANCEL_WINDOW_CLOSED = "CANCEL_WINDOW_CLOSED"
    INVALID_FULFILMENT_STATE = "INVALID_FULFILMENT_STATE"
    VOUCHER_LOCKED = "VOUCHER_LOCKED"
    VOUCHER_NOT_USABLE = "VOUCHER_NOT_USABLE"
    VOUCHER_RESERVED = "VOUCHER_RESERVED"
    INVALID_CONDITION = "INVALID_CONDITION"
    UNKNOWN_EFFECT = "UNKNOWN_EFFECT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    BAD_REQUEST = "BAD_REQUEST"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    INTERNAL = "INTERNAL"
    UNAVAILABLE = "UNAVAILABLE"


class LoyaltyError(Exception):
    """An expected failure: reported to the client as data, with a code and the field at fault.
    ``line`` and ``column`` (1-based) point into the field's text when the problem has a
    place in it (a condition that does not compile, or names an unknown field)."""

    code: ErrorCode = ErrorCode.INVALID_INPUT

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode | None = None,
        field: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.line = line
        self.column = column
        if code is not None:
            self.code = code


class ValidationFailed(LoyaltyError):
    """Bad input (INVALID_INPUT): nothing was written."""

    code = ErrorCode.INVALID_INPUT


class NotFound(LoyaltyError):
    """Absent, or another tenant's (NOT_FOUND): ids leak nothing, so never FORBIDDEN."""

    code = ErrorCode.NOT_FOUND


class Conflict(LoyaltyError):
    """The request clashes with what exists: an idempotency key reused with another payload."""

    code = ErrorCode.IDEMPOTENCY_CONFLICT


class InsufficientFunds(LoyaltyError):
    """A debit larger than what is available (INSUFFICIENT_BALANCE)."""

    code = ErrorCode.INSUFFICIENT_BALANCE


class AuthError(Exception):
    """Authentication or authorization failed: a GraphQL error, not payload data."""

    code: ErrorCode = ErrorCode.UNAUTHENTICATED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthenticated(AuthError):
    """No credential, or one that does not verify (UNAUTHENTICATED)."""

    code = ErrorCode.UNAUTHENTICATED


class Forbidden(AuthError):
    """The caller is known but may not do this (FORBIDDEN)."""

    code = ErrorCode.FORBIDDEN


class Unavailable(Exception):
    """The database could not be reached, or its connection was lost during the unit of
    work: nothing of it was written, or (a commit cut off) all of it, and nobody can tell
    which. Not the caller's fault and not a bug: the same request, with the same idempotency
    keys, either writes once or replays what was written."""

    code = ErrorCode.UNAVAILABLE


__all__ = [
    "AuthError",
    "Conflict",
    "ErrorCode",
    "Forbidden",
    "InsufficientFunds",
    "LoyaltyError",
    "NotFound",
    "Unauthenticated",
    "Unavailable",
    "ValidationFailed",
]
