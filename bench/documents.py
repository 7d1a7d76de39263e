"""What a new document costs the event loop: parsing, measuring and validating adversarial
documents of at most 2,000 tokens on the schema of every module, with production's limits.

Not a comparison like P1 to P6: it prints, per document, its tokens, what the gateway answers
("valid", or the code that refused it) and the milliseconds of each step, the best of
``--repeat`` runs: parse, the measure before validation, validation (of the documents the
measure lets through) and all of it, as a new document costs. No database; one process.

    .venv/bin/python -m bench.documents [--repeat 5]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from graphql import GraphQLSchema, TokenKind, parse, validate
from graphql.language import Lexer, Source
from loyalty_core.modules.manager import build_registry
from loyalty_core.settings import Settings
from loyalty_gateway.composition import compose_schema, graphql_schema
from loyalty_gateway.documents import prepare_document
from loyalty_gateway.limits import STANDARD_INTROSPECTION_QUERY, DocumentLimits

from bench.dashboard import dashboard_query

MEMBER_FIELDS = (
    "id status firstName lastName birthDate locale attributes enrolmentChannel createdAt "
    "updatedAt identifiers { kind value } balances { available pending } "
)


def adversarial() -> dict[str, str]:
    """Documents built to be slow to validate, each within the token limit; the first ones
    took 0.2 to 1.7 s before documents were measured."""
    pairwise = " ".join(f"fragment F{i} on Viewer {{ role tenant {{ id }} }}" for i in range(60))
    disjoint = [*MEMBER_FIELDS.split()[:10], *(f"x{i}: id" for i in range(9))]
    return {
        "one field repeated 400 times": "{" + " viewer { role }" * 400 + "}",
        "220 fields, other arguments": "{"
        + "".join(f' member(id: "{i}") {{ id }}' for i in range(220))
        + "}",
        "60 fragments compared pairwise": "{ viewer { "
        + " ".join(f"...F{i}" for i in range(60))
        + " } } "
        + pairwise,
        "nested repeats": "{" + " viewer { tenant { id name slug } }" * 150 + "}",
        "an unused fragment": "{ __typename } fragment F on Query {"
        + " viewer { role }" * 400
        + "}",
        # Within the limits: the worst found.
        "14 repeats (182 overlaps)": "{" + " viewer { role }" * 14 + "}",
        "19 disjoint fragments in one selection": '{ member(id: "1") { '
        + " ".join(f"...F{i}" for i in range(len(disjoint)))
        + " } } "
        + " ".join(f"fragment F{i} on Member {{ {f} }}" for i, f in enumerate(disjoint)),
        "17 aliases x 17 member fields (289)": "{"
        + "".join(f' a{i}: member(id: "{i}") {{ {MEMBER_FIELDS} }}' for i in range(17))
        + "}",
        "standard introspection": STANDARD_INTROSPECTION_QUERY,
        "P2's dashboard": dashboard_query(),
    }


def tokens(source: str) -> int:
    lexer = Lexer(Source(source))
    count = 0
    while lexer.advance().kind is not TokenKind.EOF:
        count += 1
    return count


def best_ms(repeat: int, step: Callable[[], object]) -> float:
    """The least CPU time of ``repeat`` runs of ``step``: CPU, so that what else the machine
    runs (wall time would count its turns) changes the figure less."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        step()
        best = min(best, time.process_time() - started)
    return best * 1000


def measure(schema: GraphQLSchema, limits: DocumentLimits, source: str, repeat: int) -> str:
    prepared = prepare_document(schema, limits, source)
    document = parse(source)
    parse_ms = best_ms(repeat, lambda: parse(source))
    measure_ms = best_ms(repeat, lambda: limits.check(schema, document))
    prepare_ms = best_ms(repeat, lambda: prepare_document(schema, limits, source))
    validated = limits.check(schema, document) is None
    validate_ms = best_ms(repeat, lambda: validate(schema, document, limits.rules))
    verdict = prepared.code or "valid"
    shown = f"{validate_ms:8.2f}" if validated else "       -"
    timings = f"{parse_ms:7.2f} {measure_ms:7.2f} {shown} {prepare_ms:8.2f}"
    return f"{tokens(source):6d}  {verdict:26s} {timings}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    registry = build_registry()
    every = frozenset(module.info.name for module in registry.optional)
    schema = graphql_schema(compose_schema(registry, every))
    limits = DocumentLimits.from_settings(Settings(environment="production", introspection=True))
    steps = " ".join(f"{step:>7s}" for step in ("parse", "measure", "validate", "prepare"))
    print(f"{'document':40s} tokens  {'answer':26s} {steps}")
    for name, source in adversarial().items():
        print(f"{name:40s} {measure(schema, limits, source, args.repeat)}")
    print(
        f"milliseconds of CPU, best of {args.repeat} (validate: documents the measure lets through)"
    )


if __name__ == "__main__":
    main()
