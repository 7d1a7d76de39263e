"""Discovering modules: pluggy loads every entry point of group ``loyalty.modules``, checks
each against the hookspecs, and gathers its declarations into a :class:`ModuleRegistry`.

A module that cannot load (its import raises, a hook is misspelled, its SDK version or
settings model is wrong, a module it requires is missing) is left out and reported with the
reason; the others load. The factory keeps no global state, so tests build their own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import pluggy
from pydantic import BaseModel

from loyalty_core import SDK_VERSION
from loyalty_core.modules import hookspecs
from loyalty_core.modules.contributions import ModuleContributions, ModuleInfo

ENTRY_POINT_GROUP = "loyalty.modules"
CORE_MODULE = "core"

_log = logging.getLogger(__name__)

# hook name -> attribute of ModuleContributions, and whether the hook returns a list
_COLLECTED: dict[str, tuple[str, bool]] = {
    "loyalty_migrations": ("migrations", False),
    "loyalty_schema": ("schema", False),
    "loyalty_type_extensions": ("type_extensions", True),
    "loyalty_event_types": ("event_types", True),
    "loyalty_rule_effects": ("rule_effects", True),
    "loyalty_rule_conditions": ("rule_conditions", True),
    "loyalty_event_handlers": ("event_handlers", True),
    "loyalty_routes": ("routes", True),
    "loyalty_jobs": ("jobs", True),
    "loyalty_tenant_enabled": ("provisioning", False),
    "loyalty_member_data": ("member_data", False),
}


@dataclass(frozen=True)
class ModuleFailure:
    """A module that did not load, and why (shown by ``loyalty modules`` and the API)."""

    name: str
    reason: str


@dataclass
class ModuleRegistry:
    """The modules this process runs: the core first, then every module that loaded."""

    modules: dict[str, ModuleContributions] = field(default_factory=dict)
    failures: list[ModuleFailure] = field(default_factory=list)

    def get(self, name: str) -> ModuleContributions | None:
        return self.modules.get(name)

    @property
    def optional(self) -> list[ModuleContributions]:
        """Installed modules a tenant may enable (all but the core), by name."""
        return [m for name, m in sorted(self.modules.items()) if name != CORE_MODULE]


def build_registry(
    *, plugins: Iterable[object] = (), load_entry_points: bool = True
) -> ModuleRegistry:
    """Load the core plugin, the installed modules and any ``plugins`` given (tests)."""
    import loyalty_core.graphql.plugin as core_plugin

    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    registry = ModuleRegistry()
    candidates: list[tuple[str, object]] = [(CORE_MODULE, core_plugin)]
    if load_entry_points:
        candidates += _entry_point_plugins(registry)
    candidates += [(getattr(p, "__name__", repr(p)), p) for p in plugins]
    for label, plugin in candidates:
        try:
            contributions = _load(manager, plugin)
        except Exception as exc:
            _log.exception("module %s failed to load", label)
            registry.failures.append(ModuleFailure(label, f"{type(exc).__name__}: {exc}"))
            continue
        name = contributions.info.name
        if name in registry.modules:
            registry.failures.append(ModuleFailure(name, "another module has the same name"))
            manager.unregister(plugin)
            continue
        registry.modules[name] = contributions
    _drop_unmet_requirements(registry)
    return registry


def _entry_point_plugins(registry: ModuleRegistry) -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for entry_point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            found.append((entry_point.name, entry_point.load()))
        except Exception as exc:
            _log.exception("module %s failed to import", entry_point.name)
            registry.failures.append(
                ModuleFailure(entry_point.name, f"import failed: {type(exc).__name__}: {exc}")
            )
    return found


def _load(manager: pluggy.PluginManager, plugin: object) -> ModuleContributions:
    manager.register(plugin)
    try:
        manager.check_pending()
        return _collect(manager, plugin)
    except Exception:
        manager.unregister(plugin)
        raise


def _collect(manager: pluggy.PluginManager, plugin: object) -> ModuleContributions:
    info = _call(manager, plugin, "loyalty_module")
    if not isinstance(info, ModuleInfo):
        raise TypeError("loyalty_module() must return a ModuleInfo")
    if info.sdk_version != SDK_VERSION:
        raise RuntimeError(f"built for SDK {info.sdk_version}, this core offers {SDK_VERSION}")
    if not (isinstance(info.settings_model, type) and issubclass(info.settings_model, BaseModel)):
        raise TypeError("settings_model must be a pydantic BaseModel subclass")
    contributions = ModuleContributions(info=info)
    for hook_name, (attribute, is_list) in _COLLECTED.items():
        result = _call(manager, plugin, hook_name)
        if result is None:
            continue
        setattr(contributions, attribute, list(result) if is_list else result)
    return contributions


def _call(manager: pluggy.PluginManager, plugin: object, hook_name: str) -> Any:
    """Call one plugin's implementation of a hook (None when it has none): contributions
    are attributed to the module that made them, whatever the load order."""
    caller = getattr(manager.hook, hook_name)
    for impl in caller.get_hookimpls():
        if impl.plugin is plugin:
            return impl.function()
    return None


def _drop_unmet_requirements(registry: ModuleRegistry) -> None:
    changed = True
    while changed:
        changed = False
        for name, module in list(registry.modules.items()):
            missing = [r for r in module.info.requires if r not in registry.modules]
            if missing:
                del registry.modules[name]
                registry.failures.append(
                    ModuleFailure(name, f"requires missing module(s): {', '.join(missing)}")
                )
                changed = True


__all__ = ["CORE_MODULE", "ENTRY_POINT_GROUP", "ModuleFailure", "ModuleRegistry", "build_registry"]
