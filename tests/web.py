"""The portal and the console in a real browser: a served gateway, headless Chromium, axe.

``site`` serves the real gateway over HTTP and WebSocket on a loopback port (uvicorn, as
``loyalty serve`` does) on the session's database, with the demo tenant seeded once per
session as ``loyalty demo`` seeds it, so the journeys run on believable data. ``browser`` is
Debian's Chromium driven by Playwright; a missing Chromium fails the tests, never skips them
(``scripts/dev.py test`` installs it where it can). ``open_page`` gives a page that fails
its test on any script error, and ``axe_problems`` runs axe-core on a page.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
import uvicorn
from axe_playwright_python.async_playwright import Axe
from loyalty_core.db.engine import Database
from loyalty_core.modules.manager import ModuleRegistry
from loyalty_gateway.demo import DemoCredentials, seed
from loyalty_testing.gateway import (
    MakeApp,
    RunningGateway,
    admin_token,
    graphql,
    member_token,
)
from playwright.async_api import Browser, Page, async_playwright, expect
from starlette.types import ASGIApp

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SERIOUS = frozenset({"serious", "critical"})
BALANCE = """query Balance($id: ID!) {
  member(id: $id) { balances { asset { code } available } }
}"""


def chromium_path() -> str:
    """Chromium from ``LOYALTY_CHROMIUM`` or the PATH; the test fails without one."""
    found = os.environ.get("LOYALTY_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail(
            "Chromium is missing: install Debian's `chromium` package (scripts/dev.py test "
            "does, when it runs as root) or point LOYALTY_CHROMIUM at a Chromium binary"
        )
    return found


@dataclass(frozen=True)
class Site:
    """The served gateway with the demo tenant, and credentials for it."""

    url: str
    gateway: RunningGateway
    demo: DemoCredentials

    @property
    def member_token(self) -> str:
        return member_token(self.demo.tenant_id, self.demo.member_id)

    @property
    def admin_token(self) -> str:
        return admin_token(self.demo.tenant_id)

    def portal(self) -> str:
        """The portal's address that signs the demo member in, as the demo prints it."""
        return f"{self.url}/portal/#token={self.member_token}"

    def console(self) -> str:
        """The console's address that signs the demo tenant's admin in."""
        return f"{self.url}/console/#token={self.admin_token}"

    async def graphql(
        self, document: str, variables: dict[str, Any] | None = None, *, api_key: str | None = None
    ) -> dict[str, Any]:
        """A call beside the browser, as the tenant's admin or, with ``api_key``, as a till."""
        token = None if api_key else self.admin_token
        body = await graphql(self.gateway.client, document, variables, token, api_key)
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    async def points(self) -> int:
        """The demo member's available points."""
        data = await self.graphql(BALANCE, {"id": str(self.demo.member_id)})
        [balance] = [b for b in data["member"]["balances"] if b["asset"]["code"] == "points"]
        return int(balance["available"])


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def demo_tenant(db: Database, loyalty_registry: ModuleRegistry) -> DemoCredentials:
    """The demo tenant, seeded once per session as ``loyalty demo`` seeds it."""
    return await seed(db, loyalty_registry)


@asynccontextmanager
async def loopback(app: ASGIApp) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port, as ``loyalty serve`` does; the
    base URL. The app's lifespan is the caller's (the gateway's ran already)."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


@pytest_asyncio.fixture(loop_scope="session")
async def site(make_app: MakeApp, demo_tenant: DemoCredentials) -> AsyncIterator[Site]:
    """The gateway served on a free loopback port for one test."""
    running = await make_app()
    async with loopback(running.app) as url:
        yield Site(url, running, demo_tenant)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox"]
        )
        yield launched
        await launched.close()


OpenPage = Callable[..., Awaitable[Page]]


@pytest_asyncio.fixture(loop_scope="session")
async def open_page(browser: Browser) -> AsyncIterator[OpenPage]:
    """``await open_page(url, viewport=PHONE, locale="en-GB")``: a page in a fresh context
    (its own storage, so no sign-in leaks between tests). A script error or a failed request
    on any page fails the test when it ends."""
    contexts = []
    problems: list[str] = []

    async def open_(url: str, viewport: dict[str, int] = PHONE, locale: str = "en-GB") -> Page:
        context = await browser.new_context(viewport=viewport, locale=locale)  # type: ignore[arg-type]
        contexts.append(context)
        page = await context.new_page()
        page.set_default_timeout(10_000)
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on(
            "response",
            lambda response: (
                problems.append(f"HTTP {response.status}: {response.url}")
                if response.status >= 400
                else None
            ),
        )
        page.on(
            "console",
            lambda message: (
                problems.append(f"console: {message.text}") if message.type == "error" else None
            ),
        )
        await page.goto(url)
        return page

    yield open_
    for context in contexts:
        await context.close()
    assert not problems, problems


async def shown(page: Page, url: str) -> None:
    """Go to an app's page and wait until its content is loaded and shows no error (a
    query the API refused shows as an alert)."""
    await page.goto(url)
    main = page.locator("main")
    await expect(main).to_be_visible()
    await expect(main).not_to_contain_text("Loading")
    await expect(main.get_by_role("alert")).to_have_count(0)


async def axe_problems(page: Page) -> list[str]:
    """The serious and critical accessibility violations axe-core finds on the page."""
    results = await Axe().run(page)
    assert results.response["passes"], "axe-core checked nothing: did the page render?"
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation["impact"] in SERIOUS
    ]


__all__ = [
    "DESKTOP",
    "PHONE",
    "OpenPage",
    "Site",
    "axe_problems",
    "browser",
    "chromium_path",
    "demo_tenant",
    "loopback",
    "open_page",
    "shown",
    "site",
]
