"""How a module is installed and found again: `modules.txt` survives the locked sync,
`loyalty modules` says which distribution each module came from, and a database that
records a migration of a module no longer installed is named as such, not a stack trace."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import secrets
from collections.abc import AsyncIterator, Mapping
from importlib.metadata import PathDistribution
from pathlib import Path
from types import ModuleType

import pytest
import pytest_asyncio
from loyalty_core.db.migrate import UninstalledModuleRevisions, migrate, migration_status
from loyalty_core.modules.manager import build_registry
from loyalty_core.modules.origin import origin_of
from loyalty_gateway.cli import main
from loyalty_testing import DatabaseUrls, MakeApp
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parent.parent


def _dev_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "scripts" / "dev.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("content", [None, "", "# nothing yet\n\n"])
def test_without_listed_modules_the_sync_is_exact(tmp_path: Path, content: str | None) -> None:
    listing = tmp_path / "modules.txt"
    if content is not None:
        listing.write_text(content)
    [(_, sync)] = _dev_script().install_commands(listing)
    assert sync[1:] == ["sync", "--locked", "--all-packages"]


def test_listed_modules_are_installed_after_a_sync_that_keeps_them(tmp_path: Path) -> None:
    listing = tmp_path / "modules.txt"
    listing.write_text("-e ../stamp-card  # the module I am writing\n")
    [(_, sync), (_, pip)] = _dev_script().install_commands(listing)
    assert sync[1:] == ["sync", "--locked", "--all-packages", "--inexact"]
    assert pip[1:3] == ["pip", "install"]
    assert pip[-2:] == ["-r", str(listing)]


def _distribution(tmp_path: Path, direct_url: Mapping[str, object] | None) -> PathDistribution:
    info = tmp_path / "loyalty_stamps-1.2.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: loyalty-stamps\nVersion: 1.2.0\n")
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps(direct_url))
    return PathDistribution(info)


def test_a_module_from_an_index_is_in_site_packages(tmp_path: Path) -> None:
    origin = origin_of(_distribution(tmp_path, None))
    assert str(origin) == f"loyalty-stamps 1.2.0 (site-packages: {tmp_path})"


def test_an_editable_module_names_its_source_tree(tmp_path: Path) -> None:
    direct = {"url": "file:///src/stamp-card", "dir_info": {"editable": True}}
    assert str(origin_of(_distribution(tmp_path, direct))) == (
        "loyalty-stamps 1.2.0 (editable: /src/stamp-card)"
    )


def test_a_module_from_a_wheel_names_the_wheel(tmp_path: Path) -> None:
    direct = {"url": "file:///dist/loyalty_stamps-1.2.0-py3-none-any.whl", "archive_info": {}}
    assert str(origin_of(_distribution(tmp_path, direct))) == (
        f"loyalty-stamps 1.2.0 (site-packages: {tmp_path}, "
        "from /dist/loyalty_stamps-1.2.0-py3-none-any.whl)"
    )


def test_loyalty_modules_shows_where_each_module_came_from(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["modules"]) == 0
    out = capsys.readouterr().out
    assert f"from loyalty-core 0.1.0 (editable: {ROOT / 'core'})" in out
    assert f"from loyalty-giftcards 0.1.0 (editable: {ROOT / 'plugins' / 'giftcards'})" in out


def test_a_module_loaded_by_import_has_no_distribution() -> None:
    from tests.modules import greetings

    registry = build_registry(plugins=[greetings], load_entry_points=False)
    assert registry.modules["greetings"].origin is None
    assert registry.modules["core"].origin is not None


@pytest_asyncio.fixture(loop_scope="session")
async def left_behind(database_urls: DatabaseUrls) -> AsyncIterator[URL]:
    """A database whose ``alembic_version`` records the first revision of module ``stamps``
    (which depends on the core, so it is the only row), and no module provides it."""
    server = create_async_engine(database_urls.owner, isolation_level="AUTOCOMMIT")
    name = f"loyalty_orphan_{secrets.token_hex(4)}"
    async with server.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = database_urls.owner.set(database=name)
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            text("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
        )
        await conn.execute(text("INSERT INTO alembic_version VALUES ('stamps_0001')"))
    await engine.dispose()
    try:
        yield url
    finally:
        async with server.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await server.dispose()


async def test_migrate_names_the_module_a_left_behind_revision_belongs_to(left_behind: URL) -> None:
    with pytest.raises(UninstalledModuleRevisions) as raised:
        await migrate(left_behind, app_role="loyalty_app", app_password=secrets.token_hex(8))
    assert str(raised.value).startswith(
        "the database has revision stamps_0001 of module 'stamps', which is not installed: "
        "install it again"
    )


async def test_loyalty_migrate_says_so_in_one_line(
    left_behind: URL, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOYALTY_DATABASE_URL", left_behind.render_as_string(hide_password=False))
    monkeypatch.setenv("LOYALTY_APP_ROLE_PASSWORD", secrets.token_hex(8))
    assert await asyncio.to_thread(main, ["migrate"]) == 1
    err = capsys.readouterr().err
    assert "\nloyalty: error: the database has revision stamps_0001 of module 'stamps'" in err
    assert "Traceback" not in err


async def test_the_status_names_the_revision_no_module_provides(left_behind: URL) -> None:
    status = await migration_status(left_behind)
    assert status.uninstalled == ("stamps_0001",)
    assert status.pending  # what it depended on is hidden behind it, so the core looks behind


async def test_a_gateway_without_an_installed_module_says_so_at_start(
    make_app: MakeApp, caplog: pytest.LogCaptureFixture
) -> None:
    """The session's database has the first-party modules' revisions; a gateway that runs
    the core alone still serves, and says which modules' tables it found without them."""
    running = await make_app(build_registry(load_entry_points=False))
    response = await running.client.get("/readyz")
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(
        "of module 'giftcards', which is not installed: install it again" in w for w in warnings
    ), warnings
    if response.status_code != 200:  # a module that depended on the core's head hides it
        assert "of module" in response.json()["reasons"][-1]
