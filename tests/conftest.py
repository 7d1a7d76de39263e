"""The fixtures come from the test kit (``loyalty-testing``), a workspace member whose pytest
plugin loads through its ``pytest11`` entry point, as it does for a third party's module;
the browser fixtures of the portal's and console's tests come from ``tests/web.py``."""

from tests.web import browser, demo_tenant, open_page, site

__all__ = ["browser", "demo_tenant", "open_page", "site"]
