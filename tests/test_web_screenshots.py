"""Screenshots of the portal and the console at phone and desktop widths, for docs/web.md.

In the suite the pictures go to a temporary folder, so the test proves each page renders
with the demo's data without a script error. ``python -m tests.test_web_screenshots``
regenerates the pictures in ``docs/web/`` (it runs this test with ``LOYALTY_SCREENSHOTS``
pointing there).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.web import DESKTOP, PHONE, OpenPage, Site, shown

DOCS = Path(__file__).resolve().parents[1] / "docs" / "web"
SHOTS = {
    "portal": {"home": "/", "history": "/history", "offers": "/offers", "games": "/games"},
    "console": {"overview": "/", "members": "/members", "campaigns": "/campaigns"},
}
"""The pages docs/web.md shows, by app: name to route."""


def folder(tmp_path: Path) -> Path:
    chosen = os.environ.get("LOYALTY_SCREENSHOTS")
    return Path(chosen) if chosen else tmp_path


@pytest.mark.parametrize("app", sorted(SHOTS))
async def test_screenshots(site: Site, open_page: OpenPage, tmp_path: Path, app: str) -> None:
    out = folder(tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    for width, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = await open_page(site.portal() if app == "portal" else site.console(), viewport)
        for name, route in SHOTS[app].items():
            await shown(page, f"{site.url}/{app}/#{route}")
            path = out / f"{app}-{name}-{width}.png"
            await page.screenshot(path=path)
            assert path.read_bytes().startswith(b"\x89PNG")


if __name__ == "__main__":
    os.environ["LOYALTY_SCREENSHOTS"] = str(DOCS)
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
