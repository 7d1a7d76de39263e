"""Ids: what ``new_id`` builds is an ordinary UUIDv7 in every way the code relies on."""

from __future__ import annotations

import copy
import uuid

import orjson
from loyalty_core.ids import json_default, new_id, parse_id


def test_new_ids_are_ordinary_time_ordered_uuid7s() -> None:
    ids = [new_id() for _ in range(1000)]
    first = ids[0]
    assert isinstance(first, uuid.UUID)
    assert first.version == 7
    assert first.variant == uuid.RFC_4122
    assert first == uuid.UUID(str(first)) == parse_id(str(first))
    assert hash(first) == hash(uuid.UUID(bytes=first.bytes))
    assert orjson.dumps(first, default=json_default) == f'"{first}"'.encode()
    assert orjson.dumps(uuid.UUID(str(first))) == f'"{first}"'.encode()
    assert copy.deepcopy(first) == first
    assert len(set(ids)) == 1000
    assert [i.bytes[:6] for i in ids] == sorted(i.bytes[:6] for i in ids)  # by millisecond
    assert first < uuid.UUID(int=first.int + 1)
    assert str(first) == str(uuid.UUID(int=first.int))
