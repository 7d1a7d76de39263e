#!/usr/bin/env python3
"""Set up the workspace and run the demo, the checks, or any `loyalty` command.

Usage::

    python3 scripts/dev.py demo [ARGS...]    # install, then `loyalty demo ARGS...`
    python3 scripts/dev.py test [ARGS...]    # install, then lint, type-check and `pytest ARGS...`
    python3 scripts/dev.py COMMAND [ARGS...] # install, then `loyalty COMMAND ARGS...`

Why a script and not a Makefile or a task runner: a fresh machine has only `python3` and
pip, so the entry point must need nothing else. It bootstraps uv into `.tools/` (kept apart
from the project environment, so `uv sync` never removes the tool that runs it), syncs the
locked workspace into `.venv/`, and always runs the tools from that `.venv/`, whatever
environment happens to be activated, so every developer and CI run the same versions.
Only the standard library is used, and POSIX paths are assumed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

if sys.version_info < (3, 11):  # noqa: UP036 -- the one friendly message for an old python3
    sys.exit("scripts/dev.py needs Python 3.11 or newer")

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools"  # bootstrap venv holding uv only
VENV = ROOT / ".venv"  # the project environment, created by `uv sync`
UV = TOOLS / "bin" / "uv"
EXTRA_MODULES = ROOT / "modules.txt"  # a developer's own modules, installed after the sync

# A floor, not a pin: uv reads lock files written by older releases, not newer ones.
UV_REQUIREMENT = "uv>=0.9"

# What mypy checks; the strict settings live in pyproject.toml. Globs are expanded here.
# Each plugin's `src` (not `plugins/` itself) is a target and goes on MYPYPATH, so mypy
# names its modules `loyalty_<name>`, as the tests import them, not `plugins.<name>.src...`.
# Directories with no Python file yet (git keeps no empty ones) are skipped, not errors.
MYPY_TARGETS: tuple[str, ...] = (
    "core/src",
    "gateway/src",
    "testing/src",
    "plugins/*/src",
    "tests",
    "bench",
)

USAGE = """\
usage: python3 scripts/dev.py COMMAND [ARGS...]

commands:
  demo [ARGS...]      install the workspace, then run `loyalty demo`
  test [ARGS...]      install, then ruff, ruff format --check, mypy, lint-imports
                      and pytest (ARGS go to pytest); stops at the first failure
  COMMAND [ARGS...]   install, then run `loyalty COMMAND` (serve, migrate, ...)

The workspace is installed into .venv/ with the locked versions (uv.lock); uv itself
is bootstrapped into .tools/ with pip on first use. Modules of your own listed in
modules.txt (a pip requirements file: names, wheels, paths, -e path) are installed after
the sync, and the sync leaves them in place.
"""


def main(argv: Sequence[str]) -> int:
    """Dispatch on the first argument; everything after it is passed through untouched."""
    if not argv:
        sys.stderr.write(USAGE)
        return 2
    command, args = argv[0], list(argv[1:])
    if command in {"-h", "--help", "help"}:
        sys.stdout.write(USAGE)
        return 0
    if command.startswith("-"):
        # An option before the command is a typo, not something to hand to `loyalty`.
        sys.stderr.write(f"dev.py: unknown option {command!r}\n\n{USAGE}")
        return 2
    install()
    if command == "install":  # hidden: set up only, used to check the bootstrap itself
        return 0
    if command == "test":
        install_browser()
        return run_checks(args)
    return exec_loyalty([command, *args])


def install() -> None:
    """Make `.venv/` match uv.lock, bootstrapping uv first when it is missing.

    `uv sync --locked` fails instead of silently re-resolving when pyproject.toml and
    uv.lock disagree, so a stale lock is caught here and in CI rather than in production.
    `--all-packages` installs every workspace member, first-party plugins included.
    Modules listed in `modules.txt` are installed after it; see `install_commands`.
    """
    if not UV.exists():
        _bootstrap_uv()
    for title, command in install_commands(EXTRA_MODULES):
        _step(title)
        _check_call(command)


def install_commands(extra_modules: Path) -> list[tuple[str, list[str]]]:
    """The locked sync, then the modules a developer listed in ``extra_modules``, if any.

    ``modules.txt`` (git-ignored: each developer's own) is a pip requirements file: a name
    from an index, a wheel, a path, ``-e path`` for a module being written. The sync is then
    ``--inexact``, so it leaves those modules (and their dependencies) in place instead of
    uninstalling them on every run; the locked packages are still synced to uv.lock.
    """
    sync = [str(UV), "sync", "--locked", "--all-packages"]
    if not _lists_requirements(extra_modules):
        return [("uv sync", sync)]
    name = extra_modules.name
    pip = [str(UV), "pip", "install", "--python", str(VENV / "bin" / "python"), "-r"]
    return [
        ("uv sync --inexact (keeps the modules of " + name + ")", [*sync, "--inexact"]),
        (f"uv pip install -r {name}", [*pip, str(extra_modules)]),
    ]


def _lists_requirements(path: Path) -> bool:
    """Whether ``path`` exists and names something (comments and blank lines aside)."""
    if not path.is_file():
        return False
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return any(lines)


def _bootstrap_uv() -> None:
    """Create `.tools/` with the running interpreter and pip-install uv into it."""
    python = TOOLS / "bin" / "python"
    if not python.exists():  # also repairs a `.tools/` left half-made by an interrupted run
        _step("create .tools/ (bootstrap environment for uv)")
        _check_call([sys.executable, "-m", "venv", "--clear", str(TOOLS)])
    _step(f"pip install {UV_REQUIREMENT} into .tools/")
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _check_call([*pip, UV_REQUIREMENT])


BROWSER_PACKAGES = ("chromium", "fonts-dejavu-core")
"""Debian's Chromium for the portal's and console's browser tests, and a font for text."""


def install_browser() -> None:
    """Install Chromium with apt where it is missing and this runs as root with apt-get.

    Elsewhere it only says what is missing: the browser tests then fail with the same
    advice, since they never skip (a suite that quietly leaves out its browser tests proves
    less than it claims). ``LOYALTY_CHROMIUM`` names another Chromium instead.
    """
    if os.environ.get("LOYALTY_CHROMIUM") or shutil.which("chromium"):
        return
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        print("dev.py: Chromium is missing (install Debian's `chromium` package)", flush=True)
        return
    _step("apt-get install " + " ".join(BROWSER_PACKAGES))
    os.environ.setdefault("DEBIAN_FRONTEND", "noninteractive")
    _check_call([apt, "update", "-qq"])
    _check_call([apt, "install", "-y", "-qq", "--no-install-recommends", *BROWSER_PACKAGES])


def run_checks(pytest_args: Sequence[str]) -> int:
    """Run each check in order; return the exit code of the first that fails, else 0.

    pytest's exit code 5 ("no tests collected") is non-zero, so it fails the run as it
    should: a suite that silently collects nothing proves nothing.
    """
    bin_dir = VENV / "bin"
    # Commands are built only when their step starts, so any notes print under its header.
    steps: list[tuple[str, Callable[[], list[str]]]] = [
        ("ruff check", lambda: [str(bin_dir / "ruff"), "check", "."]),
        ("ruff format --check", lambda: [str(bin_dir / "ruff"), "format", "--check", "."]),
        ("mypy", lambda: [str(bin_dir / "mypy"), *_mypy_targets()]),
        ("lint-imports", lambda: [str(bin_dir / "lint-imports")]),
        ("pytest", lambda: [str(bin_dir / "pytest"), *pytest_args]),
    ]
    for title, command in steps:
        _step(title)
        code = _call(command())
        if code != 0:
            if title == "pytest" and code == 5:
                print("dev.py: pytest collected no tests", file=sys.stderr)
            print(f"dev.py: {title} failed (exit code {code})", file=sys.stderr)
            return code
    _step("all checks passed")
    return 0


def _mypy_targets() -> list[str]:
    """MYPY_TARGETS with globs expanded, less those that contain no Python file."""
    targets = []
    for pattern in MYPY_TARGETS:
        matches = sorted(ROOT.glob(pattern)) if "*" in pattern else [ROOT / pattern]
        for path in matches:
            if path.is_dir() and any(path.rglob("*.py")):
                targets.append(str(path.relative_to(ROOT)))
            else:
                print(f"mypy: skipping {pattern} (no Python files)", flush=True)
    return targets


def exec_loyalty(args: Sequence[str]) -> NoReturn:
    """Replace this process with `.venv/bin/loyalty ARGS`.

    exec rather than a child process: signals (Ctrl-C, a supervisor's SIGTERM) then reach
    the server directly, and there is no idle Python parent holding memory.
    """
    loyalty = VENV / "bin" / "loyalty"
    if not loyalty.exists():
        sys.exit(f"dev.py: {loyalty.relative_to(ROOT)} is missing after `uv sync`")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(loyalty, [str(loyalty), *args], _environment())  # noqa: S606 -- fixed program


def _environment() -> dict[str, str]:
    """The caller's environment, pointed at the repository's `.venv/`.

    UV_PROJECT_ENVIRONMENT makes `uv sync` target `.venv/` even when another environment
    is activated; VIRTUAL_ENV and PATH make child processes (tests that start `loyalty`,
    say) find the same tools.
    """
    env = dict(os.environ)
    env.pop("PYTHONHOME", None)
    env["UV_PROJECT_ENVIRONMENT"] = str(VENV)
    env["VIRTUAL_ENV"] = str(VENV)
    env["PATH"] = os.pathsep.join([str(VENV / "bin"), env.get("PATH", os.defpath)])
    # Plugin sources, as mypy's module roots beside mypy_path's core/src and gateway/src.
    plugin_sources = [str(path) for path in sorted(ROOT.glob("plugins/*/src"))]
    if plugin_sources:
        env["MYPYPATH"] = os.pathsep.join(filter(None, [*plugin_sources, env.get("MYPYPATH")]))
    return env


def _step(title: str) -> None:
    """A short header, so a failure in CI's log is easy to place."""
    print(f"\n==> {title}", flush=True)


def _call(argv: Sequence[str]) -> int:
    """Run one command from the repository root; return its exit code."""
    try:
        # The programs are our own fixed tool paths; only pass-through arguments vary.
        return subprocess.run(argv, cwd=ROOT, env=_environment(), check=False).returncode  # noqa: S603
    except FileNotFoundError:
        print(f"dev.py: {argv[0]} not found", file=sys.stderr)
        return 127
    except KeyboardInterrupt:
        return 130


def _check_call(argv: Sequence[str]) -> None:
    """Run one set-up command; exit with its code when it fails."""
    code = _call(argv)
    if code != 0:
        sys.exit(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
