"""Plain fields: the leaf fields of a schema that are a bare attribute of their object.

Most fields of a response are plain attributes of an object a resolver already built (an
entry's ``amount``, a member's ``status``): strawberry resolves them with a bare ``getattr``,
but graphql-core still builds a resolve info, reads the (absent) arguments, checks the value
for an awaitable and dispatches on the type for each of them, some 5 µs a field, most of a
dashboard's CPU. The schema cache marks such fields once per schema;
:class:`loyalty_gateway.execution.Executor` serves them by reading the attribute and
serialising it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    get_named_type,
)
from graphql.pyutils import Undefined
from strawberry.types.field import StrawberryField

PLAIN = "loyalty-plain-attribute"
"""Key, in a graphql-core field's ``extensions``, of its :class:`PlainField` (if it is one)."""


@dataclass(frozen=True)
class PlainField:
    """A leaf field strawberry resolves with ``getattr(source, attribute)``."""

    attribute: str
    type: GraphQLLeafType
    non_null: bool

    def value_of(self, source: object) -> Any:
        """The field's serialised value on ``source``; :data:`NOT_SERVED` when graphql-core
        must resolve it instead (a null where none may be, a value that does not serialise),
        so that it reports the error as it always does."""
        try:
            value = getattr(source, self.attribute)
            if value is None:
                return NOT_SERVED if self.non_null else None
            serialized = self.type.serialize(value)
        except Exception:
            return NOT_SERVED
        return NOT_SERVED if serialized is None or serialized is Undefined else serialized


NOT_SERVED = object()


def mark_plain_fields(schema: GraphQLSchema) -> int:
    """Mark the fields :class:`Executor` may serve itself; returns how many there are.

    A field qualifies when strawberry compiled it to its basic resolver (no resolver of its
    own, no permission classes or field extensions, no exception handlers) and its type is a
    scalar or an enum, possibly non-null; lists and objects keep graphql-core's path.
    """
    marked = 0
    for named in schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for field in named.fields.values():
            definition = (field.extensions or {}).get("strawberry-definition")
            resolve = field.resolve
            leaf = get_named_type(field.type)
            if (
                isinstance(definition, StrawberryField)
                and getattr(resolve, "__name__", "") == "_get_basic_result"
                and isinstance(leaf, GraphQLScalarType | GraphQLEnumType)
                and (field.type is leaf or isinstance(field.type, GraphQLNonNull))
                and definition.python_name
            ):
                non_null = isinstance(field.type, GraphQLNonNull)
                field.extensions = {
                    **field.extensions,
                    PLAIN: PlainField(definition.python_name, leaf, non_null),
                }
                marked += 1
    return marked


__all__ = ["NOT_SERVED", "PLAIN", "PlainField", "mark_plain_fields"]
