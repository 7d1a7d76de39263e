"""A module declares the SDK versions it supports; a core outside that range refuses it at
load, naming both, and loads every other module."""

from __future__ import annotations

from types import ModuleType

import pytest
from loyalty_core import SDK_VERSION
from loyalty_core.modules.manager import build_registry, sdk_refusal
from loyalty_core.sdk import ModuleInfo, hookimpl
from packaging.version import Version


def _module(name: str, sdk_version: str | int) -> ModuleType:
    """A module with only ``loyalty_module()``, declaring ``sdk_version``."""
    module = ModuleType(f"loyalty_{name}")

    @hookimpl
    def loyalty_module() -> ModuleInfo:
        return ModuleInfo(name=name, version="1", description="t", sdk_version=sdk_version)

    module.loyalty_module = loyalty_module  # type: ignore[attr-defined]
    return module


def test_the_sdk_version_is_major_dot_minor() -> None:
    assert len(Version(SDK_VERSION).release) == 2


@pytest.mark.parametrize(
    ("declared", "offered"),
    [
        (">=1.1,<2", "1.1"),
        (">=1.1,<2", "1.9"),
        ("1.1", "1.4"),  # a bare version: built against it, later minors only add
        (1, "1.7"),  # the old int form: any minor of that major
        ("~=1.0", "1.3"),
    ],
)
def test_a_core_inside_the_declared_range_loads_the_module(
    declared: str | int, offered: str
) -> None:
    assert sdk_refusal(declared, offered) is None


@pytest.mark.parametrize(
    ("declared", "offered"),
    [
        (">=1.1,<2", "2.0"),  # a major release breaks
        (">=1.2,<2", "1.1"),  # needs what a later minor added
        ("1.2", "1.1"),
        (2, "1.1"),
    ],
)
def test_a_core_outside_the_declared_range_names_both_versions(
    declared: str | int, offered: str
) -> None:
    refusal = sdk_refusal(declared, offered)
    assert refusal is not None
    assert f"this core offers SDK {offered}" in refusal
    assert str(declared).lstrip(">=~") in refusal


def test_a_module_for_another_sdk_is_refused_at_load_and_the_others_load() -> None:
    future = _module("future", ">=2,<3")
    current = _module("current", f">={SDK_VERSION},<{Version(SDK_VERSION).major + 1}")
    registry = build_registry(plugins=[future, current], load_entry_points=False)
    assert "current" in registry.modules
    assert "future" not in registry.modules
    [failure] = registry.failures
    assert (
        failure.reason == f"RuntimeError: built for SDK >=2,<3, this core offers SDK {SDK_VERSION}"
    )


def test_an_unreadable_range_is_refused_with_the_reason() -> None:
    registry = build_registry(plugins=[_module("typo", "one point one")], load_entry_points=False)
    [failure] = registry.failures
    assert "neither a version nor a version range" in failure.reason
