"""Composing a schema from the core and a set of modules, and refusing sets that clash.

A tenant's schema is the core plus the modules it enabled: every module's query, mutation and
subscription fields are merged into the root types ``Query``, ``Mutation`` and
``Subscription``, its extra types are added, and the fields it adds to core types
(``loyalty_type_extensions``) are appended by a ``strawberry.Schema`` subclass in
``get_fields``, only in schemas whose set holds the module.

strawberry's ``merge_types`` only warns when two classes share a field, and a type name defined
twice surfaces as an error that names classes, not modules. So every name is checked here: a
root field, a type or a type extension defined by two modules (or by a module and the core)
raises :class:`SchemaClashError` naming both. :func:`compose_all` builds every installed
module at start-up, so a clash stops the gateway before it serves anyone.

Protections (depth, aliases, tokens, operations, introspection) are not strawberry extensions
here: the gateway runs them as validation rules once per distinct document
(:mod:`loyalty_gateway.documents`), which is where they cost least.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    ast_from_value,
)
from loyalty_core.graphql.scalars import SCALARS
from loyalty_core.modules.contributions import ModuleContributions
from loyalty_core.modules.manager import CORE_MODULE, ModuleRegistry
from strawberry.exceptions import DuplicatedTypeName
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter
from strawberry.types.base import StrawberryObjectDefinition, get_object_definition
from strawberry.types.field import StrawberryField

ROOT_TYPES = (("query", "Query"), ("mutation", "Mutation"), ("subscription", "Subscription"))


class CompositionError(Exception):
    """A set of modules does not make a valid schema."""


class SchemaClashError(CompositionError):
    """Two modules (or a module and the core) define the same root field, type or type
    extension field."""

    def __init__(self, name: str, first: str, second: str) -> None:
        self.name = name
        self.modules = (first, second)
        if first == second:
            message = f"{name} is defined twice by module {first!r}"
        else:
            message = f"{name} is defined by both module {first!r} and module {second!r}"
        super().__init__(message)


def compose_schema(registry: ModuleRegistry, modules: frozenset[str]) -> strawberry.Schema:
    """The schema of the core plus ``modules`` (names of loaded modules; ``core`` is implied).

    Raises :class:`SchemaClashError` when two of them define the same name, and
    :class:`CompositionError` when a module is not loaded, extends a type the set lacks or
    gives an argument or input field a default value GraphQL cannot write.
    """
    names = _module_names(registry, modules)
    try:
        schema = _compose(registry, names)
    except DuplicatedTypeName as exc:
        raise _type_clash(registry, names, exc) from exc
    _check_defaults(graphql_schema(schema))
    return schema


def compose_all(registry: ModuleRegistry) -> strawberry.Schema:
    """Build every installed module, alone and all together, and return the full schema.

    Called at start-up: clashes are pairwise, so the full set shows every clash between
    modules; each module alone (with the modules it requires) shows an extension of a type
    that only appears when some other module happens to be enabled too. The answer depends
    on the registry alone, so each registry is checked once per process (a process that
    starts several gateways, as the tests' does, pays once).
    """
    full = _CHECKED.get(registry)
    if full is None:
        installed = frozenset(module.info.name for module in registry.optional)
        full = compose_schema(registry, installed)
        for name in sorted(installed):
            compose_schema(registry, _with_requirements(registry, name))
        _CHECKED[registry] = full
    return full


_CHECKED: weakref.WeakKeyDictionary[ModuleRegistry, strawberry.Schema] = weakref.WeakKeyDictionary()
"""The full schema of each registry :func:`compose_all` has checked."""


def export_sdl(registry: ModuleRegistry) -> str:
    """The SDL of the schema with every installed module (what ``schema/schema.graphql`` holds)."""
    return str(compose_all(registry)) + "\n"


def graphql_schema(schema: strawberry.Schema) -> GraphQLSchema:
    """The graphql-core schema strawberry built, which the gateway validates and executes on."""
    return schema._schema


def strawberry_fields(
    schema: GraphQLSchema,
) -> Iterator[tuple[GraphQLObjectType, GraphQLField, StrawberryField]]:
    """Each field of the object types of ``schema`` that strawberry built from a
    ``StrawberryField``, with its type and that definition (introspection types have none):
    what the gateway marks once per schema to serve faster."""
    for named in schema.type_map.values():
        if isinstance(named, GraphQLObjectType):
            for field in named.fields.values():
                definition = (field.extensions or {}).get("strawberry-definition")
                if isinstance(definition, StrawberryField):
                    yield named, field, definition


@dataclass(frozen=True)
class _Extension:
    module: str
    field: StrawberryField


class ComposedSchema(strawberry.Schema):
    """A strawberry schema that appends modules' fields to the types they extend."""

    def __init__(
        self, *, type_extensions: Mapping[str, Mapping[str, _Extension]], **kwargs: Any
    ) -> None:
        # get_fields runs while the parent constructor converts the types: set these first.
        self._type_extensions = type_extensions
        self.extended_types: set[str] = set()
        super().__init__(**kwargs)

    def get_fields(self, type_definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        fields = type_definition.fields
        extensions = self._type_extensions.get(type_definition.name)
        if not extensions or type_definition.is_input:
            return fields
        own = {self.config.name_converter.from_field(field) for field in fields}
        for name, extension in extensions.items():
            if name in own:
                raise SchemaClashError(
                    f"{type_definition.name}.{name}", _OWN_FIELD, extension.module
                )
        self.extended_types.add(type_definition.name)
        return [*fields, *(extension.field for extension in extensions.values())]


class _FieldNames(NameConverter):
    """strawberry's naming (camel case), remembering each field's GraphQL name: converting a
    request's input objects asks it for every field of every item (a batch's 1000 events),
    and camel-casing the same names again was a fifth of that conversion."""

    def __init__(self) -> None:
        super().__init__(auto_camel_case=True)
        self._names: weakref.WeakKeyDictionary[StrawberryField, str] = weakref.WeakKeyDictionary()

    def from_field(self, field: StrawberryField) -> str:
        name = self._names.get(field)
        if name is None:
            name = self._names[field] = super().from_field(field)
        return name


_NAMES = _FieldNames()
# Stand-in owner of a type's own fields until the type's module is looked up (error path only).
_OWN_FIELD = "\0own"
_DUPLICATED = re.compile(r"Type (\S+) is defined multiple times")


def _compose(
    registry: ModuleRegistry, names: Sequence[str], *, attribute: bool = True
) -> strawberry.Schema:
    """Compose ``names``; ``attribute`` looks up the owner of a type whose own field a module
    redefines (probes composing on the way to an error pass False)."""
    parts = [(name, registry.modules[name]) for name in names]
    roots = {kind: _merge_root(type_name, _roots(parts, kind)) for kind, type_name in ROOT_TYPES}
    query = roots["query"]
    if query is None:
        raise CompositionError("no module contributes a Query type")
    extensions = _type_extensions(parts)
    try:
        schema = ComposedSchema(
            type_extensions=extensions,
            query=query,
            mutation=roots["mutation"],
            subscription=roots["subscription"],
            types=[t for _, module in parts if module.schema for t in module.schema.types],
            config=StrawberryConfig(
                auto_camel_case=True, name_converter=_NAMES, scalar_map=SCALARS
            ),
        )
    except TypeError as exc:
        cause = _composition_cause(exc)
        if isinstance(cause, SchemaClashError) and _OWN_FIELD in cause.modules and attribute:
            raise _own_field_clash(registry, names, cause) from None
        if isinstance(cause, (CompositionError, DuplicatedTypeName)):
            raise cause from None
        raise
    for type_name, fields in extensions.items():
        if type_name not in schema.extended_types:
            modules = sorted({extension.module for extension in fields.values()})
            raise CompositionError(
                f"module {modules[0]!r} extends type {type_name}, which is not in the schema "
                "(declare the module that defines it in `requires`)"
            )
    return schema


def _check_defaults(schema: GraphQLSchema) -> None:
    """Refuse a default value that cannot be written as a GraphQL literal the way introspection
    writes it (graphql-core's ``ast_from_value``): a JSON object or list, or an input object
    given as anything but a mapping. Introspection would answer the whole query with an error
    (or silently drop the default), and the clients that print defaults (GraphiQL's
    documentation, graphql-js's ``printSchema``) could not write it either."""
    for coordinate, value in _input_values(schema):
        if value.default_value is Undefined:
            continue
        try:
            literal = ast_from_value(value.default_value, value.type)
        except Exception:  # a scalar's serialize may raise anything for a value it cannot take
            literal = None
        if literal is None:
            raise CompositionError(
                f"the default value of {coordinate} ({value.default_value!r}) cannot be written "
                "in GraphQL: give it no default, or one its type writes as a literal"
            )


def _input_values(
    schema: GraphQLSchema,
) -> Iterator[tuple[str, GraphQLArgument | GraphQLInputField]]:
    """Every argument and input field of ``schema`` with its schema coordinate."""
    for named in schema.type_map.values():
        if isinstance(named, GraphQLInputObjectType):
            for name, input_field in named.fields.items():
                yield f"{named.name}.{name}", input_field
        elif isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
            for name, field in named.fields.items():
                for argument_name, argument in field.args.items():
                    yield f"{named.name}.{name}({argument_name}:)", argument
    for directive in schema.directives:
        for argument_name, argument in directive.args.items():
            yield f"@{directive.name}({argument_name}:)", argument


def _composition_cause(exc: BaseException) -> BaseException | None:
    """What get_fields raised, under the TypeErrors graphql-core wraps it in (one per type whose
    field thunk was being resolved)."""
    cause = exc.__cause__
    while isinstance(cause, TypeError) and cause.__cause__ is not None:
        cause = cause.__cause__
    return cause


def _module_names(registry: ModuleRegistry, modules: Iterable[str]) -> list[str]:
    """The core first, then the modules by name: the same set always composes the same way."""
    wanted = set(modules) - {CORE_MODULE}
    missing = sorted(name for name in wanted if name not in registry.modules)
    if missing:
        raise CompositionError(f"module(s) not loaded: {', '.join(missing)}")
    if CORE_MODULE not in registry.modules:
        raise CompositionError("the core module is not loaded")
    return [CORE_MODULE, *sorted(wanted)]


def _with_requirements(registry: ModuleRegistry, name: str) -> frozenset[str]:
    found: set[str] = set()
    pending = [name]
    while pending:
        current = pending.pop()
        if current in found or current == CORE_MODULE:
            continue
        found.add(current)
        pending.extend(registry.modules[current].info.requires)
    return frozenset(found)


def _roots(parts: Sequence[tuple[str, ModuleContributions]], kind: str) -> list[tuple[str, type]]:
    found = []
    for name, module in parts:
        root = getattr(module.schema, kind, None) if module.schema else None
        if root is not None:
            found.append((name, root))
    return found


def _merge_root(type_name: str, contributions: Sequence[tuple[str, type]]) -> type | None:
    """One root type with the fields of every contribution; a field name two share is a clash."""
    if not contributions:
        return None
    owners: dict[str, str] = {}
    for module, root in contributions:
        for field in get_object_definition(root, strict=True).fields:
            name = _NAMES.from_field(field)
            if name in owners:
                raise SchemaClashError(f"{type_name}.{name}", owners[name], module)
            owners[name] = module
    classes = tuple(root for _, root in contributions)
    if len(classes) == 1 and get_object_definition(classes[0], strict=True).name == type_name:
        return classes[0]
    merged: type = strawberry.type(type(type_name, classes, {}))
    return merged


def _type_extensions(
    parts: Sequence[tuple[str, ModuleContributions]],
) -> dict[str, dict[str, _Extension]]:
    """Extension fields by target type and field name; a name two modules add is a clash."""
    by_type: dict[str, dict[str, _Extension]] = {}
    for module, contributions in parts:
        for extension in contributions.type_extensions:
            field = extension.field
            if not isinstance(field, StrawberryField):
                raise CompositionError(
                    f"module {module!r}: the extension of {extension.type_name} is not a "
                    "strawberry field"
                )
            name = _NAMES.from_field(field)
            fields = by_type.setdefault(extension.type_name, {})
            if name in fields:
                raise SchemaClashError(f"{extension.type_name}.{name}", fields[name].module, module)
            fields[name] = _Extension(module, field)
    return by_type


def _type_clash(
    registry: ModuleRegistry, names: Sequence[str], exc: DuplicatedTypeName
) -> CompositionError:
    """Which modules define the type strawberry found twice: compose the core with each module
    alone and see whose schema brings the name (slow, but only on the way to failing)."""
    match = _DUPLICATED.search(str(exc))
    if match is None:
        return CompositionError(str(exc))
    type_name = match.group(1)
    owners = _owners(registry, names, type_name)
    if len(owners) >= 2:
        return SchemaClashError(f"type {type_name}", owners[0], owners[1])
    return CompositionError(f"type {type_name} is defined multiple times ({exc})")


def _own_field_clash(
    registry: ModuleRegistry, names: Sequence[str], clash: SchemaClashError
) -> SchemaClashError:
    type_name = clash.name.split(".", 1)[0]
    owners = _owners(registry, names, type_name)
    extender = next(module for module in clash.modules if module != _OWN_FIELD)
    return SchemaClashError(clash.name, owners[0] if owners else "unknown", extender)


def _owners(registry: ModuleRegistry, names: Sequence[str], type_name: str) -> list[str]:
    core_types = _type_names(registry, [CORE_MODULE])
    owners = [CORE_MODULE] if core_types is not None and type_name in core_types else []
    for name in names:
        if name == CORE_MODULE:
            continue
        types = _type_names(registry, [CORE_MODULE, name])
        if types is None or (type_name in types and CORE_MODULE not in owners):
            owners.append(name)
    return owners


def _type_names(registry: ModuleRegistry, names: Sequence[str]) -> set[str] | None:
    """The named types of a composition, or None when it clashes itself."""
    try:
        schema = _compose(registry, names, attribute=False)
    except (DuplicatedTypeName, SchemaClashError):
        return None
    except CompositionError:
        return set()
    return set(graphql_schema(schema).type_map)


__all__ = [
    "ROOT_TYPES",
    "ComposedSchema",
    "CompositionError",
    "SchemaClashError",
    "compose_all",
    "compose_schema",
    "export_sdl",
    "graphql_schema",
]
