"""The ``loyalty`` command line, called in-process through ``main(argv)``.

Commands that touch the database run against the session's test database: its owner URL
and app-role URL go into the environment, as an operator would set them. ``main`` starts
its own event loop, so async tests call it in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
import uvicorn
from loyalty_core.db.engine import Database
from loyalty_core.members.service import create_member
from loyalty_core.modules.manager import build_registry
from loyalty_core.settings import Settings
from loyalty_core.tenants.models import Tenant
from loyalty_gateway import bootstrap
from loyalty_gateway.bootstrap import tenant_by_slug
from loyalty_gateway.cli import build_parser, main
from loyalty_testing import DatabaseUrls
from sqlalchemy.engine import URL

HEAVY_MODULES = (
    "strawberry",
    "graphql",
    "sqlalchemy",
    "asyncpg",
    "alembic",
    "uvicorn",
    "starlette",
    "loyalty_core.db",
    "loyalty_core.rules",
    "loyalty_core.sdk",
    "loyalty_gateway.app",
)
"""What the gateway needs and ``loyalty --help`` does not: seconds of imports together."""

CREATING_COMMANDS = {"serve", "migrate", "demo"}
"""The commands that create an embedded database where there is none."""

COMMANDS = (
    ["serve"],
    ["migrate"],
    ["demo", "--no-serve"],
    ["tenant", "create", "--slug", "acme", "--name", "ACME"],
    ["apikey", "create", "--tenant", "acme", "--name", "till", "--scope", "events:write"],
    ["token", "--role", "admin", "--tenant", "acme"],
    ["modules"],
    ["module", "new", "stamps"],
    ["schema", "export"],
    ["jobs", "run"],
)


def _takes_data_dir(argv: Sequence[str]) -> bool:
    return hasattr(build_parser().parse_args(list(argv)), "data_dir")


@pytest.fixture(autouse=True)
def development_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from the defaults, whatever the shell running the suite exported."""
    for name in Settings.model_fields:
        monkeypatch.delenv(f"LOYALTY_{name.upper()}", raising=False)


@pytest.fixture
def database_environment(database_urls: DatabaseUrls, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the CLI at the test database, as the owner and as the app role."""
    monkeypatch.setenv("LOYALTY_DATABASE_URL", _url(database_urls.owner))
    monkeypatch.setenv("LOYALTY_APP_DATABASE_URL", _url(database_urls.app))
    monkeypatch.setenv("LOYALTY_APP_ROLE_PASSWORD", database_urls.app.password or "")


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda argv: " ".join(argv[:2]))
def test_parser_knows_every_command(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert callable(args.handler)


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["token", "--role", "platform"], ["apikey", "create", "--help"]],
    ids=" ".join,
)
def test_commands_that_need_no_gateway_do_not_import_it(argv: list[str]) -> None:
    """The CLI module imports only what its parser needs; each command imports the rest
    when it runs. Checked in a fresh interpreter, since this one has imported everything."""
    loaded = _modules_loaded_by(argv)
    heavy = sorted(name for name in loaded if any(_is_within(name, root) for root in HEAVY_MODULES))
    assert heavy == []
    assert "loyalty_gateway.cli" in loaded


def test_help_loads_neither_settings_nor_token_signing() -> None:
    """pydantic-settings and PyJWT (with cryptography) cost half a second between them:
    the commands that need them import them."""
    loaded = _modules_loaded_by(["--help"])
    assert not {"pydantic", "pydantic_settings", "jwt", "cryptography"} & loaded


def test_every_command_that_uses_the_database_takes_data_dir() -> None:
    for argv in COMMANDS:
        takes_data_dir = _takes_data_dir(argv)
        assert takes_data_dir is (argv[0] not in {"modules", "module", "schema"}), argv


@pytest.mark.parametrize(
    "argv",
    [argv for argv in COMMANDS if _takes_data_dir(argv) and argv[0] not in CREATING_COMMANDS],
    ids=lambda argv: " ".join(argv[:2]),
)
@pytest.mark.parametrize("chosen_by", ["--data-dir", "LOYALTY_DATA_DIR"])
def test_commands_refuse_to_create_an_empty_database(
    argv: list[str],
    chosen_by: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """After ``demo --data-dir X``, an admin command run without it must not initialise a
    second, empty database somewhere else: it says where it looked and how to choose."""
    folder = tmp_path / "nothing-here"
    if chosen_by == "--data-dir":
        argv = [*argv, "--data-dir", str(folder)]
    else:
        monkeypatch.setenv("LOYALTY_DATA_DIR", str(folder))
    assert main(argv) == 1
    message = capsys.readouterr().err
    assert f"no database in {folder} (from {chosen_by})" in message
    for way in ("loyalty demo", "--data-dir", "LOYALTY_DATA_DIR", "LOYALTY_DATABASE_URL"):
        assert way in message
    assert not folder.exists()


def test_token_ttl_takes_units() -> None:
    args = build_parser().parse_args(["token", "--role", "platform", "--ttl", "12h"])
    assert args.ttl == timedelta(hours=12)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["token", "--role", "platform", "--ttl", "0"])


def test_token_is_refused_in_production(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOYALTY_ENVIRONMENT", "production")
    assert main(["token", "--role", "platform"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "production" in captured.err


def test_demo_is_refused_in_production(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOYALTY_ENVIRONMENT", "production")
    assert main(["demo", "--no-serve", "--data-dir", str(tmp_path)]) == 1
    assert "production" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_platform_token_has_role_and_no_tenant(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--role", "platform", "--subject", "ops"]) == 0
    claims = _claims(capsys.readouterr().out)
    assert claims["role"] == "platform"
    assert claims["sub"] == "ops"
    assert "tenant" not in claims
    assert claims["exp"] - claims["iat"] == 30 * 86400


def test_admin_token_needs_a_tenant(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--role", "admin"]) == 1
    assert "--tenant" in capsys.readouterr().err


def test_schema_export_prints_the_sdl(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "export"]) == 0
    sdl = capsys.readouterr().out
    assert "type Query" in sdl
    assert "memberCreate" in sdl


def test_schema_export_writes_a_file(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"
    assert main(["schema", "export", "--output", str(target)]) == 0
    assert "type Mutation" in target.read_text(encoding="utf-8")


def test_modules_lists_the_core(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["modules"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert "core" in names


@pytest.mark.usefixtures("database_environment")
async def test_tenant_apikey_and_tokens_from_the_command_line(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    slug = f"cli-{secrets.token_hex(4)}"
    assert await _main(["tenant", "create", "--slug", slug, "--name", "CLI Stores"]) == 0
    tenant = await tenant_by_slug(db, slug)
    assert tenant is not None
    assert str(tenant.id) in capsys.readouterr().out

    scopes = ["--scope", "events:write", "--scope", "members:read"]
    assert await _main(["apikey", "create", "--tenant", slug, "--name", "till", *scopes]) == 0
    assert capsys.readouterr().out.strip().startswith(f"lk_{tenant.id.hex}_")

    assert await _main(["token", "--role", "admin", "--tenant", slug]) == 0
    admin = _claims(capsys.readouterr().out)
    assert (admin["role"], admin["tenant"]) == ("admin", str(tenant.id))

    async with db.tenant_transaction(tenant.id) as conn:
        member = await create_member(
            conn, tenant.id, identifiers=[("email", "cli@example.com")], actor="test"
        )
    member_argv = ["token", "--role", "member", "--tenant", slug, "--member", str(member.id)]
    assert await _main(member_argv) == 0
    claims = _claims(capsys.readouterr().out)
    assert (claims["role"], claims["sub"], claims["tenant"]) == (
        "member",
        str(member.id),
        str(tenant.id),
    )


@pytest.mark.usefixtures("database_environment")
async def test_member_token_needs_a_member_of_the_tenant(
    capsys: pytest.CaptureFixture[str],
) -> None:
    slug = f"cli-{secrets.token_hex(4)}"
    assert await _main(["tenant", "create", "--slug", slug, "--name", "CLI Stores"]) == 0
    stranger = str(uuid.uuid4())
    argv = ["token", "--role", "member", "--tenant", slug, "--member", stranger]
    assert await _main(argv) == 1
    assert "no member" in capsys.readouterr().err
    assert await _main(["token", "--role", "admin", "--tenant", "no-such-tenant"]) == 1


@pytest.mark.usefixtures("database_environment")
async def test_tenant_create_reports_a_taken_slug(capsys: pytest.CaptureFixture[str]) -> None:
    slug = f"cli-{secrets.token_hex(4)}"
    assert await _main(["tenant", "create", "--slug", slug, "--name", "First"]) == 0
    assert await _main(["tenant", "create", "--slug", slug, "--name", "Second"]) == 1
    assert "ALREADY_EXISTS" in capsys.readouterr().err


@pytest.mark.usefixtures("database_environment")
@pytest.mark.parametrize(
    ("option", "value", "field"),
    [
        ("--timezone", "", "timezone"),
        ("--timezone", "../etc", "timezone"),
        ("--currency", "XYZ", "defaultCurrency"),
    ],
)
async def test_tenant_create_refuses_an_unknown_time_zone_or_currency(
    capsys: pytest.CaptureFixture[str], option: str, value: str, field: str
) -> None:
    slug = f"cli-{secrets.token_hex(4)}"
    assert await _main(["tenant", "create", "--slug", slug, "--name", "Bad", option, value]) == 1
    assert f"INVALID_INPUT ({field})" in capsys.readouterr().err


@pytest.mark.usefixtures("database_environment")
async def test_migrate_is_safe_to_run_again() -> None:
    assert await _main(["migrate"]) == 0


@pytest.mark.usefixtures("database_environment")
async def test_jobs_run_prints_a_count_per_job(
    capsys: pytest.CaptureFixture[str], tenant: Tenant
) -> None:
    assert await _main(["jobs", "run", "--tenant", tenant.slug]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines
    assert all(line.rsplit(": ", 1)[1].isdigit() for line in lines)

    assert await _main(["jobs", "run", "--tenant", "no-such-shop"]) == 1
    assert "no tenant with slug 'no-such-shop'" in capsys.readouterr().err


def _is_within(module: str, root: str) -> bool:
    return module == root or module.startswith(f"{root}.")


def _modules_loaded_by(argv: list[str]) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``loyalty ARGV``."""
    script = (
        "import json, sys\n"
        "from loyalty_gateway.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
    completed = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(completed.stdout.splitlines()[-1])
    return set(loaded)


async def _main(argv: Sequence[str]) -> int:
    """``main`` runs its own event loop: give it a thread of its own."""
    return await asyncio.to_thread(main, list(argv))


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        token.strip(), Settings().jwt_secret.get_secret_value(), algorithms=["HS256"]
    )
    return claims


def _url(url: URL) -> str:
    return url.render_as_string(hide_password=False)


@pytest.mark.parametrize(("level", "access_log"), [("INFO", True), ("WARNING", False)])
def test_serve_builds_access_lines_only_when_they_are_logged(
    level: str, access_log: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvicorn is told of the access log only when its INFO lines are kept: otherwise it
    would build every line's arguments for the logger to drop."""
    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(options))
    root = logging.getLogger()
    handlers, root_level = root.handlers[:], root.level
    previous_sigterm = signal.getsignal(signal.SIGTERM)
    try:
        settings = Settings(log_level=level, database_url="postgresql://localhost/loyalty")
        bootstrap.serve_app(settings, build_registry())
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)
        root.handlers[:] = handlers
        root.setLevel(root_level)
    assert served["access_log"] is access_log
    assert served["log_config"] is None
