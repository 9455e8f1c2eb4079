"""Hard limits on what one GraphQL request may cost, enforced before any resolver runs.

Each refusal is a GraphQL error whose `extensions.code` names the limit:
MAX_TOKENS_EXCEEDED, MAX_DEPTH_EXCEEDED, MAX_ALIASES_EXCEEDED, MAX_FIRST_EXCEEDED,
MAX_ITEMS_EXCEEDED and MAX_NODES_EXCEEDED.

The node estimate follows the GitHub API: every connection field costs the product of the
`first` arguments along its path, and a request may cost at most `max_nodes` in sum.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
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


@dataclass(frozen=True, slots=True)
class RequestLimits:
    max_tokens: int = 5000
    max_depth: int = 10
    max_aliases: int = 30
    max_first: int = 100
    default_first: int = 20
    max_items: int = 100
    max_nodes: int = 50_000


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
            for definition in node.definitions:
                if isinstance(definition, OperationDefinitionNode):
                    depth = _depth(definition.selection_set, fragments, set())
                    if depth > limits.max_depth:
                        name = definition.name.value if definition.name else "anonymous"
                        context.report_error(
                            limit_error(
                                "MAX_DEPTH_EXCEEDED",
                                f"Operation {name!r} is {depth} levels deep; "
                                f"at most {limits.max_depth}",
                                definition,
                            )
                        )

    return [ShapeLimits]


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


def _depth(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    seen: set[str],
) -> int:
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            deepest = max(deepest, 1 + _depth(selection.selection_set, fragments, seen))
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, fragments, seen))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                inner = _depth(fragment.selection_set, fragments, seen | {name})
                deepest = max(deepest, inner)
    return deepest


# -- page sizes, list lengths and the node estimate: need the variables, so at execution --


class CostLimit(SchemaExtension):
    def __init__(self, limits: RequestLimits) -> None:
        self.limits = limits

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            estimate = _Estimate(
                context.schema._schema,
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
            self._check_lists(name, value)
        cost = 0
        if "first" in definition.args:
            first = self._int(arguments.get("first"))
            if first is None:
                first = self.limits.default_first
            if first > self.limits.max_first:
                raise limit_error(
                    "MAX_FIRST_EXCEEDED",
                    f"`first` may be at most {self.limits.max_first}, got {first}",
                    node,
                )
            multiplier *= max(first, 0)
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

    def _check_lists(self, name: str, value: ValueNode | Any) -> None:
        resolved = self._value(value) if isinstance(value, VariableNode) else value
        if isinstance(resolved, ListValueNode):
            items: list[Any] = list(resolved.values)
        elif isinstance(resolved, list):
            items = resolved
        elif isinstance(resolved, ObjectValueNode):
            for field in resolved.fields:
                self._check_lists(field.name.value, field.value)
            return
        elif isinstance(resolved, dict):
            for key, inner in resolved.items():
                self._check_lists(key, inner)
            return
        else:
            return
        if len(items) > self.limits.max_items:
            raise limit_error(
                "MAX_ITEMS_EXCEEDED",
                f"`{name}` may hold at most {self.limits.max_items} items, got {len(items)}",
            )
