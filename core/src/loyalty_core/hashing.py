"""Fingerprints of requests, for idempotency: same key and same fingerprint is a replay."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson


def fingerprint(payload: Any) -> str:
    """SHA-256 of the canonical JSON of ``payload``: keys sorted, UUIDs and times as strings
    (driver types such as asyncpg's UUID included, through ``str``)."""
    data = orjson.dumps(payload, default=str, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.sha256(data).hexdigest()


__all__ = ["fingerprint"]
