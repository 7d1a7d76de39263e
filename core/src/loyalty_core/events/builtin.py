"""The built-in event types: ``purchase`` and ``refund``. Money is an integer in the
currency's minor unit (1999 EUR means 19.99 EUR); never a float."""

from __future__ import annotations

from typing import Any

_ITEM: dict[str, Any] = {
    "type": "object",
    "required": ["sku", "quantity", "unitPrice"],
    "additionalProperties": False,
    "properties": {
        "sku": {"type": "string", "minLength": 1, "maxLength": 64},
        "name": {"type": "string", "maxLength": 200},
        "category": {"type": "string", "maxLength": 64},
        "quantity": {"type": "integer", "minimum": 1, "maximum": 100000},
        "unitPrice": {"type": "integer", "minimum": 0},
    },
}

_MONEY: dict[str, Any] = {
    "amount": {"type": "integer", "minimum": 1, "maximum": 10**12},
    # The length, besides the pattern: Python's ``$`` also matches before a final newline.
    "currency": {"type": "string", "minLength": 3, "maxLength": 3, "pattern": "^[A-Z]{3}$"},
    "store": {"type": "string", "minLength": 1, "maxLength": 64},
    "items": {"type": "array", "maxItems": 500, "items": _ITEM},
}

PURCHASE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "purchase",
    "type": "object",
    "required": ["amount", "currency"],
    "additionalProperties": False,
    "properties": {
        **_MONEY,
        "orderReference": {"type": "string", "minLength": 1, "maxLength": 200},
    },
}

REFUND_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "refund",
    "type": "object",
    "required": ["amount", "currency", "purchaseExternalId"],
    "additionalProperties": False,
    "properties": {
        **_MONEY,
        "purchaseExternalId": {"type": "string", "minLength": 1, "maxLength": 200},
        "purchaseSource": {"type": "string", "minLength": 1, "maxLength": 64},
    },
}

PURCHASE = "purchase"
REFUND = "refund"
BUILTIN_SCHEMAS: dict[str, dict[str, Any]] = {PURCHASE: PURCHASE_SCHEMA, REFUND: REFUND_SCHEMA}

__all__ = ["BUILTIN_SCHEMAS", "PURCHASE", "PURCHASE_SCHEMA", "REFUND", "REFUND_SCHEMA"]
