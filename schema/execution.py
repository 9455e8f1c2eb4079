"""A lean executor for read queries, with graphql-core as the reference and the fallback.

graphql-core spends several microseconds of bookkeeping on every field it completes, and a
catalog page is hundreds of small fields (50 products x 5 tags x {id, name} is 700), so that
bookkeeping, not SQL, is most of a nested read. This executor runs query operations
breadth-first instead: each field is resolved for every object of a level at once, their
awaitables are gathered together (so each DataLoader still sees the whole level as one
batch), and plain values are written straight into the response.

It covers the common shape: fields, aliases, arguments and variables, `__typename`, lists,
objects, scalars and enums. Anything else (fragments, directives, interfaces, a null in a
non-null position, any exception) hands the whole operation to graphql-core, whose result
is the answer, errors included. Queries are read-only and the request's loaders keep what
they loaded, so falling back costs little. tests/api/test_fast_execution.py checks that both
executors give the same responses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine, Iterable, Sequence
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    default_field_resolver,
)
from graphql import execute as reference_execute
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.pyutils import Path, is_awaitable
from graphql.type.definition import GraphQLResolveInfoHelpers
from strawberry.execution.is_awaitable import optimized_is_awaitable as isawaitable


class _Unsupported(Exception):
    """This operation is not for the lean path; graphql-core will run it."""


# (value, container, slot): a value to complete and where its result goes.
Entry = tuple[Any, Any, Any]


async def execute(
    schema: GraphQLSchema,
    document: DocumentNode,
    root_value: Any = None,
    context_value: Any = None,
    variable_values: dict[str, Any] | None = None,
    operation_name: str | None = None,
    hide_suggestions: bool = False,
    **options: Any,
) -> ExecutionResult:
    """Run a query on the lean path when it can, otherwise (and on any doubt) graphql-core.

    Only graphql-core reports errors (the lean path hands every doubt to it), so
    `hide_suggestions` needs to reach graphql-core alone.
    """
    operation = _query_operation(document, operation_name)
    if operation is not None:
        try:
            run = _Run(schema, document, operation, root_value, context_value, variable_values)
            return ExecutionResult(data=await run.data(), errors=None)
        except Exception:
            pass
    result = reference_execute(
        schema,
        document,
        root_value=root_value,
        context_value=context_value,
        variable_values=variable_values,
        operation_name=operation_name,
        hide_suggestions=hide_suggestions,
        **options,
    )
    if not isinstance(result, ExecutionResult):
        result = await result
    return result


def _query_operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    """The query operation to run, when the lean path can run all of it."""
    chosen: OperationDefinitionNode | None = None
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            named = definition.name.value if definition.name else None
            if operation_name is None:
                if chosen is not None:
                    return None  # several operations and no name: let graphql-core say so
                chosen = definition
            elif named == operation_name:
                chosen = definition
    if chosen is None or chosen.operation is not OperationType.QUERY:
        return None
    return chosen if _plain(document) else None


def _plain(document: DocumentNode) -> bool:
    """No directives and no introspection anywhere: decided before anything runs."""
    pending: list[Any] = list(document.definitions)
    while pending:
        node = pending.pop()
        if getattr(node, "directives", None):
            return False
        if isinstance(node, FieldNode) and node.name.value in ("__schema", "__type"):
            return False
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            pending.extend(selection_set.selections)
    return True


async def _gather_helper(awaitables: Sequence[Awaitable[Any]]) -> list[Any]:
    return list(await asyncio.gather(*awaitables))


_HELPERS = GraphQLResolveInfoHelpers(gather=_gather_helper, track=lambda _values: None)


class _Run:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        root_value: Any,
        context: Any,
        variables: dict[str, Any] | None,
    ) -> None:
        coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
        if isinstance(coerced, list):
            raise _Unsupported  # graphql-core reports the variable errors
        self.schema = schema
        self.operation = operation
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.root_value = root_value
        self.context = context
        self.variables = coerced

    async def data(self) -> dict[str, Any]:
        root_type = self.schema.query_type
        if root_type is None:
            raise _Unsupported
        data: dict[str, Any] = {}
        await self._objects(root_type, [self.operation.selection_set], [(self.root_value, data)])
        return data

    async def _objects(
        self,
        parent_type: GraphQLObjectType,
        selection_sets: list[SelectionSetNode],
        items: list[tuple[Any, dict[str, Any]]],
    ) -> None:
        """Resolve one selection for many objects of one type.

        All fields of all objects are resolved first and their awaitables gathered at once,
        as graphql-core does for siblings, so loaders batch across fields too; then each
        field's values are completed, the fields side by side.
        """
        fields = self._fields(parent_type, selection_sets)
        for _source, out in items:  # keys in selection order, whatever finishes first
            for key, _node, _field in fields:
                out[key] = None
        resolved: list[tuple[str, list[FieldNode], GraphQLField, list[Any]]] = []
        waiting: list[tuple[list[Any], int]] = []
        failed = False
        try:
            for key, nodes, field in fields:
                if field is None:  # __typename
                    for _source, out in items:
                        out[key] = parent_type.name
                    continue
                node = nodes[0]  # validation made repeated keys ask the same thing
                arguments = get_argument_values(field, node, self.variables) if field.args else {}
                info = self._info(nodes, field, parent_type, key)
                resolve = field.resolve or default_field_resolver
                values = [resolve(source, info, **arguments) for source, _out in items]
                waiting.extend((values, i) for i, value in enumerate(values) if isawaitable(value))
                resolved.append((key, nodes, field, values))
        except Exception:
            failed = True
        await self._settle(waiting)
        if failed:
            raise _Unsupported
        await self._all(
            self._complete(
                field.type,
                nodes,
                [(value, out, key) for value, (_source, out) in zip(values, items, strict=True)],
            )
            for key, nodes, field, values in resolved
        )

    async def _settle(self, waiting: list[tuple[list[Any], int]]) -> None:
        """Await every pending value in place. All settle before any failure counts: nothing
        may still be using the request's session when graphql-core takes over."""
        if not waiting:
            return
        done = await asyncio.gather(*(values[i] for values, i in waiting), return_exceptions=True)
        if any(isinstance(value, BaseException) for value in done):
            raise _Unsupported
        for (values, i), value in zip(waiting, done, strict=True):
            values[i] = value

    async def _all(self, completions: Iterable[Coroutine[Any, Any, None]]) -> None:
        outcomes = await asyncio.gather(*completions, return_exceptions=True)
        if any(isinstance(outcome, BaseException) for outcome in outcomes):
            raise _Unsupported

    async def _complete(
        self, type_: GraphQLOutputType, nodes: list[FieldNode], entries: list[Entry]
    ) -> None:
        """Complete many values of one type at once, writing each into its slot."""
        non_null = isinstance(type_, GraphQLNonNull)
        inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        present: list[Entry] = []
        for value, container, slot in entries:
            if value is None:
                if non_null:
                    raise _Unsupported  # graphql-core reports the null and propagates it
                container[slot] = None
            else:
                present.append((value, container, slot))
        if not present:
            return
        if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
            serialize = inner.serialize
            for value, container, slot in present:
                serialized = serialize(value)
                if serialized is None:
                    raise _Unsupported
                container[slot] = serialized
        elif isinstance(inner, GraphQLList):
            children: list[Entry] = []
            for value, container, slot in present:
                if isinstance(value, str | bytes | dict):
                    raise _Unsupported
                sequence = list(value)
                out: list[Any] = [None] * len(sequence)
                container[slot] = out
                children.extend((item, out, i) for i, item in enumerate(sequence))
            if any(isawaitable(item) for item, _out, _i in children):
                raise _Unsupported
            await self._complete(inner.of_type, nodes, children)
        elif isinstance(inner, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
            groups: dict[str, tuple[GraphQLObjectType, list[tuple[Any, dict[str, Any]]]]] = {}
            for value, container, slot in present:
                runtime = self._runtime_type(inner, value, nodes)
                result: dict[str, Any] = {}
                container[slot] = result
                groups.setdefault(runtime.name, (runtime, []))[1].append((value, result))
            selection_sets = [n.selection_set for n in nodes if n.selection_set is not None]
            await self._all(
                self._objects(runtime, selection_sets, objects)
                for runtime, objects in groups.values()
            )
        else:
            raise _Unsupported

    def _runtime_type(
        self,
        type_: GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType,
        value: Any,
        nodes: list[FieldNode],
    ) -> GraphQLObjectType:
        if isinstance(type_, GraphQLObjectType):
            return type_
        if type_.resolve_type is None:
            raise _Unsupported
        info = self._info(nodes, None, None, nodes[0].name.value)
        name = type_.resolve_type(value, info, type_)
        runtime = self.schema.get_type(name) if isinstance(name, str) else None
        if not isinstance(runtime, GraphQLObjectType) or not self.schema.is_sub_type(
            type_, runtime
        ):
            raise _Unsupported  # awaitable or wrong: graphql-core reports it
        return runtime

    def _fields(
        self, runtime_type: GraphQLObjectType, selection_sets: list[SelectionSetNode]
    ) -> list[tuple[str, list[FieldNode], GraphQLField | None]]:
        """The fields to resolve on an object of `runtime_type`, grouped by response key,
        in order, through inline fragments and fragment spreads that apply to it."""
        grouped: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()

        def applies(condition: NamedTypeNode | None) -> bool:
            if condition is None or condition.name.value == runtime_type.name:
                return True
            abstract = self.schema.get_type(condition.name.value)
            return isinstance(
                abstract, GraphQLInterfaceType | GraphQLUnionType
            ) and self.schema.is_sub_type(abstract, runtime_type)

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
                    if fragment is None:
                        raise _Unsupported
                    if name not in visited and applies(fragment.type_condition):
                        visited.add(name)
                        visit(fragment.selection_set)

        for selection_set in selection_sets:
            visit(selection_set)
        fields: list[tuple[str, list[FieldNode], GraphQLField | None]] = []
        for key, nodes in grouped.items():
            name = nodes[0].name.value
            if name == "__typename":
                fields.append((key, nodes, None))
                continue
            field = runtime_type.fields.get(name)
            if field is None:
                raise _Unsupported
            fields.append((key, nodes, field))
        return fields

    def _info(
        self,
        nodes: list[FieldNode],
        field: GraphQLField | None,
        parent_type: GraphQLObjectType | None,
        key: str,
    ) -> GraphQLResolveInfo:
        return GraphQLResolveInfo(
            nodes[0].name.value,
            nodes,
            field.type if field else None,  # type: ignore[arg-type]
            parent_type,  # type: ignore[arg-type]
            Path(None, key, parent_type.name if parent_type else None),
            self.schema,
            self.fragments,
            self.root_value,
            self.operation,
            self.variables,
            self.context,
            is_awaitable,
            None,
            _HELPERS,
        )
