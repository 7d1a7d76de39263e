"""The worked examples of docs/modules/*.md as their tests read them.

A guide's worked example is a section of numbered steps, each a ``graphql`` block with the
``json`` block under it as its variables. A guide with several callers names each step's
caller, in its own way (a comment line opening the block, or a word in bold before it):
:func:`step_pattern` takes that as a pattern with a ``caller`` group. A JSON string such as
``"$MEMBER_ID"`` is a placeholder, filled by :func:`substitute` with what an earlier step
answered; one no step set fails the test.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GUIDES = Path(__file__).resolve().parent.parent / "docs" / "modules"
PLACEHOLDER = re.compile(r"^\$[A-Z][A-Z0-9_]*$")


@dataclass(frozen=True)
class Step:
    operation: str
    variables: dict[str, Any]
    caller: str | None = None


def step_pattern(*, before: str = "", first_line: str = "") -> re.Pattern[str]:
    """A step: what stands ``before`` its ``graphql`` block, the block (whose ``first_line``
    may name the caller) and the ``json`` block under it."""
    return re.compile(
        before
        + r"^```graphql\n"
        + first_line
        + r"(?P<operation>.*?)^```\s*^```json\n(?P<variables>.*?)^```",
        re.MULTILINE | re.DOTALL,
    )


STEP = step_pattern()
"""A step whose caller the test knows without being told."""


def steps(guide: str, heading: str, pattern: re.Pattern[str] = STEP) -> list[Step]:
    """The steps of section ``heading`` (``## heading``) of ``docs/modules/<guide>``."""
    text = (GUIDES / guide).read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return [
        Step(match["operation"], json.loads(match["variables"]), match.groupdict().get("caller"))
        for match in pattern.finditer(section)
    ]


def placeholders(found: list[Step]) -> set[str]:
    """The names of the placeholders the steps' variables use."""
    return set(re.findall(r'"\$([A-Z][A-Z0-9_]*)"', json.dumps([s.variables for s in found])))


def substitute(value: Any, names: dict[str, str]) -> Any:
    """``value`` with every placeholder replaced by its name's value in ``names``."""
    if isinstance(value, dict):
        return {key: substitute(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, names) for item in value]
    if isinstance(value, str) and PLACEHOLDER.match(value):
        assert value[1:] in names, f"{value} is not set by an earlier step"
        return names[value[1:]]
    return value
