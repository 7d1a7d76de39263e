"""What a document may ask for: size, depth, cost, aliases, tokens, operations, introspection,
and literal values no field may take.

Validation is the expensive part of a new document: graphql-core's rule that fields can be
merged compares every pair of fields that answer under the same name, and a 2,000-token
document of repeated fields took 1.7 s to validate on the event loop. So a document is
measured first, in one walk over its operations with fragments expanded where they are
spread (:class:`DocumentSize`), and refused with ``QUERY_TOO_COMPLEX`` before any rule runs
when it has too many fields, fragment spreads or fields answering under one path, nests too
deep, or would cost too much to execute (:attr:`DocumentLimits.max_cost`). The walk stops at
the first limit passed, so it costs no more than a document at the limits. Tokens are counted
while parsing; aliases, operations and introspection are validation rules. All of this runs
once per distinct document and schema, not on every request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any, ClassVar, cast

from graphql import (
    ArgumentNode,
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    Node,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationContext,
    ValidationRule,
    ValueNode,
    VariableDefinitionNode,
    get_introspection_query,
    get_named_type,
    get_nullable_type,
    parse,
    recommended_rules,
    specified_rules,
)
from graphql.type import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef
from graphql.validation import (
    NoSchemaIntrospectionCustomRule,
    OverlappingFieldsCanBeMergedRule,
    ValuesOfCorrectTypeRule,
)
from loyalty_core.errors import ErrorCode, LoyaltyError
from loyalty_core.graphql.common import MAX_PAGE
from loyalty_core.inputs import text_problem
from loyalty_core.settings import Settings

MAX_DOCUMENT_LENGTH = 100_000
"""Characters in one document, comments included (the token limit does not count those)."""

DEFAULT_LIST_SIZE = 20
"""What a list without ``first`` counts for in a document's cost: the default page."""

MAX_OVERLAPS = 200
"""Pairs of fields answering under the same response path, and of fragments spread in the same
selection, a document may hold: the pairs the merge rule compares. Clients repeat a field
where fragments overlap (ten fragments spread on a member, each selecting ``id``, are 45 pairs
of fragments and 45 of fields); a document of a field repeated 400 times holds 80,000."""

MERGE_BUDGET = 2_000
"""Units of graphql-core's merge-rule budget one document may spend (two per pair of fields
compared): about 3 µs each, so a few milliseconds. Documents within :data:`MAX_OVERLAPS`
spend about three units per overlap."""

STANDARD_INTROSPECTION_QUERY = get_introspection_query(
    descriptions=True,
    specified_by_url=True,
    directive_is_repeatable=True,
    schema_description=True,
    input_value_deprecation=True,
)
"""The introspection query GraphiQL, Apollo and graphql-codegen send, with every option on:
introspection may nest and cost as much as it does, and no more."""


class QueryTooComplex(Exception):
    """A document past one of the limits (raised inside the walk, to stop it)."""


@dataclass(frozen=True)
class DocumentLimits:
    """The limits one gateway applies to every document."""

    max_depth: int
    max_aliases: int
    max_tokens: int
    max_operations: int
    introspection: bool
    max_fields: int
    max_fragment_spreads: int
    max_cost: int
    max_overlaps: int = MAX_OVERLAPS
    max_length: int = MAX_DOCUMENT_LENGTH

    @classmethod
    def from_settings(cls, settings: Settings) -> DocumentLimits:
        return cls(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            max_operations=settings.max_operations,
            introspection=settings.introspection_allowed,
            max_fields=settings.max_fields,
            max_fragment_spreads=settings.max_fragment_spreads,
            max_cost=settings.max_query_cost,
        )

    @cached_property
    def rules(self) -> tuple[type[ASTValidationRule], ...]:
        """The specified rules of GraphQL (the merge rule on our budget, and
        :class:`LiteralValuesRule` in place of graphql-core's check of literal values),
        graphql-core's recommended ones (introspection walking the type graph no more than three
        lists deep: ``fields { type { fields { type { fields``), then ours."""
        ours: list[type[ASTValidationRule]] = [
            _limited(MaxAliasesRule, self.max_aliases),
            _limited(MaxOperationsRule, self.max_operations),
        ]
        if not self.introspection:
            ours.append(NoSchemaIntrospectionCustomRule)
        replaced: dict[type[ASTValidationRule], type[ASTValidationRule]] = {
            OverlappingFieldsCanBeMergedRule: BudgetedMergeRule,
            ValuesOfCorrectTypeRule: LiteralValuesRule,
        }
        specified = (replaced.get(rule, rule) for rule in specified_rules)
        return (*specified, *recommended_rules, *ours)

    def check(self, schema: GraphQLSchema, document: DocumentNode) -> GraphQLError | None:
        """The first limit ``document`` passes on ``schema``, as an error; None within all."""
        try:
            DocumentSize.of(schema, document, self)
        except QueryTooComplex as exc:
            return GraphQLError(str(exc))
        return None


@dataclass
class DocumentSize:
    """What one walk over a document's operations found, fragments counted where spread.

    ``fields`` and ``spreads`` count occurrences (a fragment spread twice counts twice);
    ``overlaps`` the pairs of fields answering under the same response path and of fragments
    spread in the same selection (what the merge rule compares); ``cost`` the objects and
    values execution may produce, each field counting once per object its enclosing lists may
    hold (``first``, the largest page when ``first`` is a variable, :data:`DEFAULT_LIST_SIZE`
    without it). Introspection (below ``__schema``
    and ``__type``) is measured apart: its depth and cost are bounded by those of the
    standard introspection query rather than by the limits of data.
    """

    fields: int = 0
    spreads: int = 0
    overlaps: int = 0
    depth: int = 0
    cost: int = 0
    introspection_depth: int = 0
    introspection_cost: int = 0

    @classmethod
    def of(
        cls, schema: GraphQLSchema, document: DocumentNode, limits: DocumentLimits | None = None
    ) -> DocumentSize:
        """Measure ``document``; with ``limits``, raise :class:`QueryTooComplex` at the first
        one passed (the walk stops there)."""
        walk = _Walk(schema, document, limits)
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                root = schema.get_root_type(definition.operation)
                walk.selections(definition.selection_set, root, _Place(), frozenset())
        walk.size.overlaps += cls._fragment_overlaps(schema, document, limits, walk.size)
        return walk.size

    @classmethod
    def _fragment_overlaps(
        cls,
        schema: GraphQLSchema,
        document: DocumentNode,
        limits: DocumentLimits | None,
        size: DocumentSize,
    ) -> int:
        """The overlaps within each fragment definition on its own: the merge rule checks a
        definition once by itself besides where it is spread (even one spread nowhere, which
        validation refuses only after). Measured by a walk of their own, on the same limits
        (so it stops as early), that adds the operations' overlaps to its count."""
        walk = _Walk(schema, document, limits, definitions=True)
        walk.size.overlaps = size.overlaps
        for name, fragment in walk.fragments.items():
            condition = schema.get_type(fragment.type_condition.name.value)
            root = _Place(path=walk.occur(0, name)[0])
            walk.selections(fragment.selection_set, condition, root, frozenset({name}))
        return walk.size.overlaps - size.overlaps


@dataclass(frozen=True)
class _Place:
    """Where the walk is: the response path (an id), depth, how many times the enclosing lists
    repeat what is selected here, a page size given above and not yet used by a list, and
    whether this is inside introspection."""

    path: int = 0
    depth: int = 0
    repeats: int = 1
    page: int | None = None
    introspection: bool = False


@dataclass
class _Walk:
    schema: GraphQLSchema
    document: DocumentNode
    limits: DocumentLimits | None
    definitions: bool = False
    """Walking fragment definitions on their own: spreads and overlaps only (fields, depth
    and cost are counted where the fragments are spread)."""
    size: DocumentSize = field(default_factory=DocumentSize)
    _paths: dict[tuple[int, str], int] = field(default_factory=dict)
    _occurrences: list[int] = field(default_factory=lambda: [0])

    @cached_property
    def fragments(self) -> dict[str, FragmentDefinitionNode]:
        return {
            d.name.value: d
            for d in self.document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }

    def selections(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType | None,
        place: _Place,
        spreading: frozenset[str],
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self._field(selection, parent, place, spreading)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                narrowed = self.schema.get_type(condition.name.value) if condition else parent
                self.selections(selection.selection_set, narrowed, place, spreading)
            elif isinstance(selection, FragmentSpreadNode):
                self._spread(selection, place, spreading)

    def _field(
        self,
        node: FieldNode,
        parent: GraphQLNamedType | None,
        place: _Place,
        spreading: frozenset[str],
    ) -> None:
        size, limits = self.size, self.limits
        name = node.name.value
        introspection = place.introspection or name in ("__schema", "__type")
        depth = place.depth + 1
        size.fields += 0 if self.definitions else 1
        path, before = self.occur(place.path, node.alias.value if node.alias else name)
        size.overlaps += before
        if not self.definitions:  # depth and cost are the operations', fragments spread
            self._account(name, depth, place.repeats, introspection=introspection)
        if limits is not None:
            limits_passed(size, limits)
        if node.selection_set is None:
            return
        definition = _field_definition(parent, name)
        page = _first(node)
        repeats, below = place.repeats, page if page is not None else place.page
        if definition is not None and isinstance(
            get_nullable_type(definition.type),  # type: ignore[arg-type]
            GraphQLList,
        ):
            repeats, below = repeats * (below or DEFAULT_LIST_SIZE), None
        # Below a field the schema lacks too: validation still compares what is there.
        inner_type = None if definition is None else get_named_type(definition.type)
        inner = _Place(path, depth, repeats, below, introspection)
        self.selections(node.selection_set, inner_type, inner, spreading)

    def _account(self, name: str, depth: int, repeats: int, *, introspection: bool) -> None:
        """Add a field's depth and cost to the introspection's or the data's."""
        size = self.size
        if introspection:
            size.introspection_depth = max(size.introspection_depth, depth)
            size.introspection_cost += repeats
            return
        if name != "__typename":  # which clients add to every selection (Apollo's)
            size.depth = max(size.depth, depth)
        size.cost += repeats

    def _spread(self, node: FragmentSpreadNode, place: _Place, spreading: frozenset[str]) -> None:
        name = node.name.value
        self.size.spreads += 1
        # The merge rule compares each pair of fragments spread in one selection set too.
        self.size.overlaps += self.occur(place.path, "...")[1]
        if self.limits is not None:
            limits_passed(self.size, self.limits)
        fragment = self.fragments.get(name)
        if fragment is None or name in spreading:  # validation reports both
            return
        condition = self.schema.get_type(fragment.type_condition.name.value)
        self.selections(fragment.selection_set, condition, place, spreading | {name})

    def occur(self, parent: int, response_name: str) -> tuple[int, int]:
        """Count a field answering at ``response_name`` below path ``parent``: the path's id,
        and how many fields answered there before (each makes a pair with this one)."""
        path = self._paths.get((parent, response_name))
        if path is None:
            path = self._paths[(parent, response_name)] = len(self._occurrences)
            self._occurrences.append(0)
        before = self._occurrences[path]
        self._occurrences[path] = before + 1
        return path, before


def limits_passed(size: DocumentSize, limits: DocumentLimits) -> None:
    """Raise :class:`QueryTooComplex` for the first limit ``size`` has passed."""
    introspection = standard_introspection_size()
    if size.fields > limits.max_fields:
        raise QueryTooComplex(
            f"The document selects more than {limits.max_fields} fields (counting a "
            "fragment's fields where it is spread)."
        )
    if size.spreads > limits.max_fragment_spreads:
        raise QueryTooComplex(
            f"The document spreads fragments more than {limits.max_fragment_spreads} times "
            "(counting each spread inside a fragment where that fragment is spread)."
        )
    if size.overlaps > limits.max_overlaps:
        raise QueryTooComplex(
            f"The document repeats fields under one response name, or fragments in one "
            f"selection, more than {limits.max_overlaps} times over (pairs that must be "
            "compared)."
        )
    if size.depth > limits.max_depth:
        raise QueryTooComplex(f"The document nests fields more than {limits.max_depth} deep.")
    if size.cost > limits.max_cost:
        raise QueryTooComplex(
            f"The document may cost more than {limits.max_cost} (each field once per object "
            f"its lists may hold: `first`, or {DEFAULT_LIST_SIZE} for a list without it)."
        )
    if size.introspection_depth > introspection.introspection_depth:
        raise QueryTooComplex(
            f"Introspection nests more than {introspection.introspection_depth} deep (the "
            "standard introspection query's depth)."
        )
    if size.introspection_cost > introspection.introspection_cost:
        raise QueryTooComplex("Introspection asks more than the standard introspection query does.")


def _field_definition(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    """The definition of field ``name`` on ``parent``, meta fields included; None when there is
    none (validation reports it)."""
    meta = _META_FIELDS.get(name)
    if meta is not None:
        return meta
    if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
        fields: dict[str, GraphQLField] = parent.fields
        return fields.get(name)
    return None


_META_FIELDS: dict[str, GraphQLField] = {
    "__typename": TypeNameMetaFieldDef,
    "__schema": SchemaMetaFieldDef,
    "__type": TypeMetaFieldDef,
}


def _first(node: FieldNode) -> int | None:
    """The page a field's ``first`` argument asks: its value, or the largest page when it is a
    variable (or anything but an integer); None without ``first``."""
    for argument in node.arguments:
        if argument.name.value == "first":
            value = argument.value
            if isinstance(value, IntValueNode):
                return max(1, int(value.value))
            return MAX_PAGE
    return None


@cache
def standard_introspection_size() -> DocumentSize:
    """The size of :data:`STANDARD_INTROSPECTION_QUERY` (any schema: introspection's types
    are the same in all of them)."""
    schema = GraphQLSchema(GraphQLObjectType("Query", {"noop": GraphQLField(GraphQLString)}))
    return DocumentSize.of(schema, parse(STANDARD_INTROSPECTION_QUERY))


class BudgetedMergeRule(OverlappingFieldsCanBeMergedRule):
    """graphql-core's rule that fields can be merged, with a budget of comparisons per
    document of :data:`MERGE_BUDGET` units instead of graphql-core's 500,000 (1.4 s of the
    event loop). The measure before validation refuses documents long before this; the budget
    holds whatever that measure misses, and validation aborted on it is ``QUERY_TOO_COMPLEX``.
    """

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.rule_context.remaining_complexity_budget = MERGE_BUDGET


class LiteralValuesRule(ValuesOfCorrectTypeRule):
    """graphql-core's check of literal values, which also refuses what no field may take, as
    variables are refused when coerced (:mod:`variables`), once per document: a string
    literal anywhere (in an argument, at any depth of an object or list, or a variable's
    default) holding text PostgreSQL cannot store, and what a scalar refuses with a
    ``LoyaltyError`` (a JSON literal beyond its limits, a time without an offset). Each is
    ``INVALID_INPUT`` with the argument's path (``input.attributes.note[1]``), reported once.
    The parser bounds the nesting of literals, and so the recursion of :meth:`_enter`."""

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self._fields: dict[int, str] = {}
        self._reported: set[str] = set()

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
        self._enter(node.value, node.name.value)

    def enter_variable_definition(self, node: VariableDefinitionNode, *_args: Any) -> None:
        if node.default_value is not None:
            self._enter(node.default_value, node.variable.name.value)

    def _enter(self, value: ValueNode, field: str) -> None:
        """Remember where each value node of a literal is; refuse text no field may take."""
        self._fields[id(value)] = field
        if isinstance(value, StringValueNode):
            problem = text_problem(value.value)
            if problem is not None:
                self._refuse(field, f"text {problem}", value)
        elif isinstance(value, ObjectValueNode):
            for item in value.fields:
                self._enter(item.value, f"{field}.{item.name.value}")
        elif isinstance(value, ListValueNode):
            for index, element in enumerate(value.values):
                self._enter(element, f"{field}[{index}]")

    def report_error(self, error: GraphQLError) -> None:
        original = error.original_error
        node = error.nodes[0] if error.nodes else None
        field = None if node is None else self._fields.get(id(node))
        if not isinstance(original, LoyaltyError) or field is None or node is None:
            super().report_error(error)
            return
        if original.field:
            inner = original.field
            field = f"{field}{inner}" if inner.startswith("[") else f"{field}.{inner}"
        self._refuse(field, original.message, node)

    def _refuse(self, field: str, message: str, node: Node) -> None:
        if field not in self._reported:
            self._reported.add(field)
            extensions = {"code": ErrorCode.INVALID_INPUT.value, "field": field}
            super().report_error(
                GraphQLError(f"Argument '{field}': {message}", node, extensions=extensions)
            )


class MaxAliasesRule(ValidationRule):
    """A document uses at most ``limit`` aliases: aliases are how one request multiplies work."""

    limit: ClassVar[int] = 30

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self._count = 0

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        if node.alias is not None:
            self._count += 1

    def leave_document(self, node: DocumentNode, *_args: Any) -> None:
        if self._count > self.limit:
            self.report_error(
                GraphQLError(f"The document uses {self._count} aliases; at most {self.limit}.")
            )


class MaxOperationsRule(ValidationRule):
    """A document holds at most ``limit`` operations (one, by default: a request runs one)."""

    limit: ClassVar[int] = 1

    def enter_document(self, node: DocumentNode, *_args: Any) -> None:
        count = sum(isinstance(d, OperationDefinitionNode) for d in node.definitions)
        if count > self.limit:
            self.report_error(
                GraphQLError(f"The document holds {count} operations; at most {self.limit}.")
            )


def _limited(rule: type[ValidationRule], limit: int) -> type[ASTValidationRule]:
    """The rule class with its limit set (graphql-core instantiates rules itself)."""
    return cast("type[ASTValidationRule]", type(rule.__name__, (rule,), {"limit": limit}))


__all__ = [
    "DEFAULT_LIST_SIZE",
    "MAX_DOCUMENT_LENGTH",
    "MAX_OVERLAPS",
    "MERGE_BUDGET",
    "STANDARD_INTROSPECTION_QUERY",
    "BudgetedMergeRule",
    "DocumentLimits",
    "DocumentSize",
    "LiteralValuesRule",
    "MaxAliasesRule",
    "MaxOperationsRule",
    "QueryTooComplex",
    "standard_introspection_size",
]
