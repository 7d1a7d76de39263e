"""Every GraphQL document the portal and the console send is valid against the public schema.

The apps are reference clients of the API: they use only operations any frontend could.
Their documents are the template literals in their ES modules that start with ``query``,
``mutation`` or ``subscription``; this test finds each one and validates it against the
schema of every module together (``schema/schema.graphql``), so a renamed field or a
missing argument fails here before it fails in a browser.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import GraphQLSchema, build_schema, parse, validate

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "gateway" / "src" / "loyalty_gateway" / "static" / "web"
DOCUMENT = re.compile(r"`((?:query|mutation|subscription)\b[^`]*)`")


def documents() -> list[tuple[str, str]]:
    return [
        (f"{path.parent.name}/{path.name}", text)
        for path in sorted(WEB.glob("*/*.js"))
        for text in DOCUMENT.findall(path.read_text())
    ]


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema((ROOT / "schema" / "schema.graphql").read_text())


def test_the_apps_send_documents() -> None:
    """The pattern finds the documents (an empty list would make the test below vacuous)."""
    files = {name for name, _ in documents()}
    assert len(documents()) > 20
    assert {"portal/home.js", "console/members.js"} <= files


@pytest.mark.parametrize(("name", "text"), documents(), ids=lambda value: str(value)[:40])
def test_a_document_is_valid(schema: GraphQLSchema, name: str, text: str) -> None:
    errors = validate(schema, parse(text))
    assert not errors, f"{name}: {[error.message for error in errors]}"
