"""GraphiQL is served whole by the gateway: a page that loads nothing from another host.

The page's every script and stylesheet must answer from the gateway with the right content
type and a long cache, every vendored file must be one the page uses (no dead weight in the
wheel), and the Headers tab's credentials must work as GraphiQL sends them: as HTTP headers,
and as the ``connection_init`` payload of a subscription's WebSocket.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import pytest_asyncio
from httpx_ws import AsyncWebSocketSession, aconnect_ws
from loyalty_core.tenants.models import Tenant
from loyalty_gateway import graphiql
from loyalty_gateway.graphiql import CACHE_FOREVER, STATIC_PATH
from loyalty_testing import MakeApp, RunningGateway, admin_token

PAGE_URL = "http://test/graphql"
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css"}


class References(HTMLParser):
    """The URLs a page makes the browser load: scripts, stylesheets and icons."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        url = found.get("src") if tag == "script" else found.get("href") if tag == "link" else None
        if url is not None:
            self.urls.append(url)


@pytest_asyncio.fixture(loop_scope="session")
async def gateway(make_app: MakeApp) -> RunningGateway:
    return await make_app()


async def page_references(gateway: RunningGateway) -> list[str]:
    response = await gateway.client.get("/graphql", headers=BROWSER)
    assert response.status_code == 200
    references = References()
    references.feed(response.text)
    assert references.urls, "the page loads no script: is it GraphiQL?"
    return references.urls


async def test_the_page_loads_nothing_from_another_host(gateway: RunningGateway) -> None:
    for url in await page_references(gateway):
        if url.startswith("data:"):
            continue
        parts = urlsplit(urljoin(PAGE_URL, url))
        assert (parts.scheme, parts.netloc) == ("http", "test"), url
    page = graphiql.graphiql_page().decode()
    assert "http://" not in page
    assert "https://" not in page


async def test_every_file_the_page_loads_is_served_with_its_type(
    gateway: RunningGateway,
) -> None:
    loaded = [url for url in await page_references(gateway) if not url.startswith("data:")]
    for url in loaded:
        response = await gateway.client.get(urljoin(PAGE_URL, url))
        assert response.status_code == 200, url
        media_type = response.headers["content-type"].partition(";")[0]
        assert media_type == MEDIA_TYPES[Path(url).suffix], url
        assert response.headers["cache-control"] == CACHE_FOREVER
        assert response.headers["x-content-type-options"] == "nosniff"
    # Everything vendored is used: the wheel carries no file the page does not load.
    assert {Path(url).name for url in loaded} == set(graphiql.assets())


async def test_the_page_keeps_the_headers_tab_and_subscriptions(
    gateway: RunningGateway,
) -> None:
    page = (await gateway.client.get("/graphql", headers=BROWSER)).text
    assert "isHeadersEditorEnabled: true" in page
    assert "subscriptionUrl" in page


@pytest.mark.parametrize(
    "name",
    [
        "graphiql.html",
        "README.md",
        "LICENSE.react",
        "..%2Fgraphiql.html",
        "..%2F..%2Fhttp.py",
        "%2e%2e%2fapp.py",
        "graphiql-0.0.0.min.js",
        "react-18.2.0.production.min.js%00.css",
    ],
)
async def test_only_the_vendored_scripts_and_styles_are_served(
    gateway: RunningGateway, name: str
) -> None:
    response = await gateway.client.get(f"{STATIC_PATH}/{name}")
    assert response.status_code == 404


async def test_production_serves_no_graphiql_files(make_app: MakeApp) -> None:
    production = await make_app(environment="production")
    for name in graphiql.assets():
        response = await production.client.get(f"{STATIC_PATH}/{name}")
        assert response.status_code == 404


async def test_a_subscription_socket_takes_the_headers_tab_as_graphiql_sends_it(
    gateway: RunningGateway, tenant: Tenant
) -> None:
    """GraphiQL's fetcher sends the Headers tab, keys as typed, as the ``connection_init``
    payload: ``{"Authorization": "Bearer ..."}`` must authenticate the socket."""
    headers_tab = {"Authorization": f"Bearer {admin_token(tenant.id)}"}
    session: AsyncWebSocketSession
    async with aconnect_ws(
        PAGE_URL,
        gateway.client,
        subprotocols=["graphql-transport-ws"],
        keepalive_ping_interval_seconds=None,
    ) as session:
        await session.send_json({"type": "connection_init", "payload": headers_tab})
        assert await session.receive_json(timeout=10) == {"type": "connection_ack"}
