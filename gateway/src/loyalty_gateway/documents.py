"""Each distinct document is parsed and validated once per schema, then reused.

Parsing and validation cost more than executing a small query (see DESIGN, "Speed"), and a
client sends the same few documents over and over. So a schema keeps its documents in a
bounded LRU: the parsed, validated document, or the errors that refused it (a bad document
sent again is refused without parsing it again). A document is validated per schema because
the same text may be valid for one tenant's modules and not for another's.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    Visitor,
    get_operation_ast,
    parse,
    validate,
    visit,
)
from graphql.validation.validate import ValidationAbortedError

from loyalty_gateway.errors import PARSE_FAILED, TOO_COMPLEX, VALIDATION_FAILED
from loyalty_gateway.limits import DocumentLimits
from loyalty_gateway.variables import OperationVariables, text_refusal

DOCUMENTS_PER_SCHEMA = 256


@dataclass(frozen=True)
class PreparedDocument:
    """A document ready to execute, or the errors (and their code) that refused it."""

    document: DocumentNode | None
    errors: tuple[GraphQLError, ...] = ()
    code: str | None = None
    schema: GraphQLSchema | None = None
    _operations: dict[int, PreparedOperation] = field(
        default_factory=dict, compare=False, repr=False
    )
    """The operations prepared so far, by the node's id (the nodes live as long as the
    document)."""

    def operation(self, name: str | None) -> OperationDefinitionNode | None:
        """The operation a request selects (None: no such operation, or an ambiguous one)."""
        return None if self.document is None else get_operation_ast(self.document, name)

    def coerced_variables(
        self, operation: OperationDefinitionNode, raw: Mapping[str, Any] | None
    ) -> CoercedVariables | GraphQLError | None:
        """``raw`` coerced for ``operation`` by functions compiled once for it (see
        :mod:`variables`); the request error of a value no field may take; None when
        graphql-core's own coercion must judge them."""
        prepared = self._operations.get(id(operation))
        if prepared is None:
            assert self.document is not None
            assert self.schema is not None
            prepared = PreparedOperation.of(self.schema, self.document, operation)
            self._operations[id(operation)] = prepared
        if prepared.variables is None:
            return text_refusal(operation, raw)
        coerced = prepared.variables.coerce(raw)
        if coerced is None or isinstance(coerced, GraphQLError):
            return coerced
        return CoercedVariables(coerced, prepared)


@dataclass
class PreparedOperation:
    """One operation of a prepared document, and what all its executions share: its
    fragments, its variables' compiled coercion (None: a type it does not serve), and its
    root type and fields once collected, where no ``@skip`` or ``@include`` in the document
    can make them depend on the variables (``static_root``)."""

    node: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    variables: OperationVariables | None
    static_root: bool
    root: tuple[GraphQLObjectType, dict[str, list[FieldNode]]] | None = None

    @classmethod
    def of(
        cls, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
    ) -> PreparedOperation:
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        variables = OperationVariables.compile(schema, operation)
        return cls(operation, fragments, variables, static_root=not _conditional(document))


class CoercedVariables(dict[str, Any]):
    """Variables coerced already, with the prepared operation they belong to: the executor
    builds its context from them without coercing again."""

    def __init__(self, values: dict[str, Any], operation: PreparedOperation) -> None:
        super().__init__(values)
        self.operation = operation


def _conditional(document: DocumentNode) -> bool:
    """Whether ``@skip`` or ``@include`` appears anywhere in ``document``."""
    found = False

    class Conditions(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
            nonlocal found
            found = found or node.name.value in ("skip", "include")

    visit(document, Conditions())
    return found


class DocumentCache:
    """Prepared documents of one schema, by source text, least recently used dropped first.

    A document not seen before is prepared on ``preparer`` (the process's one thread for it):
    the limits keep preparing to tens of milliseconds at most, and meanwhile the
    event loop serves every other request, the GIL passing between the two threads (the
    loop had ten times the turns while ten documents of 289 fields were prepared, waiting 5
    ms at the median). A known document is found on the loop, without a thread."""

    def __init__(
        self,
        schema: GraphQLSchema,
        limits: DocumentLimits,
        *,
        preparer: Executor,
        size: int = DOCUMENTS_PER_SCHEMA,
    ) -> None:
        self._schema = schema
        self._limits = limits
        self._size = size
        self._preparer = preparer
        self._documents: OrderedDict[str, PreparedDocument] = OrderedDict()

    def __len__(self) -> int:
        return len(self._documents)

    async def prepare(self, source: str) -> PreparedDocument:
        prepared = self._documents.get(source)
        if prepared is not None:
            self._documents.move_to_end(source)
            return prepared
        loop = asyncio.get_running_loop()
        prepared = await loop.run_in_executor(
            self._preparer, prepare_document, self._schema, self._limits, source
        )
        self._documents[source] = prepared
        if len(self._documents) > self._size:
            self._documents.popitem(last=False)
        return prepared


def prepare_document(
    schema: GraphQLSchema, limits: DocumentLimits, source: str
) -> PreparedDocument:
    """Parse, measure and validate ``source`` (on any thread: it only reads the schema)."""
    try:
        document = parse(
            source,
            max_lexical_tokens=limits.max_tokens,
            max_comments=limits.max_tokens,
            max_source_length=limits.max_length,
        )
    except GraphQLError as error:
        return PreparedDocument(None, (error,), PARSE_FAILED)
    too_complex = limits.check(schema, document)
    if too_complex is not None:
        return PreparedDocument(None, (too_complex,), TOO_COMPLEX)
    errors = validate(schema, document, limits.rules)
    if errors:
        aborted = any(isinstance(error, ValidationAbortedError) for error in errors)
        return PreparedDocument(None, tuple(errors), TOO_COMPLEX if aborted else VALIDATION_FAILED)
    return PreparedDocument(document, schema=schema)


__all__ = [
    "DOCUMENTS_PER_SCHEMA",
    "CoercedVariables",
    "DocumentCache",
    "PreparedDocument",
    "PreparedOperation",
    "prepare_document",
]
