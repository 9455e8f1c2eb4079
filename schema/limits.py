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

Tokens are counted before parsing and the shape rules run with validation, both once per
document (schema.plans). The limits that need the variables (page sizes, list lengths and
the node estimate) are in schema.cost. The bounds themselves: resolvers.limits.Limits.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import graphql
from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.language import Lexer, Source, TokenKind

from resolvers.limits import Limits


def limit_error(code: str, message: str, node: Any = None) -> GraphQLError:
    return GraphQLError(message, node, extensions={"code": code})


# -- tokens, counted before the parser sees the document ---------------------------------


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


# -- depth and aliases: validation rules, so they run (once per document) with validation --


# graphql-core 3.3 validates with MaxIntrospectionDepthRule, a fixed bound (the same as
# max_introspection_lists' default) whose error has no code. ShapeLimits owns that bound
# here, so the built-in rule, where there is one, is taken out rather than reported twice.
BUILT_IN_INTROSPECTION_RULE = getattr(graphql, "MaxIntrospectionDepthRule", None)


def shape_rules(limits: Limits) -> list[type[ASTValidationRule]]:
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


def _shape_errors(shape: Shape, name: str, limits: Limits) -> Iterator[tuple[str, str]]:
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
