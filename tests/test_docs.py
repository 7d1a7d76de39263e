"""The documentation is part of the contract: these tests fail when code and docs drift.

Every hook is documented in the module author guide, every SDK export is named there, every
setting appears in the README's configuration table (which is generated from the settings
class), every error code is explained in the API guide, and every relative link resolves.

Regenerate the README's settings table after changing a setting::

    python -m tests.test_docs
"""

from __future__ import annotations

import inspect
import re
from enum import Enum
from pathlib import Path

import pytest
from loyalty_core import sdk
from loyalty_core.errors import ErrorCode
from loyalty_core.modules import hookspecs
from loyalty_core.settings import Settings
from pydantic import SecretStr
from pydantic.fields import FieldInfo

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MODULE_GUIDE = DOCS / "modules.md"
API_GUIDE = DOCS / "api.md"

TABLE_START = "<!-- settings-table:start -->"
TABLE_END = "<!-- settings-table:end -->"
_LINK = re.compile(r"\[[^\]]*\]\(([^)#\s]+)(?:#[^)]*)?\)")


def hook_names() -> list[str]:
    """Every hookspec in hookspecs.py (pluggy marks them with ``loyalty_spec``)."""
    return sorted(
        name
        for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(function, f"{hookspecs.PROJECT}_spec")
    )


def env_name(field: str) -> str:
    prefix = str(Settings.model_config.get("env_prefix", ""))
    return f"{prefix}{field}".upper()


def settings_table() -> str:
    """The README's configuration table, from the settings' names, defaults and descriptions."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{env_name(name)}` | {_default(field)} | {description} |")
    return "\n".join(rows)


def _default(field: FieldInfo) -> str:
    """A default as a reader should see it: no secrets, no paths of the machine that ran this."""
    value = field.default
    if value is None:
        return "unset"
    if isinstance(value, SecretStr):
        return "a development placeholder"
    if isinstance(value, Path):
        return "`loyalty` in the user data directory"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        value = str(value).lower()
    return f"`{value}`"


def readme_table() -> str:
    text = README.read_text(encoding="utf-8")
    start, end = text.index(TABLE_START), text.index(TABLE_END)
    return text[start + len(TABLE_START) : end].strip()


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_is_documented(hook: str) -> None:
    heading = re.compile(rf"^#{{2,4}} `{hook}\(", re.MULTILINE)
    assert heading.search(MODULE_GUIDE.read_text(encoding="utf-8")), (
        f"docs/modules.md has no section for {hook}"
    )


def test_hooks_exist() -> None:
    assert "loyalty_module" in hook_names()


@pytest.mark.parametrize("name", sorted(sdk.__all__))
def test_every_sdk_export_is_named_in_the_module_guide(name: str) -> None:
    assert f"`{name}`" in MODULE_GUIDE.read_text(encoding="utf-8")


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_in_the_readme(field: str) -> None:
    assert f"`{env_name(field)}`" in README.read_text(encoding="utf-8")


def test_readme_settings_table_is_generated_from_the_settings() -> None:
    assert readme_table() == settings_table(), (
        "the README's settings table is stale: run `python -m tests.test_docs`"
    )


@pytest.mark.parametrize("code", [code.value for code in ErrorCode])
def test_every_error_code_is_documented(code: str) -> None:
    assert f"`{code}`" in API_GUIDE.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "document", [README, *sorted(DOCS.glob("*.md"))], ids=lambda path: path.name
)
def test_relative_links_resolve(document: Path) -> None:
    for target in _LINK.findall(document.read_text(encoding="utf-8")):
        if "://" in target or target.startswith("mailto:"):
            continue
        assert (document.parent / target).exists(), f"{document.name} links to missing {target}"


def write_readme_table() -> None:
    """Replace the README's table with the generated one."""
    text = README.read_text(encoding="utf-8")
    start, end = text.index(TABLE_START) + len(TABLE_START), text.index(TABLE_END)
    README.write_text(f"{text[:start]}\n{settings_table()}\n{text[end:]}", encoding="utf-8")


if __name__ == "__main__":
    write_readme_table()
