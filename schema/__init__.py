"""What clients see: the GraphQL types and the schema built from them."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import strawberry
from strawberry.extensions import SchemaExtension

from schema.mutation import Mutation
from schema.query import Query
from schema.types import Product, Tag

Extension = type[SchemaExtension] | Callable[[], SchemaExtension]


def build_schema(extensions: Iterable[Extension] = ()) -> strawberry.Schema:
    """The catalog schema, with the given extensions (limits, caches) in order."""
    return strawberry.Schema(
        query=Query, mutation=Mutation, types=[Product, Tag], extensions=list(extensions)
    )
