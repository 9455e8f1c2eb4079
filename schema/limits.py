"""Hard limits on what one GraphQL request may cost, enforced before any resolver runs.

Each refusal is a GraphQL error whose `extensions.code` names the limit:
MAX_TOKENS_EXCEEDED, MAX_DEPTH_EXCEEDED, MAX_INTROSPECTION_DEPTH_EXCEEDED,
MAX_ALIASES_EXCEEDED, MAX_FIRST_EXCEEDED, MAX_ITEMS_EXCEEDED and MAX_NODES_EXCEEDED.

Introspection has a bound of its own. The standard introspection queries nest 13 (gql)
to 15 (graphql-js, graphql-core) levels deep, most of it a chain of `ofType` that returns
one type per level, so the general depth limit counts only the `__schema` or `__type`
field itself, and within it two bounds apply: its nesting (20 leaves room for a deeper
`typeDepth`), and how many lists of a type's members (`fields`, `inputFields`,
`interfaces`, `possibleTypes`) nest in one another. The second is the defence against
circular introspection (`__schema { types { fields { type { fields { type { fields ...`),
where each such list multiplies the answer: the standard queries need one, and two are
allowed, as graphql-js's own MaxIntrospectionDepthRule allows.

A list may hold `max_items` items, except the bulk lists named in `bulk_lists`
(applyTags' items), which may hold `max_bulk_items`; lists inside list items are checked
too (each applyTags item's tags).

The node estimate follows the GitHub API: every connection field costs the product of the
`first` (or `last`) arguments along its path, and a request may cost at most `max_nodes`
in sum. `last` has the same limit as `first`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import graphql
from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
)
from graphql.language import Lexer, Source, TokenKind
from strawberry.extensions import SchemaExtension

from schema.compat import graphql_schema


@dataclass(frozen=True, slots=True)
class RequestLimits:
    max_tokens: int = 5000
    max_depth: int = 10
    max_introspection_depth: int = 20
    max_introspection_lists: int = 2
    max_aliases: int = 30
    max_first: int = 100
    default_first: int = 20
    max_items: int = 100
    max_nodes: int = 50_000
    max_bulk_items: int = 1000
    # Input fields ("Type.field") whose lists may hold max_bulk_items rather than max_items.
    bulk_lists: frozenset[str] = frozenset({"ApplyTagsInput.items"})


def limit_error(code: str, message: str, node: Any = None) -> GraphQLError:
    return GraphQLError(message, node, extensions={"code": code})


# -- tokens, counted before the parser sees the document ---------------------------------


@lru_cache(maxsize=1024)
def count_tokens(query: str, cap: int) -> int:
    """How many tokens the document has, counting no further than cap + 1."""
    lexer = Lexer(Source(query))
    count = 0
    try:
        while lexer.advance().kind is not TokenKind.EOF:
            count += 1
            if count > cap:
                break
    except GraphQLError:
        pass  # a syntax error: the parser will report it with its location
    return count


class TokenLimit(SchemaExtension):
    def __init__(self, limits: RequestLimits) -> None:
        self.limits = limits

    def on_parse(self) -> Iterator[None]:
        query = self.execution_context.query
        if query and count_tokens(query, self.limits.max_tokens) > self.limits.max_tokens:
            raise limit_error(
                "MAX_TOKENS_EXCEEDED",
                f"The document has more than {self.limits.max_tokens} tokens",
            )
        yield


# -- depth and aliases: validation rules, so they run (and are cached) with validation ---


# graphql-core 3.3 validates with MaxIntrospectionDepthRule, a fixed bound (the same as
# max_introspection_lists' default) whose error has no code. ShapeLimits owns that bound
# here, so the built-in rule, where there is one, is taken out rather than reported twice.
_BUILT_IN_INTROSPECTION_RULE = getattr(graphql, "MaxIntrospectionDepthRule", None)


class ShapeRules(SchemaExtension):
    """Validation runs the shape limits (depth, introspection, aliases) as rules."""

    def __init__(self, limits: RequestLimits) -> None:
        self.rules = tuple(shape_rules(limits))

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        kept = tuple(r for r in context.validation_rules if r is not _BUILT_IN_INTROSPECTION_RULE)
        context.validation_rules = kept + self.rules
        yield


def shape_rules(limits: RequestLimits) -> list[type[ASTValidationRule]]:
    class ShapeLimits(ASTValidationRule):
        def enter_document(self, node: DocumentNode, *_args: Any) -> None:
            context = self.context
            fragments = {
                d.name.value: d for d in node.definitions if isinstance(d, FragmentDefinitionNode)
            }
            aliases = _count_aliases(node)
            if aliases > limits.max_aliases:
                context.report_error(
                    limit_error(
                        "MAX_ALIASES_EXCEEDED",
                        f"The document uses {aliases} aliases; at most {limits.max_aliases}",
                    )
                )
            walk = _ShapeWalk(fragments)
            for definition in node.definitions:
                if isinstance(definition, OperationDefinitionNode):
                    name = definition.name.value if definition.name else "anonymous"
                    for error in _shape_errors(walk.operation(definition), name, limits):
                        context.report_error(
                            limit_error(error[0], error[1], definition),
                        )

    return [ShapeLimits]


def _shape_errors(shape: Shape, name: str, limits: RequestLimits) -> Iterator[tuple[str, str]]:
    if shape.depth > limits.max_depth:
        yield (
            "MAX_DEPTH_EXCEEDED",
            f"Operation {name!r} is {shape.depth} levels deep; at most {limits.max_depth}",
        )
    if shape.introspection_depth > limits.max_introspection_depth:
        yield (
            "MAX_INTROSPECTION_DEPTH_EXCEEDED",
            f"Operation {name!r} nests introspection {shape.introspection_depth} levels "
            f"deep; at most {limits.max_introspection_depth}",
        )
    if shape.introspection_lists > limits.max_introspection_lists:
        yield (
            "MAX_INTROSPECTION_DEPTH_EXCEEDED",
            f"Operation {name!r} nests {shape.introspection_lists} lists of fields, input "
            f"fields, interfaces or possible types in introspection; at most "
            f"{limits.max_introspection_lists}",
        )


def _count_aliases(node: Any) -> int:
    if isinstance(node, FieldNode):
        own = 1 if node.alias else 0
        return own + (_count_aliases(node.selection_set) if node.selection_set else 0)
    if isinstance(node, SelectionSetNode):
        return sum(_count_aliases(s) for s in node.selections)
    if isinstance(node, InlineFragmentNode | OperationDefinitionNode | FragmentDefinitionNode):
        return _count_aliases(node.selection_set)
    if isinstance(node, DocumentNode):
        return sum(_count_aliases(d) for d in node.definitions)
    return 0


@dataclass(frozen=True, slots=True)
class Shape:
    """The deepest paths of a selection: its depth outside introspection, the nesting
    within `__schema`/`__type`, and the lists of type members nested there."""

    depth: int = 0
    introspection_depth: int = 0
    introspection_lists: int = 0

    def deepest(self, other: Shape) -> Shape:
        return Shape(
            max(self.depth, other.depth),
            max(self.introspection_depth, other.introspection_depth),
            max(self.introspection_lists, other.introspection_lists),
        )


_INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})
# The lists that lead from a type back to types: each nesting multiplies the answer.
_INTROSPECTION_LISTS = frozenset({"fields", "inputFields", "interfaces", "possibleTypes"})


class _ShapeWalk:
    """One walk over an operation's selections. A fragment's shape does not depend on
    where it is spread, so each is walked once (per side of introspection), however often
    it is spread: a document cannot make the walk exponential."""

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self._fragments = fragments
        self._shapes: dict[tuple[str, bool], Shape] = {}
        self._entered: set[tuple[str, bool]] = set()

    def operation(self, operation: OperationDefinitionNode) -> Shape:
        return self._selections(operation.selection_set, introspecting=False)

    def _selections(self, selection_set: SelectionSetNode | None, introspecting: bool) -> Shape:
        shape = Shape()
        if selection_set is None:
            return shape
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                shape = shape.deepest(self._field(selection, introspecting))
            elif isinstance(selection, InlineFragmentNode):
                shape = shape.deepest(self._selections(selection.selection_set, introspecting))
            elif isinstance(selection, FragmentSpreadNode):
                shape = shape.deepest(self._fragment(selection.name.value, introspecting))
        return shape

    def _field(self, field: FieldNode, introspecting: bool) -> Shape:
        name = field.name.value
        if introspecting:
            inner = self._selections(field.selection_set, introspecting=True)
            lists = inner.introspection_lists + (name in _INTROSPECTION_LISTS)
            return Shape(0, 1 + inner.introspection_depth, lists)
        if name in _INTROSPECTION_ROOTS:
            inner = self._selections(field.selection_set, introspecting=True)
            return Shape(1, 1 + inner.introspection_depth, inner.introspection_lists)
        inner = self._selections(field.selection_set, introspecting=False)
        return Shape(1 + inner.depth, inner.introspection_depth, inner.introspection_lists)

    def _fragment(self, name: str, introspecting: bool) -> Shape:
        key = (name, introspecting)
        known = self._shapes.get(key)
        if known is not None:
            return known
        fragment = self._fragments.get(name)
        if fragment is None or key in self._entered:
            return Shape()  # unknown or cyclic: validation reports those
        self._entered.add(key)
        shape = self._selections(fragment.selection_set, introspecting)
        self._entered.discard(key)
        self._shapes[key] = shape
        return shape


# -- page sizes, list lengths and the node estimate: need the variables, so at execution --


class CostLimit(SchemaExtension):
    def __init__(self, limits: RequestLimits) -> None:
        self.limits = limits

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            estimate = _Estimate(
                graphql_schema(context.schema),
                document,
                context.variables or {},
                self.limits,
            )
            operation = _operation(document, context.operation_name)
            if operation is not None:
                nodes = estimate.operation(operation)
                if nodes > self.limits.max_nodes:
                    raise limit_error(
                        "MAX_NODES_EXCEEDED",
                        f"The query could return about {nodes} nodes; at most "
                        f"{self.limits.max_nodes}. Ask for smaller pages (`first`).",
                    )
        yield


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


class _Estimate:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any],
        limits: RequestLimits,
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.limits = limits
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def operation(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        return self._selections(operation.selection_set, root, 1) if root else 0

    def _selections(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, multiplier: int
    ) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, multiplier)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total += self._selections(selection.selection_set, inner or parent, multiplier)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    inner = self.schema.get_type(fragment.type_condition.name.value)
                    total += self._selections(fragment.selection_set, inner or parent, multiplier)
        return total

    def _field(self, node: FieldNode, parent: GraphQLNamedType, multiplier: int) -> int:
        fields = getattr(parent, "fields", None)
        definition = fields.get(node.name.value) if fields else None
        if definition is None:  # __typename and introspection cost nothing here
            return 0
        arguments = {a.name.value: a.value for a in node.arguments or ()}
        for name, value in arguments.items():
            argument = definition.args.get(name)
            self._check_lists(name, value, argument.type if argument else None, None)
        cost = 0
        if "first" in definition.args:
            sizes = []
            for name in ("first", "last"):
                size = self._int(arguments.get(name))
                if size is None:
                    continue
                sizes.append(size)
                if size > self.limits.max_first:
                    raise limit_error(
                        "MAX_FIRST_EXCEEDED",
                        f"`{name}` may be at most {self.limits.max_first}, got {size}",
                        node,
                    )
            multiplier *= max(max(sizes, default=self.limits.default_first), 0)
            cost = multiplier
        child = get_named_type(definition.type)
        if isinstance(child, GraphQLObjectType) or hasattr(child, "fields"):
            cost += self._selections(node.selection_set, child, multiplier)
        return cost

    def _value(self, value: ValueNode | None) -> Any:
        if isinstance(value, VariableNode):
            return self.variables.get(value.name.value)
        return value

    def _int(self, value: ValueNode | None) -> int | None:
        resolved = self._value(value)
        if isinstance(resolved, IntValueNode):
            return int(resolved.value)
        if isinstance(resolved, int) and not isinstance(resolved, bool):
            return resolved
        return None

    def _check_lists(
        self, name: str, value: ValueNode | Any, type_: GraphQLInputType | None, owner: str | None
    ) -> None:
        """Refuse any list beyond its bound, in this value and in the values inside it."""
        resolved = self._value(value) if isinstance(value, VariableNode) else value
        inner = get_named_type(type_) if type_ is not None else None
        fields = inner.fields if isinstance(inner, GraphQLInputObjectType) else {}
        if isinstance(resolved, ListValueNode | list):
            items: list[Any] = (
                list(resolved.values) if isinstance(resolved, ListValueNode) else resolved
            )
            bulk = owner is not None and f"{owner}.{name}" in self.limits.bulk_lists
            bound = self.limits.max_bulk_items if bulk else self.limits.max_items
            if len(items) > bound:
                raise limit_error(
                    "MAX_ITEMS_EXCEEDED",
                    f"`{name}` may hold at most {bound} items, got {len(items)}",
                )
            if fields:  # a list of input objects: check the lists inside each one
                for item in items:
                    self._check_object(item, inner, fields)
        elif fields:
            self._check_object(resolved, inner, fields)

    def _check_object(self, value: Any, type_: Any, fields: Mapping[str, Any]) -> None:
        resolved = self._value(value) if isinstance(value, VariableNode) else value
        if isinstance(resolved, ObjectValueNode):
            pairs: list[tuple[str, Any]] = [(f.name.value, f.value) for f in resolved.fields]
        elif isinstance(resolved, dict):
            pairs = list(resolved.items())
        else:
            return
        for key, inner in pairs:
            field = fields.get(key)
            if field is not None:
                self._check_lists(key, inner, field.type, type_.name)
