"""The benchmarks still run: every module imports, and the cheapest end-to-end path (P4) runs
once at a tiny size with the Python load generator.

Benchmarks are not tests and are run by hand, so nothing else would notice when a change to
the gateway or the core breaks them. This proves the harness still starts the gateway and a
baseline, drives load, meters CPU and produces numbers. It never asserts speed: the suite runs
on loaded machines, where any threshold would be noise.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

from loyalty_testing import DatabaseUrls

import bench
from bench import p4_overhead
from bench.harness import BenchDatabase, Options, reaped_children_cpu, run_bench


def test_every_bench_module_imports() -> None:
    names = [module.name for module in pkgutil.iter_modules(bench.__path__)]
    assert {"harness", "p1_ingest", "p3_bulk", "p5_growth", "p6_naive", "p7_module_tax"} <= set(
        names
    )
    for name in names:
        importlib.import_module(f"bench.{name}")


async def test_p4_runs_end_to_end_and_reports_numbers(database_urls: DatabaseUrls) -> None:
    options = Options(rounds=1, seconds=1.0, warmup=0.0, connections=2, loadgen="python")
    database = BenchDatabase(database_urls.owner, database_urls.app)

    report = await run_bench(p4_overhead.TITLE, p4_overhead.measure, options, database)

    (comparison,) = report.comparisons
    for sample in [*comparison.baseline, *comparison.subject]:
        assert sample.units > 0
        assert sample.errors == 0
        assert sample.p50_ms is not None
    assert comparison.ratio > 0
    assert report.loadgen.startswith("python")
    assert report.synchronous_commit
    assert p4_overhead.TITLE in report.table()


def test_a_client_s_cpu_is_counted_once_it_has_exited() -> None:
    """pgbench's column in P1's table comes from here."""
    before = reaped_children_cpu()
    subprocess.run([sys.executable, "-c", "sum(range(10**7))"], check=True)

    assert reaped_children_cpu() - before > 0.05
