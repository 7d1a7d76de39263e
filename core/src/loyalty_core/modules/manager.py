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
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel

from loyalty_core import SDK_VERSION
from loyalty_core.modules import hookspecs
from loyalty_core.modules.contributions import ModuleContributions, ModuleInfo
from loyalty_core.modules.origin import ModuleOrigin, origin_of, origin_of_distribution

ENTRY_POINT_GROUP = "loyalty.modules"
CORE_MODULE = "core"
CORE_DIST = "loyalty-core"

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
    "loyalty_demo": ("demo", False),
    "loyalty_hookspecs": ("hookspecs", False),
}


@dataclass(frozen=True)
class ModuleFailure:
    """A module that did not load, and why (shown by ``loyalty modules`` and the API)."""

    name: str
    reason: str


@dataclass(eq=False)
class ModuleRegistry:
    """The modules this process runs: the core first, then every module that loaded.

    Compared and hashed by identity: what is composed from a registry (schemas) is kept by
    the registry it came from, and a registry is complete once built.
    """

    modules: dict[str, ModuleContributions] = field(default_factory=dict)
    failures: list[ModuleFailure] = field(default_factory=list)

    def get(self, name: str) -> ModuleContributions | None:
        return self.modules.get(name)

    @property
    def optional(self) -> list[ModuleContributions]:
        """Installed modules a tenant may enable (all but the core), by name."""
        return [m for name, m in sorted(self.modules.items()) if name != CORE_MODULE]

    def extensions(self, hook_name: str, enabled: Iterable[str]) -> list[tuple[str, Any]]:
        """What the core and the ``enabled`` modules declared through ``hook_name``, a hook
        some module defines (``loyalty_hookspecs``): (module name, declaration), by name."""
        names = {CORE_MODULE, *enabled}
        return [
            (name, module.extensions[hook_name])
            for name, module in sorted(self.modules.items())
            if name in names and hook_name in module.extensions
        ]

    def installed_extensions(self, hook_name: str) -> list[tuple[str, Any]]:
        """Like :meth:`extensions`, for every installed module (enabled or not)."""
        return self.extensions(hook_name, self.modules)


def build_registry(
    *, plugins: Iterable[object] = (), load_entry_points: bool = True
) -> ModuleRegistry:
    """Load the core plugin, the installed modules and any ``plugins`` given (tests)."""
    import loyalty_core.graphql.plugin as core_plugin

    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    registry = ModuleRegistry()
    candidates: list[tuple[str, object]] = [(CORE_MODULE, core_plugin)]
    origins: dict[int, ModuleOrigin | None] = {id(core_plugin): origin_of_distribution(CORE_DIST)}
    if load_entry_points:
        candidates += _entry_point_plugins(registry, origins)
    candidates += [(getattr(p, "__name__", repr(p)), p) for p in plugins]
    # Two passes: every module's own hookspecs are known before any module is checked, so
    # a module may implement a hook that a module loaded after it defines.
    registered: list[tuple[str, object]] = []
    for label, plugin in candidates:
        try:
            manager.register(plugin)
        except Exception as exc:
            _log.exception("module %s failed to register", label)
            registry.failures.append(ModuleFailure(label, f"{type(exc).__name__}: {exc}"))
            continue
        registered.append((label, plugin))
    extension_hooks = _add_module_hookspecs(manager, registered, registry)
    for label, plugin in registered:
        try:
            contributions = _collect(manager, plugin, extension_hooks)
            contributions.origin = origins.get(id(plugin))
        except Exception as exc:
            _log.exception("module %s failed to load", label)
            registry.failures.append(ModuleFailure(label, f"{type(exc).__name__}: {exc}"))
            manager.unregister(plugin)
            continue
        name = contributions.info.name
        if name in registry.modules:
            registry.failures.append(ModuleFailure(name, "another module has the same name"))
            manager.unregister(plugin)
            continue
        registry.modules[name] = contributions
    _drop_unmet_requirements(registry)
    return registry


def _entry_point_plugins(
    registry: ModuleRegistry, origins: dict[int, ModuleOrigin | None]
) -> list[tuple[str, object]]:
    """Every module an installed distribution declares; ``origins`` learns their distributions."""
    found: list[tuple[str, object]] = []
    for entry_point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            plugin = entry_point.load()
            found.append((entry_point.name, plugin))
            origins[id(plugin)] = origin_of(getattr(entry_point, "dist", None))
        except Exception as exc:
            _log.exception("module %s failed to import", entry_point.name)
            registry.failures.append(
                ModuleFailure(entry_point.name, f"import failed: {type(exc).__name__}: {exc}")
            )
    return found


def _add_module_hookspecs(
    manager: pluggy.PluginManager, registered: list[tuple[str, object]], registry: ModuleRegistry
) -> set[str]:
    """Add the hookspecs modules define; the names of those hooks. A module whose hookspecs
    cannot be added is left out (``registered`` loses it) and reported."""
    names: set[str] = set()
    for label, plugin in list(registered):
        try:
            namespace = _call(manager, plugin, "loyalty_hookspecs")
            if namespace is None:
                continue
            manager.add_hookspecs(namespace)
        except Exception as exc:
            _log.exception("module %s failed to add its hookspecs", label)
            registry.failures.append(ModuleFailure(label, f"{type(exc).__name__}: {exc}"))
            manager.unregister(plugin)
            registered.remove((label, plugin))
            continue
        names |= {
            name
            for name in dir(namespace)
            if name.startswith(f"{hookspecs.PROJECT}_")
            and manager.parse_hookspec_opts(namespace, name) is not None
        }
    return names


def _check_hooks(manager: pluggy.PluginManager, plugin: object) -> None:
    """Every hook the plugin implements must be specified: a misspelled hook is an error.
    Hooks of other modules are marked ``@hookimpl(optionalhook=True)``: without the module
    that defines them (not installed, or failed to load) they are simply never called."""
    for caller in manager.get_hookcallers(plugin) or []:
        optional = all(
            impl.optionalhook for impl in caller.get_hookimpls() if impl.plugin is plugin
        )
        if not caller.has_spec() and not optional:
            raise pluggy.PluginValidationError(
                plugin, f"unknown hook {caller.name!r} in plugin {plugin!r}"
            )


def _collect(
    manager: pluggy.PluginManager, plugin: object, extension_hooks: set[str]
) -> ModuleContributions:
    _check_hooks(manager, plugin)
    info = _call(manager, plugin, "loyalty_module")
    if not isinstance(info, ModuleInfo):
        raise TypeError("loyalty_module() must return a ModuleInfo")
    refusal = sdk_refusal(info.sdk_version)
    if refusal is not None:
        raise RuntimeError(refusal)
    if not (isinstance(info.settings_model, type) and issubclass(info.settings_model, BaseModel)):
        raise TypeError("settings_model must be a pydantic BaseModel subclass")
    contributions = ModuleContributions(info=info)
    for hook_name, (attribute, is_list) in _COLLECTED.items():
        result = _call(manager, plugin, hook_name)
        if result is None:
            continue
        setattr(contributions, attribute, list(result) if is_list else result)
    for hook_name in sorted(extension_hooks):
        result = _call(manager, plugin, hook_name)
        if result is not None:
            contributions.extensions[hook_name] = result
    return contributions


def sdk_range(declared: str | int) -> SpecifierSet:
    """The SDK versions a module supports, from its ``ModuleInfo.sdk_version``."""
    if isinstance(declared, int):
        return SpecifierSet(f">={declared},<{declared + 1}")
    text = declared.strip()
    if text[:1].isdigit():  # a bare version: the one it was built against, or a later minor
        version = Version(text)
        return SpecifierSet(f">={version},<{version.major + 1}")
    return SpecifierSet(text)


def sdk_refusal(declared: str | int, offered: str = SDK_VERSION) -> str | None:
    """Why a module declaring ``declared`` cannot load on SDK ``offered``; None when it can."""
    try:
        supported = sdk_range(declared)
    except (InvalidSpecifier, InvalidVersion):
        return f"sdk_version {declared!r} is neither a version nor a version range (PEP 440)"
    if supported.contains(offered, prereleases=True):
        return None
    shown = declared if isinstance(declared, str) else str(supported)
    return f"built for SDK {shown}, this core offers SDK {offered}"


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


__all__ = [
    "CORE_MODULE",
    "ENTRY_POINT_GROUP",
    "ModuleFailure",
    "ModuleRegistry",
    "build_registry",
    "sdk_range",
    "sdk_refusal",
]
