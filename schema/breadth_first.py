"""One query operation, run breadth-first: the lean path of schema.execution.

graphql-core completes a response depth-first, one field of one object at a time, with
several microseconds of bookkeeping each; a catalog page is hundreds of small fields. This
run takes a level at a time instead: every field of every object of the level is resolved
first, their awaitables are gathered together (so each DataLoader sees the whole level, all
sibling subtrees included, as one batch), then the values are completed into the response,
and the objects they return make the next level.

It answers as graphql-core's `Executor` does, through the executor's own pieces: its
resolver info (`build_resolve_info`, so resolvers see what they see under graphql-core),
its extensions' middleware, its coerced variables, its error collection and response. A
resolver error or a null in a non-null position becomes a located error with the true
path (list indices included) and nulls the nearest nullable position above it, exactly as
graphql-core propagates it; nothing is handed back, so an operation never runs twice.

Differences that do not change answers: fields under a position nulled by an error may
still be resolved (graphql-core stops them when it can), and errors are listed in the
order levels finish rather than depth-first. Resolver info is built only where something
can read it: our attribute resolvers (schema.shortcuts) never do, and no middleware wraps
them when no extension resolves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any, NamedTuple

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    TypeNameMetaFieldDef,
)
from graphql.execution import ExecutionResult, Executor
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined, inspect, is_iterable

from schema.field_errors import RaisedErrors, runtime_type
from schema.shapes import OperationShape

# Argument values that no resolver can change in place: kept across requests.
_IMMUTABLE = (str, int, float, bool, Enum, type(None))

_FAILED = object()  # a position whose error is recorded; its slot stays None

# A value to complete: [value, container, slot, parent path, typename of the slot's path
# segment, nearest nullable position above the slot (None: the whole response), info,
# awaits on the way to it]. graphql-core completes what it can without awaiting first, so
# errors are ordered by awaits, then depth-first.
Entry = list[Any]


class _Field(NamedTuple):
    """The field being completed, for error messages and locations."""

    nodes: list[FieldNode]
    label: str  # "Parent.field", as graphql-core names it in its messages


class _Batch(NamedTuple):
    """Objects of one runtime type whose selection (`nodes`) is resolved together."""

    parent_type: GraphQLObjectType
    nodes: list[Any]
    # source, out, its path, nearest nullable position, awaits on the way to it
    items: list[tuple[Any, dict[str, Any], Path | None, Path | None, int]]


class BreadthFirst:
    def __init__(self, executor: Executor, shape: OperationShape) -> None:
        self.executor = executor
        self.shape = shape
        manager = executor.middleware_manager
        self.middleware = manager if manager is not None and manager.middlewares else None
        self.is_awaitable = executor.is_awaitable
        self.errors = RaisedErrors()

    async def run(self) -> ExecutionResult:
        root_type = self.executor.schema.query_type
        assert root_type is not None  # the operation was validated against the schema
        data: dict[str, Any] = {}
        frontier = [
            _Batch(root_type, self.shape.root, [(self.executor.root_value, data, None, None, 0)])
        ]
        while frontier:
            resolved = [self._resolve(batch) for batch in frontier]
            await self._settle(
                [entry for entries in resolved for _f, _t, group in entries for entry in group]
            )
            frontier = []
            for fields in resolved:
                for field, return_type, entries in fields:
                    await self._complete(return_type, field, entries, frontier)
        self.errors.hand_to(self.executor.collected_errors, data)
        result = self.executor.build_response(self.errors.null_out(data))
        assert isinstance(result, ExecutionResult)
        return result

    def _resolve(self, batch: _Batch) -> list[tuple[_Field, GraphQLOutputType, list[Entry]]]:
        """Call every field's resolver for every object of the batch (no awaiting)."""
        parent_type, nodes, items = batch
        typename = parent_type.name
        executor = self.executor
        selected = self.shape.fields(parent_type, nodes)
        keys = dict.fromkeys(selected_field.key for selected_field in selected)
        for _source, out, _path, _anchor, _awaits in items:  # keys in selection order
            out.update(keys)
        middleware = self.middleware
        fields: list[tuple[_Field, GraphQLOutputType, list[Entry]]] = []
        for key, field_nodes, field_def, reads_info, leaf, constant in selected:
            if field_def is TypeNameMetaFieldDef and middleware is None:
                for _source, out, _path, _anchor, _awaits in items:
                    out[key] = typename
                continue
            pending = items
            if leaf is not None and middleware is None:
                pending = self._read_leaves(leaf, key, items)
                if not pending:
                    continue
            resolve = field_def.resolve or executor.field_resolver
            if middleware is not None:
                resolve = middleware.get_field_resolver(resolve)
                reads_info = True
            field = _Field(field_nodes, f"{typename}.{field_nodes[0].name.value}")
            entries: list[Entry] = []
            try:
                arguments = self._arguments(field_def, field_nodes[0], constant)
            except Exception as error:
                for _source, out, path, anchor, awaits in pending:
                    entry = [_FAILED, out, key, path, typename, anchor, None, awaits]
                    self._fail(error, field, entry, field_def.type)
                continue
            for source, out, path, anchor, awaits in pending:
                info = (
                    executor.build_resolve_info(
                        field_def, field_nodes, parent_type, Path(path, key, typename)
                    )
                    if reads_info
                    else None
                )
                entry = [None, out, key, path, typename, anchor, info, awaits]
                try:
                    entry[0] = (
                        resolve(source, info, **arguments) if arguments else resolve(source, info)
                    )
                except Exception as error:
                    self._fail(error, field, entry, field_def.type)
                entries.append(entry)
            fields.append((field, field_def.type, entries))
        return fields

    @staticmethod
    def _read_leaves(
        leaf: tuple[Callable[[Any], Any], type], key: str, items: list[Any]
    ) -> list[Any]:
        """Write a plain leaf's values that its scalar serializes unchanged straight into
        the response (what resolving and completing them would write); the items whose
        value is anything else (None, another type, an error) come back for the full path."""
        read, exact = leaf
        rest: list[Any] = []
        for item in items:
            try:
                value = read(item[0])
            except Exception:
                rest.append(item)  # the full path reads it again and reports the error
                continue
            if type(value) is exact:
                item[1][key] = value
            else:
                rest.append(item)
        return rest

    def _arguments(
        self, field_def: GraphQLField, node: FieldNode, constant: bool
    ) -> dict[str, Any]:
        """The field's coerced argument values; those that name no variable are coerced
        once per document, and kept when every value is immutable (a resolver could
        change a list or an input object in place)."""
        if not field_def.args and not node.arguments:
            return {}
        kept = self.shape.arguments
        key = (id(node), id(field_def))
        if constant and key in kept:
            return kept[key]
        executor = self.executor
        values = get_argument_values(
            field_def, node, executor.variable_values, None, executor.hide_suggestions
        )
        if constant and all(isinstance(value, _IMMUTABLE) for value in values.values()):
            kept[key] = values
        return values

    async def _settle(self, entries: Sequence[Entry]) -> list[Entry]:
        """Await every awaitable value in place, all at once; the entries whose awaitable
        failed come back (their errors are not recorded yet)."""
        is_awaitable = self.is_awaitable
        waiting = [entry for entry in entries if is_awaitable(entry[0])]
        if not waiting:
            return []
        for entry in waiting:
            entry[7] += 1
        if len(waiting) == 1:  # no task for a lone awaitable, as graphql-core does
            entry = waiting[0]
            try:
                entry[0] = await entry[0]
            except Exception as error:
                entry[0] = error
                return [entry]
            return []
        done = await asyncio.gather(*(entry[0] for entry in waiting), return_exceptions=True)
        failed: list[Entry] = []
        for entry, value in zip(waiting, done, strict=True):
            if isinstance(value, BaseException) and not isinstance(value, Exception):
                raise value
            entry[0] = value
            if isinstance(value, Exception):
                failed.append(entry)
        return failed

    async def _complete(
        self,
        return_type: GraphQLOutputType,
        field: _Field,
        entries: list[Entry],
        frontier: list[_Batch],
    ) -> None:
        """Complete many values of one type, writing each into its slot; the objects among
        them join `frontier`, the next level."""
        non_null = isinstance(return_type, GraphQLNonNull)
        inner = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
        # Leaves are completed in this one pass; lists and objects below.
        coerce = (
            inner.coerce_output_value
            if isinstance(inner, GraphQLScalarType | GraphQLEnumType)
            else None
        )
        present: list[Entry] = []
        for entry in entries:
            value = entry[0]
            if value is None or value is _FAILED or value is Undefined:
                if non_null and value is not _FAILED:
                    message = f"Cannot return null for non-nullable field {field.label}."
                    self._fail(TypeError(message), field, entry, return_type)
            elif isinstance(value, Exception):
                self._fail(value, field, entry, return_type)
            elif coerce is None:
                present.append(entry)
            else:
                try:
                    coerced = coerce(value)
                    if coerced is Undefined or coerced is None:
                        raise TypeError(
                            f"Expected `{inspect(inner)}.coerce_output_value("
                            f"{inspect(value)})` to return non-nullable value, returned:"
                            f" {inspect(coerced)}"
                        )
                except Exception as error:
                    self._fail(error, field, entry, return_type)
                    continue
                entry[1][entry[2]] = coerced
        if not present:
            return
        if isinstance(inner, GraphQLList):
            await self._complete_lists(inner, return_type, field, present, frontier)
        else:
            await self._complete_objects(inner, return_type, field, present, frontier)

    async def _complete_lists(
        self,
        list_type: GraphQLList[Any],
        return_type: GraphQLOutputType,
        field: _Field,
        entries: list[Entry],
        frontier: list[_Batch],
    ) -> None:
        item_type = list_type.of_type
        children: list[Entry] = []
        for entry in entries:
            value = entry[0]
            try:
                if self.executor.is_async_iterable(value):
                    value = [item async for item in value]
                elif not is_iterable(value):
                    raise GraphQLError(
                        f"Expected Iterable, but did not find one for field '{field.label}'."
                    )
                elif not isinstance(value, list):
                    value = list(value)
            except Exception as error:
                self._fail(error, field, entry, return_type)
                continue
            path = Path(entry[3], entry[2], entry[4])
            anchor = entry[5] if isinstance(return_type, GraphQLNonNull) else path
            out: list[Any] = [None] * len(value)
            entry[1][entry[2]] = out
            info, awaits = entry[6], entry[7]
            children.extend(
                [item, out, i, path, None, anchor, info, awaits] for i, item in enumerate(value)
            )
        for entry in await self._settle(children):
            self._fail(entry[0], field, entry, item_type)
            entry[0] = _FAILED
        await self._complete(item_type, field, children, frontier)

    async def _complete_objects(
        self,
        inner: Any,
        return_type: GraphQLOutputType,
        field: _Field,
        entries: list[Entry],
        frontier: list[_Batch],
    ) -> None:
        groups: dict[str, _Batch] = {}
        for entry in entries:
            value, info = entry[0], entry[6]
            try:
                runtime = inner
                if not isinstance(inner, GraphQLObjectType):
                    resolve_type = inner.resolve_type or self.executor.type_resolver
                    name = resolve_type(value, info, inner)
                    if self.is_awaitable(name):
                        name = await name
                    runtime = runtime_type(
                        self.executor.schema, name, inner, field.label, field.nodes, value
                    )
                if runtime.is_type_of:
                    matches = runtime.is_type_of(value, info)
                    if self.is_awaitable(matches):
                        matches = await matches
                    if not matches:
                        raise GraphQLError(
                            f"Expected value of type '{runtime}' but got: {inspect(value)}.",
                            field.nodes,
                        )
            except Exception as error:
                self._fail(error, field, entry, return_type)
                continue
            path = Path(entry[3], entry[2], entry[4])
            out: dict[str, Any] = {}
            entry[1][entry[2]] = out
            anchor = entry[5] if isinstance(return_type, GraphQLNonNull) else path
            batch = groups.get(runtime.name)
            if batch is None:
                batch = groups[runtime.name] = _Batch(runtime, field.nodes, [])
            batch.items.append((value, out, path, anchor, entry[7]))
        frontier.extend(groups.values())

    def _fail(
        self, raw: Exception, field: _Field, entry: Entry, position_type: GraphQLOutputType
    ) -> None:
        self.errors.add(raw, field.nodes, entry, position_type)
        entry[0] = _FAILED
