"""What every benchmark shares: a database, servers on their own core, load, rounds, a report.

A benchmark is a comparison of two *sides* (a baseline and the gateway, or a small and a large
tenant) measured alternately, A B A B, after a warm-up of each, so that a machine that slows
down or speeds up during the run affects both sides alike. Each side reports how many units
(requests, events, transactions) it completed, latency percentiles, and the CPU seconds its
server process and PostgreSQL spent, so a ratio can be explained and not only read.

Why the pieces look as they do:

- **Database.** An embedded PostgreSQL in a temporary folder (the binaries the gateway uses in
  development), or the server named by ``LOYALTY_BENCH_DATABASE_URL`` (an owner URL of a scratch
  database: benchmark tenants are added to it). Migrated as ``loyalty migrate`` does, so the
  gateway runs as the non-owner app role under row-level security, as in production.
- **Servers.** The gateway runs as ``loyalty serve`` would (uvicorn, uvloop, httptools, one
  worker) with ``LOYALTY_ENVIRONMENT=production`` (no GraphiQL, no development extras), jobs off
  and warnings-only logs; baselines run with the same uvicorn settings. Both are pinned to one
  core with ``taskset`` and the load generator to the other, so client and server never compete
  for a core (PostgreSQL is left to the scheduler, as it would be on a database host).
- **Load.** wrk when installed (light: C, one thread), with a Lua script that makes every
  request body unique where idempotency keys must differ; otherwise a small asyncio + httpx
  generator in a process of its own (:mod:`bench.loadgen`). The report says which was used.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import os
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import httpx
import orjson
import psutil
from loyalty_core.db.embedded import embedded_pgbench, start_embedded
from loyalty_core.db.engine import Database, create_engine
from loyalty_core.db.migrate import migrate
from loyalty_core.modules.manager import build_registry
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from bench import loadgen
from bench.processes import ROOT, child_environment, pinned

BENCH_DATABASE_ENV = "LOYALTY_BENCH_DATABASE_URL"
APP_ROLE = "loyalty_app"
SERVER_START_TIMEOUT = 60.0


# --- options -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    """What every benchmark accepts on its command line."""

    rounds: int = 5
    seconds: float = 10.0
    warmup: float = 3.0
    connections: int = 8
    loadgen: str = "auto"
    database_url: str | None = None
    server_cpus: str | None = "0"
    load_cpus: str | None = "1"
    json_path: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    """A benchmark's own options (``--members`` as ``members``), as parsed."""


def parser(description: str) -> argparse.ArgumentParser:
    """The shared options; a benchmark adds its own before parsing."""
    parsed = argparse.ArgumentParser(description=description)
    parsed.add_argument("--rounds", type=int, default=5, help="measured rounds per side")
    parsed.add_argument("--seconds", type=float, default=10.0, help="seconds per measurement")
    parsed.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds per side")
    parsed.add_argument("--connections", type=int, default=8, help="concurrent clients")
    parsed.add_argument(
        "--loadgen", choices=["auto", "wrk", "python"], default="auto", help="load generator"
    )
    parsed.add_argument(
        "--database-url",
        default=os.environ.get(BENCH_DATABASE_ENV),
        help=f"owner URL of a scratch database (default: ${BENCH_DATABASE_ENV}, else embedded)",
    )
    parsed.add_argument("--server-cpus", default="0", help="taskset list for servers ('' = none)")
    parsed.add_argument("--load-cpus", default="1", help="taskset list for load ('' = none)")
    parsed.add_argument("--json", dest="json_path", help="also write the results as JSON here")
    return parsed


def options_of(args: argparse.Namespace) -> Options:
    shared = {f for f in Options.__dataclass_fields__ if f != "extra"}
    values = vars(args)
    return Options(
        **{k: v for k, v in values.items() if k in shared},
        extra={k: v for k, v in values.items() if k not in shared},
    )


# --- database ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchDatabase:
    """A migrated database: its owner URL (seeding history, COPY) and the app role's URL
    (everything that stands for the gateway), and the embedded server's folder if any."""

    owner: URL
    app: URL
    data_dir: Path | None = None

    def database(self, *, owner: bool = False, pool_size: int = 4) -> Database:
        return Database.connect(self.owner if owner else self.app, pool_size=pool_size)

    def pgbench(self) -> Path | None:
        """The pgbench binary: the embedded server's, else one on PATH."""
        if self.data_dir is not None:
            return embedded_pgbench(self.data_dir)
        found = shutil.which("pgbench")
        return Path(found) if found else None


def asyncpg_dsn(url: URL) -> str:
    """A libpq-style DSN asyncpg accepts (Unix socket folders stay in ``?host=``)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def libpq_environment(url: URL) -> dict[str, str]:
    """PG* variables naming ``url`` for libpq tools (pgbench), password out of argv."""
    host = url.query.get("host", url.host)
    values = {
        "PGHOST": str(host) if host else "",
        "PGPORT": str(url.port or ""),
        "PGUSER": url.username or "",
        "PGPASSWORD": url.password or "",
        "PGDATABASE": url.database or "",
    }
    return {name: value for name, value in values.items() if value}


async def prepare_database(database_url: str | None) -> BenchDatabase:
    """Start the embedded server in a temporary folder (removed at exit) or use the given
    owner URL; migrate the core and every installed module; set the app role's password."""
    data_dir: Path | None = None
    if database_url:
        owner = make_url(database_url).set(drivername="postgresql+asyncpg")
    else:
        data_dir = Path(tempfile.mkdtemp(prefix="loyalty-bench-"))
        # Registered before the server starts, so it runs after the server's own stop handler.
        atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
        owner = start_embedded(data_dir)
    password = os.environ.get("LOYALTY_APP_ROLE_PASSWORD") or secrets.token_urlsafe(16)
    registry = build_registry()
    await migrate(
        owner,
        app_role=APP_ROLE,
        app_password=password,
        module_locations=[m.migrations for m in registry.modules.values() if m.migrations],
    )
    if data_dir is not None:
        await _checkpoints_between_runs(owner)
    return BenchDatabase(owner, owner.set(username=APP_ROLE, password=password), data_dir)


CHECKPOINT_SETTINGS = {"max_wal_size": "16GB", "checkpoint_timeout": "1h"}
"""The embedded server's, so that no checkpoint falls within a measured round."""


async def _checkpoints_between_runs(owner: URL) -> None:
    """Keep checkpoints out of the rounds (:data:`CHECKPOINT_SETTINGS`; :meth:`Bench.analyze`
    takes one before them). With PostgreSQL's defaults (1GB, 5 min), P3's 17-46 MiB of WAL a
    second brought up to three checkpoints into a 30-second round, at random: the first
    change to each page after one is logged whole, and measured, one side's WAL per event rose
    from 3.8 to 8.6 KiB in the round a checkpoint fell into. Only the embedded server is
    changed; a given database keeps its settings."""
    async with _connected(owner) as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        for name, value in CHECKPOINT_SETTINGS.items():
            await conn.execute(text(f"ALTER SYSTEM SET {name} = '{value}'"))
        await conn.execute(text("SELECT pg_reload_conf()"))


async def synchronous_commit(database: BenchDatabase) -> str:
    """``SHOW synchronous_commit``: ``off`` would make every write number meaningless."""
    async with _connected(database.app) as conn:
        return str((await conn.execute(text("SHOW synchronous_commit"))).scalar_one())


@asynccontextmanager
async def _connected(url: URL) -> AsyncIterator[AsyncConnection]:
    """One connection to ``url`` for a question or two, its engine disposed after."""
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            yield conn
    finally:
        await engine.dispose()


# --- CPU -----------------------------------------------------------------------------------


def process_cpu(pid: int) -> float | None:
    """User + system CPU seconds of one process (all its threads); None when it is gone."""
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return None
    return float(times.user + times.system)


def reaped_children_cpu() -> float:
    """User + system CPU seconds of this process's children that exited and were waited
    for: a client such as pgbench, once it has run (``taskset`` execs it, so it is the child)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class PostgresMeter:
    """CPU seconds of a PostgreSQL server: the postmaster, its live children, and the
    children it already reaped (a backend that exits, as pgbench's do, moves its time from
    the one to the other, so the sum stays continuous). None for a server on another host."""

    def __init__(self, postmaster: int | None) -> None:
        self._postmaster = postmaster

    @classmethod
    async def find(cls, database: BenchDatabase) -> PostgresMeter:
        """The postmaster is the parent of our own backend, when that runs on this machine."""
        async with _connected(database.app) as conn:
            backend = int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
            # Asked while the connection is open: the backend exits with it.
            return cls(_postmaster_of(backend))

    def cpu(self) -> float | None:
        if self._postmaster is None:
            return None
        try:
            postmaster = psutil.Process(self._postmaster)
            times = postmaster.cpu_times()
            total = times.user + times.system + times.children_user + times.children_system
            for child in postmaster.children():
                with suppress(psutil.Error):
                    child_times = child.cpu_times()
                    total += child_times.user + child_times.system
        except psutil.Error:
            return None
        return float(total)


def _postmaster_of(backend: int) -> int | None:
    try:
        process = psutil.Process(backend)
        return int(process.ppid()) if "postgres" in process.name() else None
    except psutil.Error:
        return None


# --- servers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A server process listening on ``base_url``, with its log file for post-mortems."""

    name: str
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with suppress(OSError):
            self.log_path.unlink()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


async def start_server(
    name: str, argv: Sequence[str], env: Mapping[str, str], port: int, cpus: str | None
) -> Server:
    """Start ``argv`` (which must listen on ``port`` and answer ``GET /healthz``), pinned to
    ``cpus``; return once it answers. Raises with the server's log when it does not."""
    process, log_path = _spawn(name, pinned(argv, cpus), env)
    server = Server(name, f"http://127.0.0.1:{port}", process, log_path)
    atexit.register(server.stop)
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    async with httpx.AsyncClient(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            with suppress(httpx.HTTPError):
                if (await client.get(f"{server.base_url}/healthz")).status_code == 200:
                    return server
            await asyncio.sleep(0.2)
    tail = server.log_tail()
    server.stop()
    raise RuntimeError(f"{name} did not start on port {port}:\n{tail}")


async def start_gateway(database: BenchDatabase, cpus: str | None) -> Server:
    """The gateway as production runs it: ``loyalty serve`` (uvicorn, uvloop, httptools, one
    worker), production settings, no in-process jobs, warnings-only logs (the baselines log
    nothing either, and a log line per request would be measured as gateway cost)."""
    port = free_port()
    env = {
        "LOYALTY_ENVIRONMENT": "production",
        "LOYALTY_DATABASE_URL": database.owner.render_as_string(hide_password=False),
        "LOYALTY_APP_DATABASE_URL": database.app.render_as_string(hide_password=False),
        "LOYALTY_JOBS_INTERVAL_SECONDS": "0",
        "LOYALTY_LOG_LEVEL": "WARNING",
    }
    argv = [sys.executable, "-m", "loyalty_gateway.cli", "serve"]
    return await start_server("gateway", [*argv, "--port", str(port)], env, port, cpus)


async def start_baseline(
    kind: str, cpus: str | None, env: Mapping[str, str] | None = None
) -> Server:
    """A baseline app of :mod:`bench.servers` under the same uvicorn settings."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.servers", kind, "--port", str(port)]
    return await start_server(kind, argv, env or {}, port, cpus)


def _spawn(
    name: str, argv: list[str], env: Mapping[str, str]
) -> tuple[subprocess.Popen[bytes], Path]:
    """Start a server with its output in a log file (read back when it fails to start)."""
    handle, log_name = tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".log")
    with os.fdopen(handle, "wb") as log:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=child_environment(dict(env)), stdout=log, stderr=subprocess.STDOUT
        )
    return process, Path(log_name)


# --- sides and samples ---------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One measurement of one side."""

    label: str
    units: int
    seconds: float
    p50_ms: float | None
    p99_ms: float | None
    server_cpu: float | None
    db_cpu: float | None
    errors: int = 0

    @property
    def rate(self) -> float:
        return self.units / self.seconds if self.seconds > 0 else 0.0


class Side(Protocol):
    """Something to measure: a label, and a run of about ``seconds``."""

    label: str

    async def run(self, seconds: float) -> Sample: ...


async def metered(
    label: str,
    server_cpu: Callable[[], float | None] | None,
    meter: PostgresMeter,
    work: Callable[[], Awaitable[loadgen.LoadResult]],
) -> Sample:
    """Run ``work`` and attribute the CPU PostgreSQL and the side's own process spent
    meanwhile: ``server_cpu`` reads that process's CPU seconds (the gateway or a baseline
    server, :func:`process_cpu`; pgbench, :func:`reaped_children_cpu`), None where the side
    has none of its own."""
    server_before = server_cpu() if server_cpu else None
    db_before = meter.cpu()
    result = await work()
    server_after = server_cpu() if server_cpu else None
    db_after = meter.cpu()
    return Sample(
        label=label,
        units=result.units,
        seconds=result.seconds,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        server_cpu=_delta(server_before, server_after),
        db_cpu=_delta(db_before, db_after),
        errors=result.errors,
    )


@dataclass
class HttpSide:
    """HTTP load against a server: ``request`` sent by ``connections`` clients."""

    label: str
    server: Server
    request: loadgen.HttpRequest
    meter: PostgresMeter
    options: Options
    tool: str

    async def run(self, seconds: float) -> Sample:
        async def work() -> loadgen.LoadResult:
            return await loadgen.run(
                self.tool,
                self.request,
                base_url=self.server.base_url,
                seconds=seconds,
                connections=self.options.connections,
                cpus=self.options.load_cpus,
            )

        sample = await metered(self.label, partial(process_cpu, self.server.pid), self.meter, work)
        if self.server.process.poll() is not None:
            raise RuntimeError(f"{self.server.name} died:\n{self.server.log_tail()}")
        return sample


async def answer(server: Server, request: loadgen.HttpRequest) -> Any:
    """One request, as the load will send it (the placeholder filled once): its JSON body.
    Raises when the status is not 200 or the body carries GraphQL errors, so a benchmark never
    measures a server that answers fast because it refuses."""
    body = request.first(f"check-{run_id()}")
    headers = {"Content-Type": "application/json", **request.headers}
    async with httpx.AsyncClient(timeout=request.timeout) as client:
        response = await client.post(server.base_url + request.path, content=body, headers=headers)
    if response.headers.get("content-type") == "application/x-ndjson":
        return [orjson.loads(line) for line in response.content.splitlines()]
    found = response.json()
    if response.status_code != 200 or (isinstance(found, dict) and found.get("errors")):
        raise RuntimeError(f"{server.name} answered {response.status_code}: {response.text[:500]}")
    return found


async def expect_same_answer(
    request: loadgen.HttpRequest, expected: Server, *others: Server
) -> Any:
    """Check that every server answers ``request`` with the same JSON (reads only): the
    comparison is between ways of producing one answer, never between different answers."""
    first = await answer(expected, request)
    for other in others:
        found = await answer(other, request)
        if found != first:
            raise RuntimeError(f"{other.name} and {expected.name} disagree:\n{found}\n{first}")
    return first


def _delta(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


# --- rounds and the report -----------------------------------------------------------------


@dataclass(frozen=True)
class Goal:
    """What the issue asks of a ratio: at least ``minimum``, or (growth) at most ``maximum``."""

    minimum: float | None = None
    maximum: float | None = None

    def met(self, ratio: float) -> bool:
        low = self.minimum is None or ratio >= self.minimum
        return low and (self.maximum is None or ratio <= self.maximum)

    def __str__(self) -> str:
        return f">= {self.minimum}" if self.minimum is not None else f"<= {self.maximum}"


@dataclass(frozen=True)
class Comparison:
    """Two sides over rounds and how to read them.

    ``ratio`` is subject over baseline in units per second (gateway/baseline), or with
    ``slowdown`` baseline over subject (P5: how much slower the large tenant is).
    """

    name: str
    unit: str
    baseline: list[Sample]
    subject: list[Sample]
    goal: Goal
    slowdown: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self._ratio_of(_median_rate(self.baseline), _median_rate(self.subject))

    @property
    def round_ratios(self) -> list[float]:
        """The ratio of each round alone: its baseline and subject ran back to back, so a
        machine whose speed drifts between rounds moves both. Their range is how far one
        run's medians can be trusted: a goal inside it is met in some rounds and not others."""
        return [
            self._ratio_of(base.rate, subject.rate)
            for base, subject in zip(self.baseline, self.subject, strict=False)
        ]

    def _ratio_of(self, base: float, subject: float) -> float:
        if self.slowdown:
            return base / subject if subject else float("inf")
        return subject / base if base else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "ratio": self.ratio,
            "round_ratios": self.round_ratios,
            "goal": str(self.goal),
            "met": self.goal.met(self.ratio),
            "slowdown": self.slowdown,
            "notes": self.notes,
            "baseline": [asdict(s) | {"rate": s.rate} for s in self.baseline],
            "subject": [asdict(s) | {"rate": s.rate} for s in self.subject],
        }


async def alternate(
    baseline: Side, subject: Side, options: Options
) -> tuple[list[Sample], list[Sample]]:
    """Warm each side up, then measure A B A B for ``options.rounds`` rounds."""
    baselines, [subjects] = await alternate_many(baseline, [subject], options)
    return baselines, subjects


async def alternate_many(
    baseline: Side, subjects: Sequence[Side], options: Options
) -> tuple[list[Sample], list[list[Sample]]]:
    """:func:`alternate` with several subjects against one baseline: A B C A B C."""
    sides = [baseline, *subjects]
    if options.warmup > 0:
        for side in sides:
            await side.run(options.warmup)
    samples: list[list[Sample]] = [[] for _ in sides]
    for _ in range(options.rounds):
        for side, found in zip(sides, samples, strict=True):
            found.append(await side.run(options.seconds))
    return samples[0], samples[1:]


@dataclass(frozen=True)
class Report:
    """Everything a run printed, with the context needed to trust (or doubt) it."""

    title: str
    comparisons: list[Comparison]
    loadgen: str
    synchronous_commit: str
    connections: int
    cpus: int = field(default_factory=lambda: os.cpu_count() or 1)
    pinned: bool = field(default_factory=lambda: shutil.which("taskset") is not None)

    def table(self) -> str:
        lines = [
            self.title,
            f"load generator: {self.loadgen}; clients: {self.connections}; "
            f"cpus: {self.cpus}; taskset: {'yes' if self.pinned else 'no'}; "
            f"synchronous_commit: {self.synchronous_commit}",
        ]
        for comparison in self.comparisons:
            lines += ["", *_comparison_lines(comparison)]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "loadgen": self.loadgen,
            "synchronous_commit": self.synchronous_commit,
            "connections": self.connections,
            "cpus": self.cpus,
            "pinned": self.pinned,
            "comparisons": [c.to_json() for c in self.comparisons],
        }


HEADER = (
    f"{'side':<34}{'units/s':>11}{'p50 ms':>9}{'p99 ms':>9}"
    f"{'srv CPU ms/u':>14}{'db CPU ms/u':>13}{'errors':>8}"
)


def _comparison_lines(comparison: Comparison) -> list[str]:
    verdict = "met" if comparison.goal.met(comparison.ratio) else "NOT met"
    kind = "slowdown (baseline/subject)" if comparison.slowdown else "ratio (subject/baseline)"
    lines = [f"{comparison.name} ({comparison.unit}/s, medians of {len(comparison.subject)})"]
    lines += [HEADER]
    lines += [_row(comparison.baseline), _row(comparison.subject)]
    lines += [f"{kind}: {comparison.ratio:.3f}   goal {comparison.goal}: {verdict}"]
    rounds = comparison.round_ratios
    if len(rounds) > 1:
        lines += [f"  rounds: {min(rounds):.3f} to {max(rounds):.3f}"]
    lines += [f"  note: {note}" for note in comparison.notes]
    return lines


def _row(samples: list[Sample]) -> str:
    units = sum(s.units for s in samples)

    def per_unit(values: list[float | None]) -> str:
        known = [v for v in values if v is not None]
        if len(known) < len(values) or not units:
            return "n/a"
        return f"{1000 * sum(known) / units:.3f}"

    return (
        f"{samples[0].label:<34}{_median_rate(samples):>11.1f}"
        f"{_fmt(_median([s.p50_ms for s in samples])):>9}"
        f"{_fmt(_median([s.p99_ms for s in samples])):>9}"
        f"{per_unit([s.server_cpu for s in samples]):>14}"
        f"{per_unit([s.db_cpu for s in samples]):>13}"
        f"{sum(s.errors for s in samples):>8}"
    )


def _median_rate(samples: list[Sample]) -> float:
    return statistics.median(s.rate for s in samples) if samples else 0.0


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


# --- running a benchmark -------------------------------------------------------------------


@dataclass
class Bench:
    """What a benchmark gets: its options, the database, the load generator and a meter,
    and the servers it starts (stopped when it ends)."""

    options: Options
    database: BenchDatabase
    tool: str
    meter: PostgresMeter
    servers: list[Server] = field(default_factory=list)

    async def gateway(self) -> Server:
        server = await start_gateway(self.database, self.options.server_cpus)
        self.servers.append(server)
        return server

    async def baseline(self, kind: str, env: Mapping[str, str] | None = None) -> Server:
        server = await start_baseline(kind, self.options.server_cpus, env)
        self.servers.append(server)
        return server

    def http(self, label: str, server: Server, request: loadgen.HttpRequest) -> HttpSide:
        return HttpSide(label, server, request, self.meter, self.options, self.tool)

    @asynccontextmanager
    async def connect(self, *, owner: bool = False) -> AsyncIterator[Database]:
        """The database as the app role (or the owner, for history and COPY), disposed after."""
        database = self.database.database(owner=owner)
        try:
            yield database
        finally:
            await database.dispose()

    async def analyze(self) -> None:
        """ANALYZE the seeded tables before measuring, as autovacuum would within a minute of
        the writes on a live system: a table seeded seconds ago still has the statistics of
        an empty one, and the plans they give (an index walked for its order instead of the
        one that selects) would be measured instead of the code. On the embedded server a
        CHECKPOINT follows, so that the rounds start with none pending (see
        :func:`_checkpoints_between_runs`)."""
        async with self.connect(owner=True) as owner, owner.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE"))
            if self.database.data_dir is not None:
                await conn.execute(text("CHECKPOINT"))

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


BenchBody = Callable[[Bench], Awaitable[list[Comparison]]]


async def run_bench(
    title: str, body: BenchBody, options: Options, database: BenchDatabase | None = None
) -> Report:
    """Prepare (or take) the database, run ``body``, stop its servers; the report."""
    database = database or await prepare_database(options.database_url)
    bench = Bench(
        options=options,
        database=database,
        tool=loadgen.choose(options.loadgen),
        meter=await PostgresMeter.find(database),
    )
    try:
        comparisons = await body(bench)
    finally:
        bench.stop()
    return Report(
        title=title,
        comparisons=comparisons,
        loadgen=loadgen.describe(bench.tool),
        synchronous_commit=await synchronous_commit(database),
        connections=options.connections,
    )


def main(
    title: str,
    body: BenchBody,
    *,
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
    argv: Sequence[str] | None = None,
) -> int:
    """The command line of one benchmark: parse, run, print the table (and the JSON)."""
    arguments = parser(title)
    if add_arguments is not None:
        add_arguments(arguments)
    options = options_of(arguments.parse_args(argv))
    report = asyncio.run(run_bench(title, body, options))
    print(report.table(), flush=True)
    if options.json_path:
        Path(options.json_path).write_text(json.dumps(report.to_json(), indent=2) + "\n")
    return 0


def run_id() -> str:
    """A token that makes idempotency keys of one run unlike any other run's."""
    return uuid.uuid4().hex[:12]


__all__ = [
    "APP_ROLE",
    "BENCH_DATABASE_ENV",
    "Bench",
    "BenchDatabase",
    "Comparison",
    "Goal",
    "HttpSide",
    "Options",
    "PostgresMeter",
    "Report",
    "Sample",
    "Server",
    "Side",
    "alternate",
    "answer",
    "asyncpg_dsn",
    "expect_same_answer",
    "libpq_environment",
    "main",
    "metered",
    "options_of",
    "parser",
    "prepare_database",
    "reaped_children_cpu",
    "run_bench",
    "run_id",
    "start_server",
]
