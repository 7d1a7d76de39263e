"""What a document may ask for: depth, aliases, tokens, operations, introspection, and
literal values no field may take.

These run as graphql-core validation rules (tokens at parse time) when a document first enters
a schema's document cache, so a document pays for them once, not on every request. Expensive
documents are refused before anything executes; resolvers still check who may see what.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, cast

from graphql import (
    ArgumentNode,
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    ListValueNode,
    Node,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationRule,
    ValueNode,
    VariableDefinitionNode,
    specified_rules,
)
from graphql.validation import NoSchemaIntrospectionCustomRule, ValuesOfCorrectTypeRule
from loyalty_core.errors import ErrorCode, LoyaltyError
from loyalty_core.inputs import text_problem
from loyalty_core.settings import Settings

MAX_DOCUMENT_LENGTH = 100_000
"""Characters in one document, comments included (the token limit does not count those)."""


@dataclass(frozen=True)
class DocumentLimits:
    """The limits one gateway applies to every document."""

    max_depth: int
    max_aliases: int
    max_tokens: int
    max_operations: int
    introspection: bool
    max_length: int = MAX_DOCUMENT_LENGTH

    @classmethod
    def from_settings(cls, settings: Settings) -> DocumentLimits:
        return cls(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            max_operations=settings.max_operations,
            introspection=settings.introspection_allowed,
        )

    @cached_property
    def rules(self) -> tuple[type[ASTValidationRule], ...]:
        """The specified rules of GraphQL (with :class:`LiteralValuesRule` in place of
        graphql-core's check of literal values), then ours."""
        ours: list[type[ASTValidationRule]] = [
            _limited(MaxDepthRule, self.max_depth),
            _limited(MaxAliasesRule, self.max_aliases),
            _limited(MaxOperationsRule, self.max_operations),
        ]
        if not self.introspection:
            ours.append(NoSchemaIntrospectionCustomRule)
        specified = (
            LiteralValuesRule if rule is ValuesOfCorrectTypeRule else rule
            for rule in specified_rules
        )
        return (*specified, *ours)


class MaxDepthRule(ValidationRule):
    """No operation nests fields deeper than ``limit`` (fragments count where they are spread;
    introspection fields do not count: introspection is switched off as a whole instead)."""

    limit: ClassVar[int] = 12

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self._fragment_depths: dict[tuple[str, int], int] = {}

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
        depth = self._depth(node.selection_set, self.limit + 1, frozenset())
        if depth > self.limit:
            name = f"'{node.name.value}'" if node.name else "the operation"
            self.report_error(
                GraphQLError(f"{name} nests fields more than {self.limit} deep.", node)
            )

    def _depth(self, selection_set: SelectionSetNode, cap: int, spreading: frozenset[str]) -> int:
        """The depth of a selection set, counted no further than ``cap`` (so a deep or cyclic
        document costs no more than a document at the limit)."""
        deepest = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__"):
                    continue
                below = selection.selection_set
                depth = 1 + (self._depth(below, cap - 1, spreading) if below and cap > 1 else 0)
            elif isinstance(selection, InlineFragmentNode):
                depth = self._depth(selection.selection_set, cap, spreading)
            elif isinstance(selection, FragmentSpreadNode):
                depth = self._spread_depth(selection.name.value, cap, spreading)
            else:
                continue
            deepest = max(deepest, depth)
            if deepest >= cap:
                return cap
        return deepest

    def _spread_depth(self, name: str, cap: int, spreading: frozenset[str]) -> int:
        if name in spreading:  # a cycle: NoFragmentCyclesRule reports it
            return 0
        key = (name, cap)
        if key not in self._fragment_depths:
            fragment = self.context.get_fragment(name)
            self._fragment_depths[key] = (
                self._depth(fragment.selection_set, cap, spreading | {name}) if fragment else 0
            )
        return self._fragment_depths[key]


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
    "MAX_DOCUMENT_LENGTH",
    "DocumentLimits",
    "LiteralValuesRule",
    "MaxAliasesRule",
    "MaxDepthRule",
    "MaxOperationsRule",
]
