"""Direct resolvers: the fields with a resolver of their own, called without strawberry's
per-call layers.

For every field with a resolver, strawberry builds a chain made for features the field may
use (field extensions, exception handlers) and converts the field's arguments on every call
by resolving each argument's annotation, and each input object field's, again (its generic
checks included). A batch of 1000 events spent a quarter of the gateway's CPU there (about
60 µs an event), a dashboard some 5% over its five resolvers.

:func:`mark_direct_resolvers` swaps the resolver of each field that uses none of those
features for one that converts its arguments with :class:`Converters`, worked out once per
schema, then calls the resolver as strawberry does: ``self`` as the first argument, the
source for a ``root`` or ``parent`` parameter and the strawberry ``Info`` for an ``info``
one, where the resolver declares them. What the resolver returns, an awaitable included,
goes to graphql-core as strawberry's own resolver would hand it on. Fields with extensions
(permission classes are extensions), with exception handlers that apply to them, and
subscription fields keep strawberry's resolver.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from graphql import GraphQLResolveInfo, GraphQLSchema
from loyalty_core.inputs import RefusedItem
from strawberry import Schema
from strawberry.exceptions import StrawberryGraphQLError, UnsupportedTypeError
from strawberry.relay.types import GlobalID
from strawberry.types.arguments import _is_leaf_type, _is_optional_leaf_type
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryOptional,
    StrawberryType,
    has_object_definition,
)
from strawberry.types.enum import has_enum_definition
from strawberry.types.field import StrawberryField
from strawberry.types.lazy_type import LazyType
from strawberry.types.maybe import Some
from strawberry.types.unset import UNSET

from loyalty_gateway.composition import strawberry_fields

Convert = Callable[[Any], Any]

_STRAWBERRY_RESOLVERS = frozenset({"_resolver", "_async_resolver"})


def _same(value: Any) -> Any:
    return value


class Converters:
    """strawberry's ``convert_argument``, one function per type, decided once.

    ``convert_argument(value, type_, ...)`` walks ``type_`` for every value (and resolves the
    annotation of every input field of every item of a list on the way); :meth:`of` walks it
    once and returns a function that does only what the walk decided. Each branch mirrors
    strawberry's, in its order: ``Maybe``, optional, null and unset, list (a list of leaves
    as it is), leaf (a ``GlobalID`` parsed), lazy type, enum, input object.
    """

    def __init__(self, schema: Schema) -> None:
        self._registry = schema.schema_converter.scalar_registry
        self.names = schema.config.name_converter
        self._objects: dict[type, Convert] = {}

    def of(self, type_: StrawberryType | type) -> Convert:
        """The conversion of an argument (or input field) value of ``type_``."""
        if isinstance(type_, StrawberryMaybe):
            return self._maybe(type_)
        if isinstance(type_, StrawberryOptional):
            return self.of(type_.of_type)
        convert = self._present(type_)
        if convert is _same:
            return _same  # null and unset are returned as they are, like any leaf

        def convert_present(value: Any) -> Any:
            return value if value is None or value is UNSET else convert(value)

        return convert_present

    def _maybe(self, type_: StrawberryMaybe) -> Convert:
        inner = type_.of_type
        convert = self.of(inner)
        if isinstance(inner, StrawberryOptional):
            return lambda value: Some(convert(value))
        type_name = getattr(inner, "__name__", str(inner))
        message = (
            f"Expected value of type '{type_name}', found null. "
            f"Field of type 'Maybe[{type_name}]' cannot be explicitly set to null. "
            f"Use 'Maybe[{type_name} | None]' if you need to allow null values."
        )

        def convert_maybe(value: Any) -> Any:
            if value is None:
                raise StrawberryGraphQLError(message)
            return Some(convert(value))

        return convert_maybe

    def _present(self, type_: StrawberryType | type) -> Convert:
        """The conversion of a value that is neither null nor unset."""
        registry = self._registry
        if isinstance(type_, StrawberryList):
            item = type_.of_type
            skip = (GlobalID,)
            if _is_leaf_type(item, registry, skip_classes=skip) or _is_optional_leaf_type(
                item, registry, skip_classes=skip
            ):
                return _same
            convert_item = self.of(item)
            return lambda value: [
                element if type(element) is RefusedItem else convert_item(element)
                for element in value
            ]  # an item refused alone reaches the resolver as it is (see variables)
        if _is_leaf_type(type_, registry):
            return GlobalID.from_id if type_ is GlobalID else _same
        if isinstance(type_, LazyType):
            return self.of(type_.resolve_type())
        if has_enum_definition(type_):
            return self.of(type_.__strawberry_definition__)
        if has_object_definition(type_):
            assert isinstance(type_, type)
            return self._object(type_)

        def unsupported(value: Any) -> Any:
            raise UnsupportedTypeError(type_)  # as strawberry does, when a value comes

        return unsupported

    def _object(self, type_: type) -> Convert:
        known = self._objects.get(type_)
        if known is not None:
            return known
        fields: list[tuple[str, str, Convert]] = []

        def convert_object(value: Any) -> Any:
            kwargs = {}
            for graphql_name, python_name, convert in fields:
                if graphql_name in value:
                    kwargs[python_name] = convert(value[graphql_name])
            return type_(**kwargs)

        # Registered before its fields are worked out: an input type may contain itself.
        self._objects[type_] = convert_object
        definition = type_.__strawberry_definition__  # type: ignore[attr-defined]
        for field in definition.fields:
            field_type = field.resolve_type(type_definition=definition)
            fields.append((self.names.from_field(field), field.python_name, self.of(field_type)))
        return convert_object


def mark_direct_resolvers(schema: Schema, core_schema: GraphQLSchema) -> int:
    """Give the fields that qualify (see the module) a direct resolver; returns how many."""
    converters = Converters(schema)
    converter = schema.schema_converter
    subscription = core_schema.subscription_type
    marked = 0
    for named, field, definition in strawberry_fields(core_schema):
        if (
            named is not subscription
            and definition.base_resolver is not None
            and callable(definition.base_resolver.wrapped_func)
            and not definition.extensions
            and getattr(field.resolve, "__name__", "") in _STRAWBERRY_RESOLVERS
            and not converter._get_field_exception_handlers(definition)
        ):
            field.resolve = _direct(definition, converters, schema.config.info_class)
            marked += 1
    return marked


def _direct(field: StrawberryField, converters: Converters, info_class: type[Any]) -> Any:
    resolver = field.base_resolver
    assert resolver is not None
    arguments = [
        (
            converters.names.from_argument(argument),
            argument.python_name,
            converters.of(argument.type),
        )
        for argument in field.arguments
    ]
    with_self = resolver.self_parameter is not None
    source_names = [
        parameter.name
        for parameter in (resolver.parent_parameter, resolver.root_parameter)
        if parameter is not None
    ]
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None
    call = cast(Callable[..., Any], resolver.wrapped_func)  # marked only when callable

    def resolve(source: Any, info: GraphQLResolveInfo, **raw: Any) -> Any:
        kwargs: dict[str, Any] = {}
        for graphql_name, python_name, convert in arguments:
            if graphql_name in raw:
                kwargs[python_name] = convert(raw[graphql_name])
        for name in source_names:
            kwargs[name] = source
        if info_name is not None:
            kwargs[info_name] = info_class(_raw_info=info, _field=field)
        return call(source, **kwargs) if with_self else call(**kwargs)

    resolve.__name__ = "_direct_resolver"
    return resolve


__all__ = ["Converters", "mark_direct_resolvers"]
