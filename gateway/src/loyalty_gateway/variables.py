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
reports the errors as it always does. No error message is written here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    ValueNode,
    is_input_type,
    type_from_ast,
    value_from_ast,
)
from graphql.pyutils import Undefined

Coerce = Callable[[Any], Any]

_NOT_ITERABLE_FOR_GRAPHQL = (dict, str, int, float)
"""JSON values graphql-core does not iterate where a list is expected (a mapping, a string,
a number or a boolean): it takes them as a list of one."""


class Refused(Exception):
    """A value the compiled functions do not accept as given; graphql-core will say why."""


class Uncompiled(Exception):
    """A type the compiled functions do not serve (OneOf, or containing itself)."""


@dataclass(frozen=True)
class _Variable:
    name: str
    type: GraphQLInputType
    coerce: Coerce
    default: ValueNode | None
    required: bool


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
                )
            )
        return cls(tuple(variables))

    def coerce(self, raw: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """``raw`` coerced as graphql-core would; None when graphql-core must judge them."""
        inputs = raw or {}
        coerced: dict[str, Any] = {}
        try:
            for variable in self._variables:
                name = variable.name
                if name in inputs:
                    coerced[name] = variable.coerce(inputs[name])
                elif variable.default is not None:
                    coerced[name] = value_from_ast(variable.default, variable.type)
                elif variable.required:
                    return None
        except Refused:
            return None
        return coerced


def _compile(type_: GraphQLInputType, enclosing: frozenset[str]) -> Coerce:
    """The coercion of a value of ``type_``; ``enclosing`` names the input objects around it."""
    if isinstance(type_, GraphQLNonNull):
        inner = _compile_nullable(type_.of_type, enclosing)

        def non_null(value: Any) -> Any:
            if value is None:
                raise Refused
            return inner(value)

        return non_null
    nullable = _compile_nullable(type_, enclosing)

    def maybe(value: Any) -> Any:
        return None if value is None else nullable(value)

    return maybe


def _compile_nullable(type_: GraphQLInputType, enclosing: frozenset[str]) -> Coerce:
    if isinstance(type_, GraphQLList):
        return _list(_compile(type_.of_type, enclosing))
    if isinstance(type_, GraphQLInputObjectType):
        return _input_object(type_, enclosing)
    if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
        return _leaf(type_)
    raise Uncompiled(type_)


def _list(item: Coerce) -> Coerce:
    def coerce_list(value: Any) -> Any:
        if type(value) is list:
            return [item(element) for element in value]
        if isinstance(value, _NOT_ITERABLE_FOR_GRAPHQL):
            return [item(value)]
        raise Refused

    return coerce_list


def _input_object(type_: GraphQLInputObjectType, enclosing: frozenset[str]) -> Coerce:
    if type_.is_one_of or type_.name in enclosing:
        raise Uncompiled(type_)
    inside = enclosing | {type_.name}
    fields = tuple(
        (
            name,
            field.out_name or name,
            _compile(field.type, inside),
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
                coerced[out_name] = coerce(value[name])
                given += 1
            elif default is not Undefined:
                coerced[out_name] = default
            elif required:
                raise Refused
        if given != len(value):  # a field the type does not define
            raise Refused
        return out_type(coerced)

    return coerce_object


def _leaf(type_: GraphQLScalarType | GraphQLEnumType) -> Coerce:
    parse_value = type_.parse_value

    def coerce_leaf(value: Any) -> Any:
        try:
            parsed = parse_value(value)
        except Exception as exc:
            raise Refused from exc
        if parsed is Undefined:
            raise Refused
        return parsed

    return coerce_leaf


__all__ = ["OperationVariables"]
