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
from collections.abc import Awaitable, Sequence
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
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
    **options: Any,
) -> ExecutionResult:
    """Run a query on the lean path when it can, otherwise (and on any doubt) graphql-core."""
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
        **options,
    )
    if not isinstance(result, ExecutionResult):
        result = await result
    return result


def _query_operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    chosen: OperationDefinitionNode | None = None
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            return None
        if isinstance(definition, OperationDefinitionNode):
            named = definition.name.value if definition.name else None
            if operation_name is None:
                if chosen is not None:
                    return None  # several operations and no name: let graphql-core say so
                chosen = definition
            elif named == operation_name:
                chosen = definition
    if chosen is None or chosen.operation is not OperationType.QUERY or chosen.directives:
        return None
    return chosen


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
        self.root_value = root_value
        self.context = context
        self.variables = coerced

    async def data(self) -> dict[str, Any]:
        root_type = self.schema.query_type
        if root_type is None:
            raise _Unsupported
        data: dict[str, Any] = {}
        await self._objects(root_type, self.operation.selection_set, [(self.root_value, data)])
        return data

    async def _objects(
        self,
        parent_type: GraphQLObjectType,
        selection_set: SelectionSetNode | None,
        items: list[tuple[Any, dict[str, Any]]],
    ) -> None:
        """Resolve one selection for many objects of one type, field by field."""
        if selection_set is None:
            raise _Unsupported
        for key, node, field in self._fields(parent_type, selection_set):
            if field is None:  # __typename
                for _source, out in items:
                    out[key] = parent_type.name
                continue
            arguments = get_argument_values(field, node, self.variables) if field.args else {}
            info = self._info(node, field, parent_type, key)
            resolve = field.resolve or default_field_resolver
            values = [resolve(source, info, **arguments) for source, _out in items]
            waiting = [i for i, value in enumerate(values) if isawaitable(value)]
            if waiting:
                # Settle every awaitable before looking at any failure: nothing may still be
                # using the request's session when graphql-core takes over.
                done = await asyncio.gather(*(values[i] for i in waiting), return_exceptions=True)
                if any(isinstance(value, BaseException) for value in done):
                    raise _Unsupported
                for i, value in zip(waiting, done, strict=True):
                    values[i] = value
            entries = [
                (value, out, key) for value, (_source, out) in zip(values, items, strict=True)
            ]
            await self._complete(field.type, node, entries)

    async def _complete(
        self, type_: GraphQLOutputType, node: FieldNode, entries: list[Entry]
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
            await self._complete(inner.of_type, node, children)
        elif isinstance(inner, GraphQLObjectType):
            objects: list[tuple[Any, dict[str, Any]]] = []
            for value, container, slot in present:
                result: dict[str, Any] = {}
                container[slot] = result
                objects.append((value, result))
            await self._objects(inner, node.selection_set, objects)
        else:
            raise _Unsupported  # interfaces and unions: graphql-core resolves their types

    def _fields(
        self, parent_type: GraphQLObjectType, selection_set: SelectionSetNode
    ) -> list[tuple[str, FieldNode, GraphQLField | None]]:
        fields: list[tuple[str, FieldNode, GraphQLField | None]] = []
        seen: set[str] = set()
        for selection in selection_set.selections:
            if not isinstance(selection, FieldNode) or selection.directives:
                raise _Unsupported
            key = selection.alias.value if selection.alias else selection.name.value
            if key in seen:
                raise _Unsupported  # merging repeated keys is graphql-core's job
            seen.add(key)
            name = selection.name.value
            if name == "__typename":
                fields.append((key, selection, None))
                continue
            field = parent_type.fields.get(name)
            if field is None:
                raise _Unsupported  # introspection and anything unknown
            fields.append((key, selection, field))
        return fields

    def _info(
        self, node: FieldNode, field: GraphQLField, parent_type: GraphQLObjectType, key: str
    ) -> GraphQLResolveInfo:
        return GraphQLResolveInfo(
            node.name.value,
            [node],
            field.type,
            parent_type,
            Path(None, key, parent_type.name),
            self.schema,
            {},
            self.root_value,
            self.operation,
            self.variables,
            self.context,
            is_awaitable,
            None,
            _HELPERS,
        )
