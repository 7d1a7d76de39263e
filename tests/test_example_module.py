"""The example third-party module, examples/stamp_card, as its author ships it: wheels of
the core, the gateway, the test kit and the module, installed into a fresh virtual
environment (dependencies from the package index, as usual), and the module's own tests
run there with pytest. The kit migrates the database with the module's migration, enables
the module for one tenant and tests it; nothing of this repository is importable there
but what the wheels installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "stamp_card"
DISTRIBUTIONS = (ROOT / "core", ROOT / "gateway", ROOT / "testing", EXAMPLE)


def _uv() -> str:
    bootstrapped = ROOT / ".tools" / "bin" / "uv"  # scripts/dev.py puts it there
    found = str(bootstrapped) if bootstrapped.exists() else shutil.which("uv")
    if found is None:
        pytest.skip("uv is not installed (python3 scripts/dev.py install bootstraps it)")
    return found


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    result = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, f"{' '.join(argv)}\n{result.stdout}\n{result.stderr}"
    return result


def test_the_example_module_passes_its_tests_installed_from_wheels(tmp_path: Path) -> None:
    uv = _uv()
    dist = tmp_path / "dist"
    for source in DISTRIBUTIONS:
        _run([uv, "build", "--wheel", "--quiet", "--out-dir", str(dist), str(source)], ROOT)
    wheels = sorted(dist.glob("*.whl"))
    assert len(wheels) == len(DISTRIBUTIONS)
    [gateway] = [wheel for wheel in wheels if wheel.name.startswith("loyalty_gateway-")]
    assert any(
        name.startswith("loyalty_gateway/scaffold/template/")
        for name in zipfile.ZipFile(gateway).namelist()
    ), "the scaffold's templates are package data of the gateway's wheel"

    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    _run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], tmp_path)
    _run([uv, "pip", "install", "--quiet", "--python", str(python), *map(str, wheels)], tmp_path)

    # The module's tests and its pytest configuration, away from its sources: the module
    # under test is the installed wheel, found through its entry point.
    checkout = tmp_path / "stamp_card"
    shutil.copytree(EXAMPLE / "tests", checkout / "tests")
    shutil.copy(EXAMPLE / "pyproject.toml", checkout / "pyproject.toml")
    tests = _run([str(venv / "bin" / "pytest"), "-q", "-p", "no:cacheprovider"], checkout)
    assert " passed" in tests.stdout
    assert "failed" not in tests.stdout

    modules = _run([str(venv / "bin" / "loyalty"), "modules"], tmp_path).stdout
    assert "from loyalty-stamp-card 0.1.0 (site-packages: " in modules
