"""docs/sdk.md is generated from the code: every SDK export with its signature and
docstring, every hook with its example, every domain event topic with its payload fields.

``python -m tests.test_sdk_reference`` rewrites it; the tests fail when it is stale, when an
export has no docstring of its own, or when a hook's docstring has no example. datasette's
"every hook is documented and tested" is the model: what a module author reads can never
lag behind what the SDK offers.
"""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from loyalty_core import SDK_VERSION, sdk
from loyalty_core.modules import hookspecs
from loyalty_core.modules.topics import TOPICS, PurchaseItem, documented_fields

REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "sdk.md"
REGENERATE = "python -m tests.test_sdk_reference"
SUBMODULES = ("ledger", "members", "events", "tenants", "conditions", "sessions", "effects")
_ADDRESS = re.compile(r" at 0x[0-9a-f]+")


def exports() -> Iterator[tuple[str, str, object]]:
    """(where, name, object) of every name the SDK exports, submodules' included."""
    for name in sdk.__all__:
        value = getattr(sdk, name)
        if not isinstance(value, types.ModuleType):
            yield "loyalty_core.sdk", name, value
    for module in SUBMODULES:
        namespace = getattr(sdk, module)
        for name in namespace.__all__:
            yield f"loyalty_core.sdk.{module}", name, getattr(namespace, name)


def own_doc(value: object) -> str | None:
    """The docstring written for ``value`` itself: not one it inherits, not the one
    ``dataclass`` makes up from the fields. None for values (constants, markers)."""
    if inspect.isclass(value):
        doc = value.__dict__.get("__doc__")
    elif inspect.isfunction(value) or inspect.ismethod(value):
        doc = value.__doc__
    else:
        return None
    name = getattr(value, "__name__", "")
    if not doc or doc.startswith(f"{name}("):
        return ""
    return inspect.cleandoc(doc)


def render() -> str:
    lines = [
        "# SDK reference",
        "",
        f"<!-- Generated from the code by `{REGENERATE}`; a test fails when it is stale. -->",
        "",
        f"SDK version **{SDK_VERSION}**. Modules import only `loyalty_core.sdk` (and, in their",
        "tests, the test kit). The [module guide](modules.md) explains how the pieces fit;",
        "this page lists each of them as the code defines it.",
        "",
        "- [Exports](#exports)",
        "- [Hooks](#hooks)",
        "- [Domain events](#domain-events)",
        "",
        "## Exports",
    ]
    where = ""
    for module, name, value in exports():
        if module != where:
            where = module
            lines += ["", f"### `{module}`"]
        lines += ["", f"#### `{name}`", "", *_described(name, value)]
    lines += ["", "## Hooks", ""]
    lines += [
        "Implement a hook as a module-level function with the same name, decorated with",
        "`@hookimpl`; only `loyalty_module` is required.",
    ]
    for name, spec in _hookspecs():
        lines += ["", f"### `{name}{_signature(spec)}`", "", inspect.cleandoc(spec.__doc__ or "")]
    lines += ["", "## Domain events", ""]
    lines += [
        "Handlers get a `DomainEvent` (topic, tenant id, JSON `payload`); read its typed",
        "payload with the topic's class (`events.EventIngested.of(event)`). Adding a field is",
        "backwards compatible; removing or changing one makes a new version of the topic.",
    ]
    headings: list[tuple[type, str]] = [
        (t, f"`{t.TOPIC}` (`events.{t.__name__}`, version {t.VERSION})") for t in TOPICS
    ]
    for topic, heading in [*headings, (PurchaseItem, "`events.PurchaseItem`")]:
        lines += ["", f"### {heading}", "", inspect.cleandoc(topic.__doc__ or ""), ""]
        lines += ["| payload key | type | meaning |", "| --- | --- | --- |"]
        lines += [f"| `{key}` | `{kind}` | {doc} |" for key, kind, doc in documented_fields(topic)]
    return "\n".join(lines) + "\n"


def _described(name: str, value: object) -> list[str]:
    doc = own_doc(value)
    if doc is None:
        return [f"`{name} = {_ADDRESS.sub('', repr(value))}`"]
    signature = _signature(value)
    kind = "class" if inspect.isclass(value) else "async def" if _is_async(value) else "def"
    described = [f"`{kind} {name}{signature}`", "", doc]
    members = _members(value) if inspect.isclass(value) else []
    return described + (["", *members] if members else [])


def _is_async(value: object) -> bool:
    return inspect.iscoroutinefunction(inspect.unwrap(value))  # type: ignore[arg-type]


def _signature(value: object) -> str:
    """The signature as written, annotations unquoted where they can be evaluated."""
    try:
        try:
            text = str(inspect.signature(value, eval_str=True))  # type: ignore[arg-type]
        except NameError:  # an annotation imported for type checking only
            text = str(inspect.signature(value)).replace("'", "")  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    return _qualified(_ADDRESS.sub("", text))


def _qualified(text: str) -> str:
    """Drop the module paths of evaluated annotations: ``uuid.UUID`` reads ``UUID``."""
    text = re.sub(r"<class '(?:[\w]+\.)*(\w+)'>", r"\1", text)
    text = re.sub(r"<enum '(\w+)'>", r"\1", text)
    text = re.sub(r"\b(?:[a-z_][\w]*\.)+([A-Z]\w*)", r"\1", text)
    return text.replace("datetime.datetime", "datetime").replace("datetime.date", "date")


def _members(value: type) -> list[str]:
    """A class's public methods and properties, each with the first line of its docstring."""
    lines = []
    for name, member in vars(value).items():
        if name.startswith("_"):
            continue
        if isinstance(member, property):
            lines.append(f"- `{name}` (property){_summary(member)}")
        elif isinstance(member, (classmethod, staticmethod)) or inspect.isfunction(member):
            function = (
                member.__func__ if isinstance(member, (classmethod, staticmethod)) else member
            )
            lines.append(f"- `{name}{_signature(function)}`{_summary(function)}")
    return lines


def _summary(member: object) -> str:
    """``: `` and the first sentence of a member's docstring, or nothing."""
    doc = " ".join((inspect.getdoc(member) or "").split("\n\n")[0].split())
    return f": {doc}" if doc else ""


def _hookspecs() -> Iterator[tuple[str, object]]:
    for name, value in vars(hookspecs).items():
        if name.startswith("loyalty_") and callable(value):
            yield name, value


@pytest.mark.parametrize(
    ("where", "name"), [(where, name) for where, name, _ in exports()], ids=lambda v: str(v)
)
def test_every_sdk_export_has_a_docstring_of_its_own(where: str, name: str) -> None:
    value = {(w, n): v for w, n, v in exports()}[(where, name)]
    assert own_doc(value) != "", f"{where}.{name} needs a docstring"


@pytest.mark.parametrize("hook", [name for name, _ in _hookspecs()])
def test_every_hook_has_an_example(hook: str) -> None:
    doc = getattr(hookspecs, hook).__doc__ or ""
    assert "Example::" in doc, f"{hook} needs an example"
    assert "@hookimpl" in doc, f"{hook}'s example should implement it"


def test_every_topic_field_is_explained() -> None:
    for topic in (*TOPICS, PurchaseItem):
        for key, _, doc in documented_fields(topic):
            assert doc, f"{topic.__name__}.{key} needs a Doc(...)"


def test_the_reference_is_generated_from_the_code() -> None:
    assert REFERENCE.read_text() == render(), f"docs/sdk.md is stale: run `{REGENERATE}`"


if __name__ == "__main__":
    REFERENCE.write_text(render())
