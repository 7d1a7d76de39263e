"""Running one GraphQL operation: graphql-core directly, on the schema strawberry built.

strawberry's own execution path wraps every request in its extension machinery; the gateway
has already parsed, validated and limited the document once (see :mod:`documents`), so it
calls graphql-core's ``execute`` and ``subscribe`` itself, ``execute`` with (a subclass of)
strawberry's execution context class so that resolvers see the same ``info`` they would under
strawberry. An operation whose variables are coerced already skips ``execute``: its context
is made from the prepared operation and run directly (:meth:`Executor.of_variables`).

graphql-core 3.2, not 3.3: 3.3's executor is built for incremental delivery (``@defer``,
``@stream``), which the gateway does not serve, and costs about 16 µs more per operation
(measured: 25 µs against 9 µs for ``{ __typename }``) with the same cost per field.

:class:`Executor` serves the plain fields (:mod:`plain_fields`) by reading the attribute and
serialising it, and hands everything else, and every value that does not serialise cleanly,
to graphql-core's own path, which then reports the error as it always does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    default_field_resolver,
    default_type_resolver,
    subscribe,
)
from graphql import execute as graphql_execute
from graphql.execution.collect_fields import collect_fields
from graphql.execution.execute import CollectedErrors
from graphql.pyutils import Path, Undefined, is_awaitable
from loyalty_core.context import RequestContext
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from loyalty_gateway.documents import CoercedVariables, PreparedOperation
from loyalty_gateway.plain_fields import NOT_SERVED, PLAIN, PlainField, PlainObject
from loyalty_gateway.schema_cache import CompiledSchema

_NEVER_AWAITABLE = frozenset({dict, list, tuple, str, int, float, bool, type(None)})


def _is_awaitable(value: Any) -> bool:
    """graphql-core's check, asked of every resolved value, with the plain values resolvers
    mostly return answered by their type alone."""
    return type(value) not in _NEVER_AWAITABLE and is_awaitable(value)


class Executor(StrawberryGraphQLCoreExecutionContext):
    """strawberry's execution context, serving plain leaf fields directly (see the module).

    ``execute_fields`` is graphql-core 3.2's loop over a selection set with two steps added in
    front: ``__typename`` is the parent type's name, as graphql-core's own resolver gives it,
    and a plain field's value is read and serialised on the spot, neither with a path,
    resolve info or awaitable check built for it. Every other field, and a plain one whose
    value does not fit its type, goes through ``execute_field`` exactly as before.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[int, _Plan | None] = {}
        self._prepared: PreparedOperation | None = None

    @classmethod
    def of_variables(
        cls, schema: GraphQLSchema, variables: CoercedVariables, context: Any
    ) -> Executor:
        """The context of an operation whose ``variables`` are coerced already (see
        :mod:`variables`), made from them and their prepared operation as they are: what
        graphql-core's ``build`` would make, without looking the operation up, collecting
        the fragments or coercing again."""
        prepared = variables.operation
        executor = cls(
            schema,
            prepared.fragments,
            None,
            context,
            prepared.node,
            dict(variables),
            default_field_resolver,
            default_type_resolver,
            default_field_resolver,
            CollectedErrors(),
            None,
            _is_awaitable,
        )
        executor._prepared = prepared
        return executor

    async def run(self) -> ExecutionResult:
        """Execute the operation and build the response, as graphql-core's ``execute`` does
        once it has a context (an error raised out of the root fields nulls the data)."""
        errors = self.collected_errors
        try:
            data = self.execute_operation(self.operation, None)
            if self.is_awaitable(data):
                data = await data
        except GraphQLError as error:
            errors.add(error, None)
            data = None
        return self.build_response(data, errors.errors)

    def execute_operation(self, operation: OperationDefinitionNode, root_value: Any) -> Any:
        """graphql-core's, with the root fields collected once per operation where the
        document has no ``@skip`` or ``@include`` (they depend on nothing else)."""
        prepared = self._prepared
        if prepared is None or not prepared.static_root:
            return super().execute_operation(operation, root_value)
        if prepared.root is None:
            root_type = self.schema.get_root_type(operation.operation)
            if root_type is None:  # graphql-core reports it
                return super().execute_operation(operation, root_value)
            try:
                fields = collect_fields(
                    self.schema,
                    self.fragments,
                    self.variable_values,
                    root_type,
                    operation.selection_set,
                )
            except RecursionError:  # graphql-core reports it
                return super().execute_operation(operation, root_value)
            prepared.root = (root_type, fields)
        root_type, fields = prepared.root
        run = (
            self.execute_fields_serially
            if operation.operation is OperationType.MUTATION
            else self.execute_fields
        )
        return run(root_type, root_value, None, fields)

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        fields: dict[str, list[FieldNode]],
    ) -> Any:
        definitions = parent_type.fields
        is_awaitable = self.is_awaitable
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        for response_name, field_nodes in fields.items():
            name = field_nodes[0].name.value
            if name == "__typename":  # asked of nearly every object by Apollo's clients
                results[response_name] = parent_type.name
                continue
            definition = definitions.get(name)
            plain: PlainField | PlainObject | None = (
                definition.extensions.get(PLAIN) if definition is not None else None
            )
            if plain is not None:
                value = self._plain_value(plain, field_nodes, source_value)
                if value is not NOT_SERVED:
                    results[response_name] = value
                    continue
            field_path = Path(path, response_name, parent_type.name)
            result = self.execute_field(parent_type, source_value, field_nodes, field_path)
            if result is not Undefined:
                results[response_name] = result
                if is_awaitable(result):
                    awaitable_fields.append(response_name)
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            awaited = await asyncio.gather(*(results[name] for name in awaitable_fields))
            results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def _plain_value(
        self, plain: PlainField | PlainObject, field_nodes: list[FieldNode], source: Any
    ) -> Any:
        """A plain field's completed value on ``source``, or :data:`NOT_SERVED` when
        graphql-core must complete it (reading attributes has no effect to undo)."""
        if isinstance(plain, PlainField):
            return plain.value_of(source)
        return self._object_value(plain, self._plan(plain.type, field_nodes), source)

    def _object_value(self, plain: PlainObject, plan: _Plan | None, source: Any) -> Any:
        try:
            value = getattr(source, plain.attribute)
        except Exception:
            return NOT_SERVED
        if value is None:
            return NOT_SERVED if plain.non_null else None
        if plan is None:
            return NOT_SERVED
        if not plain.many:
            return self._plain_object(plan, value)
        if not isinstance(value, list | tuple):
            return NOT_SERVED
        completed: list[Any] = []
        for item in value:
            if item is None:
                if plain.items_non_null:
                    return NOT_SERVED
                completed.append(None)
                continue
            found = self._plain_object(plan, item)
            if found is NOT_SERVED:
                return NOT_SERVED
            completed.append(found)
        return completed

    def _plain_object(self, plan: _Plan, source: Any) -> Any:
        """``source`` completed by ``plan``: every field asked of it is plain."""
        results: dict[str, Any] = {}
        for response_name, plain, subplan in plan:
            if isinstance(plain, PlainField):
                value = plain.value_of(source)
            elif isinstance(plain, str):  # __typename
                value = plain
            else:
                value = self._object_value(plain, subplan, source)
            if value is NOT_SERVED:
                return NOT_SERVED
            results[response_name] = value
        return results

    def _plan(self, type_: GraphQLObjectType, field_nodes: list[FieldNode]) -> _Plan | None:
        """How to complete the selection ``field_nodes`` make on ``type_`` from plain fields
        alone (None: some field is not plain). Worked out once per operation and selection,
        not per object: a page of 20 entries asks the same fields 20 times."""
        fields = self.collect_subfields(type_, field_nodes)
        key = id(fields)  # graphql-core keeps each selection's fields for the whole operation
        plans = self._plans
        if key in plans:
            return plans[key]
        plan: list[tuple[str, PlainField | PlainObject | str, _Plan | None]] = []
        definitions = type_.fields
        for response_name, nodes in fields.items():
            name = nodes[0].name.value
            if name == "__typename":
                plan.append((response_name, type_.name, None))
                continue
            definition = definitions.get(name)
            plain = definition.extensions.get(PLAIN) if definition is not None else None
            if plain is None:
                plans[key] = None
                return None
            subplan = self._plan(plain.type, nodes) if isinstance(plain, PlainObject) else None
            plan.append((response_name, plain, subplan))
        plans[key] = found = tuple(plan)
        return found


_Plan = tuple[tuple[str, PlainField | PlainObject | str, "_Plan | None"], ...]
"""Per field asked of an object: its response name and how to complete it (a plain field,
a plain object with the plan of its own selection, or the type name for ``__typename``)."""


@dataclass(slots=True)
class GraphQLParams:
    """What a client asks for: the GraphQL-over-HTTP request parameters (``extensions``
    must be an object when given; no extension is served, so it is not kept)."""

    query: str
    variables: Mapping[str, Any] | None = None
    operation_name: str | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> GraphQLParams:
        """The parameters of a request body or ``subscribe`` payload; raises ValueError with
        what is wrong."""
        query = raw.get("query")
        if not isinstance(query, str) or not query.strip():
            raise ValueError("the request has no query")
        variables = raw.get("variables")
        if variables is not None and not isinstance(variables, dict):
            raise ValueError("variables must be an object")
        operation_name = raw.get("operationName")
        if operation_name is not None and not isinstance(operation_name, str):
            raise ValueError("operationName must be a string")
        extensions = raw.get("extensions")
        if extensions is not None and not isinstance(extensions, dict):
            raise ValueError("extensions must be an object")
        return cls(query, variables, operation_name or None)


async def execute_operation(
    compiled: CompiledSchema,
    document: DocumentNode,
    params: GraphQLParams,
    context: RequestContext,
    variables: CoercedVariables | GraphQLError | None = None,
) -> ExecutionResult:
    """Execute a query or mutation of a validated document, with its ``variables`` when
    coerced already (else graphql-core finds the operation and coerces those of
    ``params``); a request error in their place refuses the request."""
    if isinstance(variables, GraphQLError):
        return ExecutionResult(None, [variables])
    if variables is not None:
        return await Executor.of_variables(compiled.graphql, variables, context).run()
    result = graphql_execute(
        compiled.graphql,
        document,
        context_value=context,
        variable_values=dict(params.variables) if params.variables else None,
        operation_name=params.operation_name,
        execution_context_class=Executor,
        is_awaitable=_is_awaitable,
    )
    return result if isinstance(result, ExecutionResult) else await result


async def subscribe_operation(
    compiled: CompiledSchema,
    document: DocumentNode,
    params: GraphQLParams,
    context: RequestContext,
) -> AsyncIterator[ExecutionResult] | ExecutionResult:
    """Start a subscription: its stream of results, or the result that refused it."""
    return await subscribe(
        compiled.graphql,
        document,
        context_value=context,
        variable_values=dict(params.variables) if params.variables else None,
        operation_name=params.operation_name,
    )


__all__ = ["Executor", "GraphQLParams", "execute_operation", "subscribe_operation"]
