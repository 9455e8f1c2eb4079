"""The limits that need the variables: page sizes, list lengths and the node estimate.

A list may hold `max_items` items, except the bulk lists named in `bulk_lists`
(applyTags' items), which may hold `max_bulk_items`; lists inside list items are checked
too (each applyTags item's tags).

The node estimate follows the GitHub API: every connection field costs the product of the
`first` (or `last`) arguments along its path, and a request may cost at most `max_nodes`
in sum. `last` has the same limit as `first`. This is the one check of `first`'s maximum:
it runs for the whole request before any resolver (resolvers only default it).

The same walk gives what the rate limit charges for (schema.points): the node estimate,
the items of the bulk lists, and whether the operation asks for nothing but the budget
(`rateLimit`, free).

A document whose verdict reads no variable is judged once, when it is planned
(`Cost.static`); others are judged per request, with their variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
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
    get_nullable_type,
)

from resolvers.limits import Limits
from schema.limits import limit_error


@dataclass(frozen=True, slots=True)
class Verdict:
    """The cost check's answer: the refusal, if any, and whether the variables mattered."""

    error: GraphQLError | None
    read_variables: bool
    nodes: int = 0  # the node estimate (0 when refused before it was summed)
    bulk_items: int = 0  # items in the bulk lists (applyTags' items)
    # Root fields that read the caller's budget (`rateLimit`): such an answer is never cached.
    reads_budget: bool = False
    # Nothing but the budget (and __typename) is asked for: the operation costs no points.
    free: bool = False


def judge(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any],
    limits: Limits,
) -> Verdict:
    """Check page sizes, list lengths and the node estimate of one operation."""
    estimate = _Estimate(schema, document, variables, limits)
    try:
        nodes = estimate.operation(operation)
    except GraphQLError as refused:
        return Verdict(refused, estimate.read_variables)
    if nodes > limits.max_nodes:
        error = limit_error(
            "MAX_NODES_EXCEEDED",
            f"The query could return about {nodes} nodes; at most "
            f"{limits.max_nodes}. Ask for smaller pages (`first`).",
        )
        return Verdict(error, estimate.read_variables)
    roots = _root_fields(operation)
    return Verdict(
        None,
        estimate.read_variables,
        nodes=nodes,
        bulk_items=estimate.bulk_items,
        reads_budget=roots is None or BUDGET_FIELD in roots,
        free=roots is not None and roots <= {BUDGET_FIELD, "__typename"},
    )


# The query field that tells the caller its budget (schema.query); asking for it is free.
BUDGET_FIELD = "rateLimit"


def _root_fields(operation: OperationDefinitionNode) -> set[str] | None:
    """The names of the operation's root fields; None when a fragment hides some."""
    names = set()
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode):
            return None
        names.add(selection.name.value)
    return names


class _Estimate:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any],
        limits: Limits,
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.limits = limits
        self.read_variables = False
        self.bulk_items = 0
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
            self.read_variables = True
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
        inner = get_named_type(type_) if type_ is not None else None
        if type_ is not None and not _may_hold_lists(type_, inner):
            return  # a scalar or enum argument: its variable need not be read
        resolved = self._value(value) if isinstance(value, VariableNode) else value
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
            if bulk:
                self.bulk_items += len(items)
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


def _may_hold_lists(type_: GraphQLInputType, named: GraphQLNamedType | None) -> bool:
    """Whether a value of this type can be or hold a list (a list, or an input object).

    Only such arguments are checked for lengths: a variable given for any other (an id,
    a name) does not change the verdict, which then stays the plan's for every request.
    """
    return isinstance(get_nullable_type(type_), GraphQLList) or isinstance(
        named, GraphQLInputObjectType
    )
