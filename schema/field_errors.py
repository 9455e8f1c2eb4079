"""Errors on the lean path (schema.breadth_first), worded and placed as graphql-core does."""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    located_error,
)
from graphql.pyutils import Path, inspect


def runtime_type(
    schema: GraphQLSchema, name: Any, abstract: Any, label: str, nodes: list[FieldNode], value: Any
) -> GraphQLObjectType:
    """The object type an abstract type's value resolved to, checked as graphql-core's
    `ensure_valid_runtime_type` checks it, with its messages."""
    if name is None:
        raise GraphQLError(
            f"Abstract type '{abstract}' must resolve to an Object type at runtime"
            f" for field '{label}'. Either the '{abstract}' type should provide"
            " a 'resolve_type' function or each possible type should provide"
            " an 'is_type_of' function.",
            nodes,
        )
    if not isinstance(name, str):
        raise GraphQLError(
            f"Abstract type '{abstract}' must resolve to an Object type at runtime"
            f" for field '{label}' with value {inspect(value)},"
            f" received '{inspect(name)}', which is not a valid Object type name.",
            nodes,
        )
    runtime = schema.get_type(name)
    if runtime is None:
        raise GraphQLError(
            f"Abstract type '{abstract}' was resolved to a type '{name}'"
            " that does not exist inside the schema.",
            nodes,
        )
    if not isinstance(runtime, GraphQLObjectType):
        raise GraphQLError(
            f"Abstract type '{abstract}' was resolved to a non-object type '{name}'.",
            nodes,
        )
    if not schema.is_sub_type(abstract, runtime):
        raise GraphQLError(
            f"Runtime Object type '{runtime}' is not a possible type for '{abstract}'.",
            nodes,
        )
    return runtime


class RaisedErrors:
    """The errors of one lean run, with the positions they null."""

    def __init__(self) -> None:
        # error, the position it nulls (None: the whole response), awaits on the way to it
        self.raised: list[tuple[GraphQLError, Path | None, int]] = []

    def add(
        self, raw: Exception, nodes: list[FieldNode], entry: list[Any], position_type: Any
    ) -> None:
        """Record an error at an entry's position (schema.breadth_first's Entry) that nulls
        the nearest nullable position at or above it, as graphql-core's
        `handle_field_error` does."""
        path = Path(entry[3], entry[2], entry[4])
        error = located_error(raw, nodes, path.as_list())
        anchor = entry[5] if isinstance(position_type, GraphQLNonNull) else path
        self.raised.append((error, anchor, entry[7]))

    def hand_to(self, collected: Any, data: dict[str, Any]) -> None:
        """Hand the errors to the executor's collection in the order graphql-core meets
        them (what needs no awaiting first, then depth-first): an error under a position an
        earlier error nulled is left out, as graphql-core never gets to it (`collected` is the
        executor's `collected_errors`, whose `add` decides that)."""
        for error, anchor, _awaits in sorted(
            self.raised, key=lambda raised: (raised[2], depth_first_position(data, raised[0]))
        ):
            collected.add(error, anchor)

    def null_out(self, data: dict[str, Any]) -> dict[str, Any] | None:
        """Write null at every position an error nulled (None: the whole response)."""
        for _error, anchor, _awaits in self.raised:
            if anchor is None:
                return None
            keys = anchor.as_list()
            node: Any = data
            for key in keys[:-1]:
                node = node[key]
                if node is None:
                    break
            else:
                node[keys[-1]] = None
        return data


def depth_first_position(data: dict[str, Any], error: GraphQLError) -> list[int]:
    """Where an error's path lies in the response, depth-first: each key's index among
    its object's keys (which are in selection order), or the list index."""
    position: list[int] = []
    node: Any = data
    for key in error.path or ():
        if isinstance(node, dict) and isinstance(key, str) and key in node:
            position.append(list(node).index(key))
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            position.append(key)
        else:
            break
        node = node[key]
    return position
