"""``loyalty module new NAME``: write a module distribution that works as generated.

The templates (``template/``, shipped as package data) are a small but complete module: a
settings model, a table with its Alembic migration (its own branch, depending on the core's
head today) secured by tenant, a query field, a field on ``Member``, an admin mutation, an
in-transaction handler of ``event.ingested``, and a test through the real gateway with the
test kit. A module author starts from code that passes its tests and changes it, instead of
assembling the hooks from the guide. ``string.Template`` fills them in: ``$$`` is a dollar
sign (GraphQL variables), so Python and GraphQL in the templates read as they will be.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Collection, Iterator
from importlib import resources
from importlib.abc import Traversable
from importlib.metadata import entry_points
from pathlib import Path
from string import Template

from loyalty_core import SDK_VERSION
from loyalty_core.modules.manager import CORE_MODULE, ENTRY_POINT_GROUP

NAME = re.compile(r"[a-z][a-z0-9_]{0,29}")
TEMPLATE_SUFFIX = ".tmpl"


class ScaffoldError(ValueError):
    """The module cannot be written as asked (a bad or taken name, a non-empty directory)."""


def new_module(name: str, directory: Path | None = None) -> Path:
    """Write module ``name`` into ``directory`` (default ``./loyalty-<name>``); its path."""
    check_name(name, installed_modules())
    values = template_values(name)
    target = directory if directory is not None else Path(values["distribution"])
    if target.exists() and any(target.iterdir()):
        raise ScaffoldError(f"{target} exists and is not empty")
    for relative, template in _templates(resources.files(__name__) / "template", ()):
        path = target.joinpath(*(_fill_path(part, values) for part in relative))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(template.read_text()).substitute(values))
    return target


def check_name(name: str, installed: Collection[str]) -> None:
    """A module name is a lowercase identifier, the core's and installed modules' excepted."""
    if not NAME.fullmatch(name) or keyword.iskeyword(name) or name.endswith("_"):
        raise ScaffoldError(
            f"{name!r} is not a module name: a lowercase letter, then up to 29 lowercase "
            "letters, digits or underscores (it prefixes the tables, the package is loyalty_NAME)"
        )
    if name == CORE_MODULE:
        raise ScaffoldError("'core' is the core's own name")
    if name in installed:
        raise ScaffoldError(f"a module named {name!r} is already installed")


def installed_modules() -> set[str]:
    """Names of the installed modules' entry points (their modules are not imported)."""
    return {entry_point.name for entry_point in entry_points(group=ENTRY_POINT_GROUP)}


def template_values(name: str) -> dict[str, str]:
    words = name.split("_")
    major = SDK_VERSION.split(".", 1)[0]
    return {
        "name": name,
        "package": f"loyalty_{name}",
        "distribution": f"loyalty-{name.replace('_', '-')}",
        "camel": words[0] + "".join(word.capitalize() for word in words[1:]),
        "pascal": "".join(word.capitalize() for word in words),
        "sdk_range": f">={SDK_VERSION},<{int(major) + 1}",
        "core_head": core_head(),
    }


def core_head() -> str:
    """The core's latest revision: the new module's first revision depends on it."""
    from alembic.script import ScriptDirectory  # imported here: only this command needs it
    from loyalty_core.db.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config([])).get_current_head()
    assert head is not None
    return head


def _templates(
    folder: Traversable, prefix: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], Traversable]]:
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            yield from _templates(entry, (*prefix, entry.name))
        elif entry.name.endswith(TEMPLATE_SUFFIX):
            yield (*prefix, entry.name.removesuffix(TEMPLATE_SUFFIX)), entry


def _fill_path(part: str, values: dict[str, str]) -> str:
    return part.replace("__package__", values["package"]).replace("__name__", values["name"])


__all__ = ["ScaffoldError", "check_name", "installed_modules", "new_module", "template_values"]
