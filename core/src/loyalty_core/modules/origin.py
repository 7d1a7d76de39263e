"""Where a module came from: the distribution that installed it, its version, and how it was
installed (from an index or a wheel into site-packages, or editable from a source tree).

``loyalty modules`` prints it, so "which copy of the module is this process running?" has
an answer without opening site-packages: a stale wheel, an editable checkout or a module a
test loaded by import all look the same from the module's own ``ModuleInfo``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.metadata import Distribution, PackageNotFoundError, distribution
from urllib.parse import unquote, urlparse


@dataclass(frozen=True)
class ModuleOrigin:
    """The distribution behind a module; ``where`` says how it was installed."""

    distribution: str
    version: str
    where: str

    def __str__(self) -> str:
        return f"{self.distribution} {self.version} ({self.where})"


def origin_of(dist: Distribution | None) -> ModuleOrigin | None:
    """The origin recorded by the installer (PEP 610 ``direct_url.json``), None without one."""
    if dist is None:
        return None
    name = dist.metadata["Name"] or "?"
    return ModuleOrigin(name, dist.version, _where(dist))


def origin_of_distribution(name: str) -> ModuleOrigin | None:
    """The origin of the installed distribution ``name`` (the core's own, say)."""
    try:
        return origin_of(distribution(name))
    except PackageNotFoundError:
        return None


def _where(dist: Distribution) -> str:
    direct = dist.read_text("direct_url.json")
    site = str(dist.locate_file(""))
    if direct is None:  # installed from a package index
        return f"site-packages: {site}"
    recorded = json.loads(direct)
    url = str(recorded.get("url", ""))
    path = unquote(urlparse(url).path) if url.startswith("file:") else url
    if recorded.get("dir_info", {}).get("editable"):
        return f"editable: {path}"
    return f"site-packages: {site}, from {path}"


__all__ = ["ModuleOrigin", "origin_of", "origin_of_distribution"]
