"""``schema/schema.graphql`` is what the code builds: every installed module, composed."""

from __future__ import annotations

from pathlib import Path

from loyalty_core.modules.manager import build_registry
from loyalty_gateway.composition import export_sdl

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema" / "schema.graphql"
REGENERATE = "loyalty schema export > schema/schema.graphql"


def test_schema_file_matches_the_composed_schema() -> None:
    registry = build_registry()
    assert not registry.failures, f"modules failed to load: {registry.failures}"

    built = export_sdl(registry)
    stored = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else ""

    assert stored == built, f"{SCHEMA_FILE.name} is out of date; regenerate it: {REGENERATE}"
