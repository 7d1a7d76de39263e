"""The pytest plugin (entry point ``pytest11``): the kit's fixtures, and the asyncio set-up
they need, so a module's test suite needs no configuration of its own.

The database, its engines and the gateway live in the session's event loop (a connection
pool belongs to the loop that opened it), so every test that uses them must run in that loop
too: each coroutine test without an ``asyncio`` marker of its own is marked
``asyncio(loop_scope="session")`` (pytest-asyncio's default would be a loop per test), which
also makes it run in pytest-asyncio's default strict mode. A test that wants another loop
says so with its own marker.
"""

from __future__ import annotations

import inspect
from collections.abc import Generator
from typing import Any

import pytest

from loyalty_testing.database import (
    MODULES_INI,
    database_urls,
    db,
    loyalty_registry,
    member,
    owner_db,
    tenant,
)
from loyalty_testing.gateway import enable_module, make_app, till_key


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        MODULES_INI,
        "import names of modules to load besides the installed ones (not installed yet)",
        type="linelist",
        default=[],
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Generator[None, Any, Any]:
    """Mark coroutine tests for the session's loop before pytest-asyncio collects them."""
    if (
        inspect.iscoroutinefunction(obj)
        and collector.funcnamefilter(name)
        and not any(mark.name == "asyncio" for mark in getattr(obj, "pytestmark", []))
    ):
        pytest.mark.asyncio(loop_scope="session")(obj)
    return (yield)


__all__ = [
    "database_urls",
    "db",
    "enable_module",
    "loyalty_registry",
    "make_app",
    "member",
    "owner_db",
    "tenant",
    "till_key",
]
