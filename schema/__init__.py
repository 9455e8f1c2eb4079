"""What clients see: the GraphQL types and the schema built from them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    ParserCache,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig

from schema import compat, execution, shortcuts
from schema.inputs import ApplyTagsInput, apply_tags_input
from schema.limits import CostLimit, RequestLimits, ShapeRules, TokenLimit
from schema.mutation import Mutation
from schema.query import Query
from schema.types import Product, Tag
from schema.validation import Validation

Extension = type[SchemaExtension] | Callable[[], SchemaExtension]


class CatalogSchema(strawberry.Schema):
    # Whether error messages may suggest names of the schema ("Did you mean ...?"): not when
    # the schema is private (introspection off). schema.validation covers the documents;
    # the executor covers variable values.
    hide_suggestions = False

    def _get_execute_function(self) -> Callable[..., Any]:
        """Queries take the lean executor (schema.execution), which falls back to graphql-core."""
        return partial(execution.execute, hide_suggestions=self.hide_suggestions)

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Log nothing here: the HTTP layer logs unexpected errors once, with the request id."""


DOCUMENT_CACHE_SIZE = 1024


def build_schema(
    limits: RequestLimits | None = None,
    *,
    introspection: bool = True,
    max_batch: int = 0,
    extra: Iterable[Extension] = (),
) -> CatalogSchema:
    """The catalog schema with its request limits and parse/validation caches.

    Limits run before any resolver (so before any SQL): tokens before parsing, depth and
    aliases with validation, page sizes, list lengths and the node estimate just before
    execution, when the variables are known.
    """
    limits = limits or RequestLimits()
    hide_suggestions = not introspection
    extensions: list[Extension] = [
        lambda: TokenLimit(limits),
        lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
        lambda: ShapeRules(limits),
        lambda: Validation(hide_suggestions=hide_suggestions),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    extensions.append(lambda: CostLimit(limits))
    extensions.extend(extra)
    config = StrawberryConfig(
        batching_config={"max_operations": max_batch} if max_batch > 0 else None
    )
    schema = CatalogSchema(
        query=Query,
        mutation=Mutation,
        types=[Product, Tag],
        extensions=extensions,
        config=config,
    )
    schema.hide_suggestions = hide_suggestions
    shortcuts.install(schema)
    compat.build_input_with(ApplyTagsInput, apply_tags_input)
    return schema
