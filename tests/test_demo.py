"""``loyalty demo`` as a user runs it: real processes, a fresh data folder, real HTTP.

The demo prints credentials and exits (``--no-serve``); ``loyalty serve`` on the same data
folder must then accept exactly those credentials. A second demo run must reuse the data
and print the same API key, not seed a second programme.
"""

from __future__ import annotations

import os
import re
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
START_TIMEOUT = 60.0

pytestmark = pytest.mark.timeout(180)


def loyalty_command() -> list[str]:
    """The installed ``loyalty`` script beside this interpreter, or the module itself."""
    script = Path(sys.executable).parent / "loyalty"
    return [str(script)] if script.exists() else [sys.executable, "-m", "loyalty_gateway.cli"]


def environment(data_dir: Path) -> dict[str, str]:
    """This process's environment without any LOYALTY_* setting, on ``data_dir``: the demo
    must work from the defaults, on the embedded PostgreSQL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
    env["LOYALTY_DATA_DIR"] = str(data_dir)
    return env


def run_demo(data_dir: Path, port: int) -> dict[str, str]:
    """Run ``loyalty demo --no-serve`` and return its labelled lines (``Admin token`` ...)."""
    options = ["--no-serve", "--data-dir", str(data_dir), "--port", str(port)]
    completed = subprocess.run(
        [*loyalty_command(), "demo", *options],
        env=environment(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return {m["label"]: m["value"] for m in LABELLED.finditer(completed.stdout)}


@contextmanager
def serving(data_dir: Path, port: int, log: Path) -> Iterator[str]:
    """``loyalty serve`` on ``data_dir``; yields its base URL once it answers, and stops it
    with SIGTERM, as a process supervisor would."""
    with log.open("w") as output:
        process = subprocess.Popen(
            [*loyalty_command(), "serve", "--port", str(port)],
            env=environment(data_dir),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_until_healthy(process, base_url, log)
            yield base_url
        finally:
            _stop(process)


def test_demo_prints_credentials_that_serve_accepts(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    port = free_port()
    printed = run_demo(data_dir, port)
    assert printed["GraphQL URL"] == f"http://127.0.0.1:{port}/graphql"
    assert printed["GraphiQL URL"] == printed["GraphQL URL"]
    assert (data_dir / "demo-credentials.json").exists()

    with serving(data_dir, port, tmp_path / "serve.log"):
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
        # Gift cards and payments are enabled: the till can list payments (none yet), and
        # the admin gift cards.
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
        assert cards == {"giftCards": {"edges": []}}

        again = run_demo(data_dir, port)
    assert again["Tenant id"] == printed["Tenant id"]
    assert again["POS API key"] == printed["POS API key"]
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
