"""Child processes of the benchmarks: where they run (which cores) and what they import.

Servers go on one core and load generators on the other (``taskset``), so that client and
server never compete for a core; every child imports ``bench`` from this checkout.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The repository root: children run there, with it first on ``PYTHONPATH``."""


def pinned(argv: Sequence[str], cpus: str | None) -> list[str]:
    """``argv`` under ``taskset -c cpus`` when taskset exists, cpus are given and the machine
    has more than one core. taskset execs the program, so the pid we get is the program's."""
    if cpus and shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", cpus, *argv]
    return list(argv)


def child_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Our environment plus ``extra``, with the repository root first on ``PYTHONPATH``."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, **(extra or {}), "PYTHONPATH": path}


def cpu_set(cpus: str) -> set[int]:
    """A taskset-style list (``1``, ``0,2``, ``2-3``) as a set of cores."""
    found: set[int] = set()
    for part in cpus.split(","):
        low, _, high = part.partition("-")
        found.update(range(int(low), int(high or low) + 1))
    return found


__all__ = ["ROOT", "child_environment", "cpu_set", "pinned"]
