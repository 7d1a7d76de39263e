"""Modules import only the SDK: first-party modules are built exactly as third parties build
theirs, so the SDK grows where a module needs more, never a back door into core internals."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE_SOURCES = [*ROOT.glob("plugins/*/src/**/*.py"), *ROOT.glob("tests/modules/*.py")]


def _core_imports(path: Path) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return [name for name in found if name.split(".")[0] == "loyalty_core"]


def _is_sdk(module: str) -> bool:
    return module == "loyalty_core.sdk" or module.startswith("loyalty_core.sdk.")


def test_there_are_modules_to_check() -> None:
    assert MODULE_SOURCES


def test_modules_import_nothing_of_the_core_but_the_sdk() -> None:
    offenders = {
        str(path.relative_to(ROOT)): names
        for path in MODULE_SOURCES
        if (names := [n for n in _core_imports(path) if not _is_sdk(n)])
    }
    assert offenders == {}
