"""``loyalty demo`` as a user runs it: real processes, a fresh data folder, real HTTP.

The demo prints credentials and exits (``--no-serve``), with the command that serves them;
that command, run as printed, must serve the printed URLs and accept exactly those
credentials, and admin commands given the same ``--data-dir`` must find the demo's data.
A second demo run must reuse the data and print the same API key, not seed a second
programme.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

LABELLED = re.compile(r"^(?P<label>[A-Z][A-Za-z ]*?):\s+(?P<value>\S+)", re.MULTILINE)
SERVE_WITH = re.compile(r"^Serve with:\s+(?P<command>.+)$", re.MULTILINE)
START_TIMEOUT = 60.0

pytestmark = pytest.mark.timeout(180)


def loyalty_command() -> list[str]:
    """The installed ``loyalty`` script beside this interpreter, or the module itself."""
    script = Path(sys.executable).parent / "loyalty"
    return [str(script)] if script.exists() else [sys.executable, "-m", "loyalty_gateway.cli"]


def environment(**settings: str) -> dict[str, str]:
    """This process's environment with only the given LOYALTY_* settings: the demo must
    work from the defaults, on the embedded PostgreSQL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
    return env | {f"LOYALTY_{name.upper()}": value for name, value in settings.items()}


def run_demo(data_dir: Path, port: int, *, port_from_environment: bool = False) -> dict[str, str]:
    """Run ``loyalty demo --no-serve`` on ``port`` (given as --port, or as LOYALTY_PORT) and
    return its labelled lines (``Admin token`` ...), and the command it says serves them
    under ``Serve with``."""
    options = ["--no-serve", "--data-dir", str(data_dir)]
    if port_from_environment:
        env = environment(port=str(port))
    else:
        env, options = environment(), [*options, "--port", str(port)]
    completed = run_loyalty(["demo", *options], env)
    assert completed.returncode == 0, completed.stderr
    printed = {m["label"]: m["value"] for m in LABELLED.finditer(completed.stdout)}
    serve_with = SERVE_WITH.search(completed.stdout)
    assert serve_with is not None, completed.stdout
    return printed | {"Serve with": serve_with["command"]}


def run_loyalty(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*loyalty_command(), *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@contextmanager
def serving(command: str, base_url: str, log: Path) -> Iterator[None]:
    """Run ``command`` (a ``loyalty serve ...`` line, as printed) in an environment without
    LOYALTY_* settings; return once ``base_url`` answers, and stop it with SIGTERM, as a
    process supervisor would."""
    program, *argv = shlex.split(command)
    assert program == "loyalty"
    with log.open("w") as output:
        process = subprocess.Popen(
            [*loyalty_command(), *argv],
            env=environment(),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_healthy(process, base_url, log)
            yield
        finally:
            _stop(process)


def test_demo_prints_credentials_that_serve_accepts(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    port = free_port()
    printed = run_demo(data_dir, port)
    assert printed["GraphQL URL"] == f"http://127.0.0.1:{port}/graphql"
    assert printed["GraphiQL URL"] == printed["GraphQL URL"]
    assert (data_dir / "demo-credentials.json").exists()

    base_url = f"http://127.0.0.1:{port}"
    with serving(printed["Serve with"], base_url, tmp_path / "serve.log"):
        admin = query(printed["GraphQL URL"], {"Authorization": f"Bearer {printed['Admin token']}"})
        assert admin == {"viewer": {"role": "ADMIN"}, "tenant": {"slug": "demo"}}

        pos = query(printed["GraphQL URL"], {"X-Api-Key": printed["POS API key"]})
        assert pos == {"viewer": {"role": "TOUCHPOINT"}, "tenant": {"slug": "demo"}}

        member = query(
            printed["GraphQL URL"],
            {"Authorization": f"Bearer {printed['Member token']}"},
            "{ viewer { role member { firstName balances { available asset { code } } } } }",
        )
        assert member["viewer"]["member"]["firstName"] == "Mia"
        assert {"available": 68, "asset": {"code": "points"}} in member["viewer"]["member"][
            "balances"
        ]
        # Gift cards and payments are enabled: the till can list payments (none yet), the
        # admin the cards sold, and Mia her birthday card, part of it spent at the café.
        payments = query(
            printed["GraphQL URL"],
            {"X-Api-Key": printed["POS API key"]},
            "{ payments { edges { node { id } } } }",
        )
        assert payments == {"payments": {"edges": []}}
        cards = query(
            printed["GraphQL URL"],
            {"Authorization": f"Bearer {printed['Admin token']}"},
            "{ giftCards { edges { node { id } } } }",
        )
        assert len(cards["giftCards"]["edges"]) == 3
        mine = query(
            printed["GraphQL URL"],
            {"Authorization": f"Bearer {printed['Member token']}"},
            "{ viewer { member { giftCards { balance currency codeHeld } } } }",
        )
        assert mine["viewer"]["member"]["giftCards"] == [
            {"balance": 3720, "currency": "EUR", "codeHeld": True}
        ]

        # The portal and the console are served, and their printed links sign in with the
        # printed tokens (the browser tests follow such links; here the page and the token).
        for label, token in (("Portal URL", "Member token"), ("Console URL", "Admin token")):
            page, _, signed_in = printed[label].partition("#token=")
            assert signed_in == printed[token]
            assert '<script type="importmap">' in httpx.get(page, timeout=10).text

        # An admin command finds the demo's data when given its folder, and says so.
        scopes = ["--scope", "events:write"]
        argv = ["apikey", "create", "--data-dir", str(data_dir), "--tenant", "demo", *scopes]
        created = run_loyalty([*argv, "--name", "second till"], environment())
        assert created.returncode == 0, created.stderr
        assert created.stdout.startswith("lk_")
        assert f"embedded database in {data_dir} (from --data-dir)" in created.stderr

        other_port = free_port()
        again = run_demo(data_dir, other_port, port_from_environment=True)
    assert again["Tenant id"] == printed["Tenant id"]
    assert again["POS API key"] == printed["POS API key"]
    assert again["GraphQL URL"] == f"http://127.0.0.1:{other_port}/graphql"
    assert f"--port {other_port}" in again["Serve with"]
    # The last process using the embedded PostgreSQL stopped it on its way out.
    assert not (data_dir / "pgdata" / "postmaster.pid").exists()


def query(
    url: str, headers: dict[str, str], document: str = "{ viewer { role } tenant { slug } }"
) -> dict[str, Any]:
    response = httpx.post(url, json={"query": document}, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_healthy(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"loyalty serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"loyalty serve did not answer within {START_TIMEOUT} s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
