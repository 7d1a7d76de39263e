"""`loyalty module new` writes a module that works as generated: its own tests pass with
the test kit (migrated, enabled for a tenant, driven through the real gateway), and it is
lint-clean; names that cannot be a module are refused before anything is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from loyalty_gateway.cli import main
from loyalty_gateway.scaffold import ScaffoldError, check_name, template_values
from loyalty_testing import DatabaseUrls

BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "name", ["Stamps", "1card", "stamp-card", "stamps_", "class", "", "a" * 31]
)
def test_a_name_must_be_a_lowercase_identifier(name: str) -> None:
    with pytest.raises(ScaffoldError, match="is not a module name"):
        check_name(name, installed=set())


def test_the_core_and_installed_modules_are_taken() -> None:
    with pytest.raises(ScaffoldError, match="the core's own name"):
        check_name("core", installed=set())
    with pytest.raises(ScaffoldError, match="already installed"):
        check_name("giftcards", installed={"giftcards"})


def test_an_installed_module_name_is_refused_by_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["module", "new", "giftcards", "--dir", str(tmp_path / "m")]) == 1
    assert "a module named 'giftcards' is already installed" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_names_become_the_package_the_distribution_and_graphql_names() -> None:
    values = template_values("punch_card")
    assert values["package"] == "loyalty_punch_card"
    assert values["distribution"] == "loyalty-punch-card"
    assert (values["camel"], values["pascal"]) == ("punchCard", "PunchCard")
    assert values["sdk_range"].startswith(">=1.")


def test_a_generated_module_passes_its_own_tests_and_lint(
    tmp_path: Path, database_urls: DatabaseUrls
) -> None:
    target = tmp_path / "loyalty-punch-card"
    assert main(["module", "new", "punch_card", "--dir", str(target)]) == 0
    migration = target / "src/loyalty_punch_card/migrations/versions/punch_card_0001.py"
    assert 'branch_labels: str | Sequence[str] | None = ("punch_card",)' in migration.read_text()
    for check in (["check"], ["format", "--check"]):
        lint = _run([str(BIN / "ruff"), *check, "--no-cache", "."], target)
        assert lint.returncode == 0, lint.stdout + lint.stderr
    # Its tests, as its author runs them, but loaded from src/ instead of installed, and on
    # this session's database server instead of a server of their own.
    server = database_urls.owner.set(database="postgres").render_as_string(hide_password=False)
    tests = _run(
        [
            str(BIN / "pytest"),
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "loyalty_modules=loyalty_punch_card",
        ],
        target,
        PYTHONPATH=str(target / "src"),
        LOYALTY_TEST_DATABASE_URL=server,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "2 passed" in tests.stdout


def _run(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
