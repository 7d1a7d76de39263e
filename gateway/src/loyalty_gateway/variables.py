"""A request's variables, coerced by functions built once per operation of a document.

graphql-core coerces variables by walking each value beside its type, asking the type at
every step what kind it is, after a first walk of the whole value that refuses nesting
deeper than it could recurse. That is generic, and for a batch of 1000 events it is 75,000
calls and about 30 ms of the request before any event is looked at.

Here each variable of an operation is turned, once, into a function that follows its type:
an input object's fields, their out names, defaults and the type's ``out_type`` looked up in
advance, a scalar's or enum's ``parse_value`` called as graphql-core calls it. They accept
only values graphql-core accepts and give what it gives. Anything else (a required field
missing, an unknown one, a value a scalar refuses, a OneOf input, an input type that contains
itself) is not theirs to judge: the variables then go to graphql-core's own coercion, which
reports the errors as it always does.

A value no field may take is refused here, for every field of the core and of every module
(:mod:`loyalty_core.inputs`): text PostgreSQL cannot store (a NUL character, a lone
surrogate) from any scalar that gives a string, and what the ``JSON`` and ``DateTime``
scalars refuse (a JSON value beyond its limits, a time without an offset). Such a value is
:class:`Invalid`: the request is refused with ``INVALID_INPUT`` and the variable's path
(``input.payload.note``), which the functions collect only on the way out of an error. In
a list whose items succeed or fail alone (an input field marked
:data:`~loyalty_core.inputs.ITEMS_ALONE`, as ``eventIngestBatch``'s events), such an item
becomes a :class:`~loyalty_core.inputs.RefusedItem` for the resolver to answer alone. An
operation they do not serve has its variables' text checked by :func:`text_refusal` before
graphql-core coerces them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    Node,
    OperationDefinitionNode,
    ValueNode,
    is_input_type,
    type_from_ast,
    value_from_ast,
)
from graphql.pyutils import Undefined
from loyalty_core.errors import LoyaltyError, ValidationFailed
from loyalty_core.inputs import ITEMS_ALONE, RefusedItem, join_path, text_problem

Coerce = Callable[[Any], Any]

_NOT_ITERABLE_FOR_GRAPHQL = (dict, str, int, float)
"""JSON values graphql-core does not iterate where a list is expected (a mapping, a string,
a number or a boolean): it takes them as a list of one."""


class Refused(Exception):
    """A value the compiled functions do not accept as given; graphql-core will say why."""


class Uncompiled(Exception):
    """A type the compiled functions do not serve (OneOf, or containing itself)."""


class Invalid(Exception):
    """A value no field may take: the error, and the keys and indices leading to the value
    (innermost first, added on the way out)."""

    def __init__(self, error: LoyaltyError) -> None:
        self.error = error
        self.path: list[str | int] = []

    def graphql_error(self, variable: str, node: Node) -> GraphQLError:
        return _request_error(variable, reversed(self.path), self.error, node)

    def refused_item(self) -> RefusedItem:
        """The item refused alone, its field relative to the item."""
        field = _inner(join_path("", reversed(self.path)), self.error.field)
        return RefusedItem(ValidationFailed(self.error.message, field=field or None))


def _inner(field: str, inner: str | None) -> str:
    """``field`` followed by a path inside its value (``payload.note``, ``[3]``)."""
    if not inner:
        return field
    if not field or inner.startswith("["):
        return f"{field}{inner}"
    return f"{field}.{inner}"


def _request_error(
    variable: str, path: Iterable[str | int], error: LoyaltyError, node: Node
) -> GraphQLError:
    """The request error of an invalid value: its code (``INVALID_INPUT``) and the field, the
    variable's name followed by the path to the value and the path inside a JSON value."""
    field = _inner(join_path(variable, path), error.field)
    return GraphQLError(
        f"Variable '${variable}' got an invalid value at '{field}': {error.message}",
        node,
        extensions={"code": error.code.value, "field": field},
    )


@dataclass(frozen=True)
class _Variable:
    name: str
    type: GraphQLInputType
    coerce: Coerce
    default: ValueNode | None
    required: bool
    node: Node


class OperationVariables:
    """The compiled coercion of one operation's variables."""

    def __init__(self, variables: tuple[_Variable, ...]) -> None:
        self._variables = variables

    @classmethod
    def compile(
        cls, schema: GraphQLSchema, operation: OperationDefinitionNode
    ) -> OperationVariables | None:
        """The operation's coercion, or None when some variable's type is not served."""
        variables: list[_Variable] = []
        for definition in operation.variable_definitions or ():
            found = type_from_ast(schema, definition.type)
            if found is None or not is_input_type(found):
                return None
            type_ = cast(GraphQLInputType, found)
            try:
                coerce = _compile(type_, frozenset())
            except Uncompiled:
                return None
            variables.append(
                _Variable(
                    definition.variable.name.value,
                    type_,
                    coerce,
                    definition.default_value,
                    isinstance(type_, GraphQLNonNull),
                    definition,
                )
            )
        return cls(tuple(variables))

    def coerce(self, raw: Mapping[str, Any] | None) -> dict[str, Any] | GraphQLError | None:
        """``raw`` coerced as graphql-core would; the request error of a value no field may
        take; None when graphql-core must judge them."""
        inputs = raw or {}
        coerced: dict[str, Any] = {}
        for variable in self._variables:
            name = variable.name
            try:
                if name in inputs:
                    coerced[name] = variable.coerce(inputs[name])
                elif variable.default is not None:
                    coerced[name] = value_from_ast(variable.default, variable.type)
                elif variable.required:
                    return None
            except Refused:
                return None
            except Invalid as invalid:
                return invalid.graphql_error(name, variable.node)
        return coerced


def _compile(type_: GraphQLInputType, enclosing: frozenset[str], *, alone: bool = False) -> Coerce:
    """The coercion of a value of ``type_``; ``enclosing`` names the input objects around it;
    ``alone``: a list whose items are judged alone."""
    if isinstance(type_, GraphQLNonNull):
        inner = _compile_nullable(type_.of_type, enclosing, alone)

        def non_null(value: Any) -> Any:
            if value is None:
                raise Refused
            return inner(value)

        return non_null
    nullable = _compile_nullable(type_, enclosing, alone)

    def maybe(value: Any) -> Any:
        return None if value is None else nullable(value)

    return maybe


def _compile_nullable(type_: GraphQLInputType, enclosing: frozenset[str], alone: bool) -> Coerce:
    if isinstance(type_, GraphQLList):
        item = _compile(type_.of_type, enclosing)
        return _list(_judged_alone(item) if alone else item)
    if isinstance(type_, GraphQLInputObjectType):
        return _input_object(type_, enclosing)
    if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
        return _leaf(type_)
    raise Uncompiled(type_)


def _list(item: Coerce) -> Coerce:
    def coerce_list(value: Any) -> Any:
        if type(value) is list:
            try:
                return [item(element) for element in value]
            except Invalid as invalid:
                invalid.path.append(_invalid_index(item, value))
                raise
        if isinstance(value, _NOT_ITERABLE_FOR_GRAPHQL):
            return [item(value)]
        raise Refused

    return coerce_list


def _judged_alone(item: Coerce) -> Coerce:
    def coerce_alone(value: Any) -> Any:
        try:
            return item(value)
        except Invalid as invalid:
            return invalid.refused_item()

    return coerce_alone


def _invalid_index(item: Coerce, values: list[Any]) -> int:
    """Which of ``values`` is invalid (on the error path only: coercing is pure, and every
    element before the invalid one coerced)."""
    for index, element in enumerate(values):
        try:
            item(element)
        except Invalid:
            return index
    raise AssertionError("no element is invalid")  # pragma: no cover


def _input_object(type_: GraphQLInputObjectType, enclosing: frozenset[str]) -> Coerce:
    if type_.is_one_of or type_.name in enclosing:
        raise Uncompiled(type_)
    inside = enclosing | {type_.name}
    fields = tuple(
        (
            name,
            field.out_name or name,
            _compile(field.type, inside, alone=_items_alone(field)),
            field.default_value,
            isinstance(field.type, GraphQLNonNull),
        )
        for name, field in type_.fields.items()
    )
    out_type = type_.out_type

    def coerce_object(value: Any) -> Any:
        if type(value) is not dict:
            raise Refused
        coerced: dict[str, Any] = {}
        given = 0
        for name, out_name, coerce, default, required in fields:
            if name in value:
                try:
                    coerced[out_name] = coerce(value[name])
                except Invalid as invalid:
                    invalid.path.append(name)
                    raise
                given += 1
            elif default is not Undefined:
                coerced[out_name] = default
            elif required:
                raise Refused
        if given != len(value):  # a field the type does not define
            raise Refused
        return out_type(coerced)

    return coerce_object


def _items_alone(field: GraphQLInputField) -> bool:
    """Whether the field is marked :data:`~loyalty_core.inputs.ITEMS_ALONE` (strawberry keeps
    its definition, and so the metadata, in the field's extensions)."""
    definition = (field.extensions or {}).get("strawberry-definition")
    metadata = getattr(definition, "metadata", None) or {}
    return bool(metadata.get(ITEMS_ALONE))


def _leaf(type_: GraphQLScalarType | GraphQLEnumType) -> Coerce:
    parse_value = type_.parse_value

    def coerce_leaf(value: Any) -> Any:
        try:
            parsed = parse_value(value)
        except LoyaltyError as error:  # the JSON or DateTime scalar's refusal
            raise Invalid(error) from None
        except Exception as exc:
            raise Refused from exc
        if parsed is Undefined:
            raise Refused
        if type(parsed) is str and ("\x00" in parsed or not parsed.isascii()):
            _check_text(parsed)
        return parsed

    return coerce_leaf


def _check_text(value: str) -> None:
    problem = text_problem(value)
    if problem is not None:
        raise Invalid(ValidationFailed(f"text {problem}"))


def text_refusal(
    operation: OperationDefinitionNode, raw: Mapping[str, Any] | None
) -> GraphQLError | None:
    """The request error of the first text no field may take in ``raw``, whatever the types
    (for operations whose types the compiled functions do not serve; graphql-core's
    coercion takes any string). Walks without recursion, so any depth is safe."""
    nodes = {d.variable.name.value: d for d in operation.variable_definitions or ()}
    pending: list[tuple[Any, str, list[str | int]]] = [
        (value, name, []) for name, value in (raw or {}).items() if name in nodes
    ]
    while pending:
        value, name, path = pending.pop()
        if isinstance(value, str):
            problem = text_problem(value)
            if problem is not None:
                return _request_error(name, path, ValidationFailed(f"text {problem}"), nodes[name])
        elif isinstance(value, dict):
            for key, item in value.items():
                problem = text_problem(key) if isinstance(key, str) else None
                if problem is not None:
                    error = ValidationFailed(f"a key {problem}")
                    return _request_error(name, path, error, nodes[name])
                pending.append((item, name, [*path, key]))
        elif isinstance(value, list):
            pending.extend((item, name, [*path, index]) for index, item in enumerate(value))
    return None


__all__ = ["Invalid", "OperationVariables", "text_refusal"]
