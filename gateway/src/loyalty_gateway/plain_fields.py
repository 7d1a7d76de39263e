"""Plain fields: the fields of a schema that are a bare attribute of their object.

Most fields of a response are plain attributes of an object a resolver already built (an
entry's ``amount``, a member's ``status``, a connection's ``edges`` and each edge's
``node``): strawberry resolves them with a bare ``getattr``, but graphql-core still builds a
resolve info, reads the (absent) arguments, checks the value for an awaitable and dispatches
on the type for each of them, some 5 µs a field and more for an object, most of a
dashboard's CPU. The schema cache marks such fields once per schema:
:class:`PlainField` for scalars and enums, :class:`PlainObject` for objects and lists of
objects. :class:`loyalty_gateway.execution.Executor` serves a plain field by reading the
attribute and serialising it, and a plain object when every field asked of it is plain in
turn (otherwise graphql-core completes it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, EnumMeta
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
)
from graphql.pyutils import Undefined
from strawberry.schema.schema_converter import CustomGraphQLEnumType

from loyalty_gateway.composition import strawberry_fields

PLAIN = "loyalty-plain-attribute"
"""Key, in a graphql-core field's ``extensions``, of its :class:`PlainField` (if it is one)."""


@dataclass(frozen=True)
class PlainField:
    """A leaf field strawberry resolves with ``getattr(source, attribute)``."""

    attribute: str
    type: GraphQLLeafType
    non_null: bool
    serialize: Callable[[Any], Any] = dataclasses.field(init=False, compare=False, repr=False)
    """The type's ``serialize``, with the common values answered without a call into it."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "serialize", serializer(self.type))

    def value_of(self, source: object) -> Any:
        """The field's serialised value on ``source``; :data:`NOT_SERVED` when graphql-core
        must resolve it instead (a null where none may be, a value that does not serialise),
        so that it reports the error as it always does."""
        try:
            value = getattr(source, self.attribute)
            if value is None:
                return NOT_SERVED if self.non_null else None
            serialized = self.serialize(value)
        except Exception:
            return NOT_SERVED
        return NOT_SERVED if serialized is None or serialized is Undefined else serialized


NOT_SERVED = object()

_MIN_INT = -(2**31)
_MAX_INT = 2**31 - 1


def serializer(type_: GraphQLLeafType) -> Callable[[Any], Any]:
    """``type_.serialize``, short-cut for the values a response is mostly made of: a ``str``
    as a String or an ID, a ``bool`` as a Boolean, an ``int`` in range as an Int and a member
    of a strawberry enum's class as an enum are what the type's own ``serialize`` returns for
    them, found without its checks (a dashboard serialises some 300 such values). Any other
    value goes to ``serialize``."""
    general = type_.serialize
    if type_ is GraphQLString or type_ is GraphQLID:
        return lambda value: value if type(value) is str else general(value)
    if type_ is GraphQLBoolean:
        return lambda value: value if type(value) is bool else general(value)
    if type_ is GraphQLInt:
        return lambda value: (
            value if type(value) is int and _MIN_INT <= value <= _MAX_INT else general(value)
        )
    if isinstance(type_, CustomGraphQLEnumType):
        enum_class = type_.wrapped_cls
        names = _enum_names(type_, enum_class)
        return lambda value: names[value] if type(value) is enum_class else general(value)
    return general


def _enum_names(type_: GraphQLEnumType, enum_class: EnumMeta) -> dict[Enum, str]:
    """The GraphQL name of each member of ``enum_class``, as strawberry's enum type finds
    it: the first value equal to the member's."""
    names: dict[Enum, str] = {}
    member: Enum
    for member in enum_class:
        for name, value in type_.values.items():
            if member.value == value.value:
                names[member] = name
                break
    return names


@dataclass(frozen=True)
class PlainObject:
    """An object field (or a list of objects) strawberry resolves with ``getattr(source,
    attribute)``, of an object type with no ``is_type_of`` check."""

    attribute: str
    type: GraphQLObjectType
    non_null: bool
    many: bool
    """A list of such objects."""
    items_non_null: bool


def mark_plain_fields(schema: GraphQLSchema) -> int:
    """Mark the fields :class:`Executor` may serve itself; returns how many there are.

    A field qualifies when strawberry compiled it to its basic resolver (no resolver of its
    own, no permission classes or field extensions, no exception handlers) and its type is a
    scalar or an enum, or an object type without an ``is_type_of`` check (interfaces and
    unions have one) or a list of those, each possibly non-null.
    """
    marked = 0
    for _, field, definition in strawberry_fields(schema):
        if not (
            getattr(field.resolve, "__name__", "") == "_get_basic_result" and definition.python_name
        ):
            continue
        plain = _plain(definition.python_name, field.type)
        if plain is not None:
            field.extensions = {**field.extensions, PLAIN: plain}
            marked += 1
    return marked


def _plain(attribute: str, type_: GraphQLOutputType) -> PlainField | PlainObject | None:
    non_null = isinstance(type_, GraphQLNonNull)
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    many = isinstance(inner, GraphQLList)
    item = inner.of_type if isinstance(inner, GraphQLList) else inner
    items_non_null = isinstance(item, GraphQLNonNull)
    named = item.of_type if isinstance(item, GraphQLNonNull) else item
    if isinstance(named, GraphQLScalarType | GraphQLEnumType) and not many:
        return PlainField(attribute, named, non_null)
    if isinstance(named, GraphQLObjectType) and named.is_type_of is None:
        return PlainObject(attribute, named, non_null, many, items_non_null)
    return None


__all__ = ["NOT_SERVED", "PLAIN", "PlainField", "PlainObject", "mark_plain_fields"]
