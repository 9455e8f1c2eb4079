"""What the lean executor knows about an operation before it runs: decided once per document.

Whether the breadth-first path (schema.breadth_first) may run an operation depends on its
shape alone (no directives, no introspection, no fragment arguments), so it is decided
before any resolver runs and kept with the parsed operation. The fields each selection
collects on each object type are fixed for the same reasons, so they are collected once
too, on first use, and every later request of the document reuses them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, NamedTuple

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLField,
    GraphQLID,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    GraphQLUnionType,
    InlineFragmentNode,
    ListValueNode,
    NamedTypeNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
)

from schema import shortcuts

SHAPES_KEPT = 1024  # operations whose shape is kept, as many as the parser cache's documents


class Selected(NamedTuple):
    """One response key of a selection on an object type."""

    key: str
    nodes: list[FieldNode]
    field: GraphQLField
    reads_info: bool  # whether the resolver, or the completion of its value, reads info
    # A plain leaf: the attribute its resolver reads (schema.shortcuts), and the Python
    # type whose values its scalar serializes unchanged (str for String and ID, bool for
    # Boolean). The lean executor writes such values straight into the response.
    leaf: tuple[Callable[[Any], Any], type] | None = None
    # Whether its arguments name no variable: their values are then the same in every
    # request of the document, and are coerced once (OperationShape.arguments).
    constant_arguments: bool = False


class OperationShape:
    def __init__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.fragments = fragments
        self.root: list[Any] = [operation]
        self.refusal = _refusal(operation, fragments)
        self._fields: dict[tuple[str, int], tuple[list[Any], list[Selected]]] = {}
        # Coerced argument values of fields whose arguments are constant, by the ids of
        # the field node (kept alive by the operation) and of its definition.
        self.arguments: dict[tuple[int, int], dict[str, Any]] = {}

    def fields(self, runtime_type: GraphQLObjectType, nodes: list[Any]) -> list[Selected]:
        """The fields `nodes`' selections ask of an object of `runtime_type`, by response
        key in order, through the fragments that apply to it (graphql-core's collection)."""
        cache_key = (runtime_type.name, id(nodes))  # `nodes` is kept alive with the entry
        cached = self._fields.get(cache_key)
        if cached is None:
            cached = self._fields[cache_key] = (nodes, self._collect(runtime_type, nodes))
        return cached[1]

    def _collect(self, runtime_type: GraphQLObjectType, nodes: list[Any]) -> list[Selected]:
        grouped: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        schema = self.schema

        def applies(condition: NamedTypeNode | None) -> bool:
            if condition is None or condition.name.value == runtime_type.name:
                return True
            abstract = schema.get_type(condition.name.value)
            return isinstance(
                abstract, GraphQLInterfaceType | GraphQLUnionType
            ) and schema.is_sub_type(abstract, runtime_type)

        def visit(selection_set: SelectionSetNode) -> None:
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    grouped.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    if applies(selection.type_condition):
                        visit(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if fragment is not None and name not in visited:
                        visited.add(name)
                        if applies(fragment.type_condition):
                            visit(fragment.selection_set)

        for node in nodes:
            if node.selection_set is not None:
                visit(node.selection_set)
        selected: list[Selected] = []
        for key, field_nodes in grouped.items():
            field = schema.get_field(runtime_type, field_nodes[0].name.value)
            if field is None:  # graphql-core leaves such a key out; validation rejects it
                continue
            named = get_named_type(field.type)
            reads_info = (
                not shortcuts.ignores_info(field.resolve)
                or isinstance(named, GraphQLInterfaceType | GraphQLUnionType)
                or (isinstance(named, GraphQLObjectType) and named.is_type_of is not None)
            )
            arguments = field_nodes[0].arguments or ()
            constant = not any(_names_variable(argument.value) for argument in arguments)
            selected.append(Selected(key, field_nodes, field, reads_info, _leaf(field), constant))
        return selected


def _names_variable(value: ValueNode) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(_names_variable(item) for item in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_names_variable(item.value) for item in value.fields)
    return False


def _leaf(field: GraphQLField) -> tuple[Callable[[Any], Any], type] | None:
    read = shortcuts.attribute_read(field.resolve)
    if read is None:
        return None
    scalar = get_nullable_type(field.type)
    if scalar is GraphQLString or scalar is GraphQLID:
        return read, str
    if scalar is GraphQLBoolean:
        return read, bool
    return None


def _refusal(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> str | None:
    """Why the lean path may not run the operation (None: it may), from its shape alone."""
    pending: list[Any] = [operation]
    seen: set[str] = set()
    while pending:
        node = pending.pop()
        if getattr(node, "directives", None):
            return "directives"
        if isinstance(node, FieldNode) and node.name.value in ("__schema", "__type"):
            return "introspection"
        if isinstance(node, FragmentSpreadNode):
            if getattr(node, "arguments", None):
                return "fragment_arguments"
            name = node.name.value
            if name not in seen:
                seen.add(name)
                fragment = fragments.get(name)
                if fragment is None:
                    return "unknown_fragment"
                if fragment.variable_definitions:
                    return "fragment_arguments"
                pending.append(fragment)
        for variable in getattr(node, "variable_definitions", None) or ():
            if variable.directives:
                return "directives"
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            pending.extend(selection_set.selections)
    return None


_shapes: OrderedDict[int, tuple[OperationDefinitionNode, OperationShape]] = OrderedDict()


def shape_of(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> OperationShape:
    """The operation's shape, decided on its first run and kept while its document is among
    the last SHAPES_KEPT (parsed documents are cached, so a repeated one is the same node)."""
    key = id(operation)
    kept = _shapes.get(key)
    if kept is not None and kept[0] is operation and kept[1].schema is schema:
        _shapes.move_to_end(key)
        return kept[1]
    shape = OperationShape(schema, operation, fragments)
    _shapes[key] = (operation, shape)
    if len(_shapes) > SHAPES_KEPT:
        _shapes.popitem(last=False)
    return shape
