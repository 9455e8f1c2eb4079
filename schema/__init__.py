"""What clients see: the GraphQL types and the schema built from them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import attrgetter
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLObjectType
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.utils.str_converters import to_camel_case

from schema import execution
from schema.limits import CostLimit, RequestLimits, TokenLimit, shape_rules
from schema.mutation import Mutation
from schema.query import Query
from schema.types import Product, Tag

Extension = type[SchemaExtension] | Callable[[], SchemaExtension]


class CatalogSchema(strawberry.Schema):
    def _get_execute_function(self) -> Callable[..., Any]:
        """Queries take the lean executor (schema.execution), which falls back to graphql-core."""
        return execution.execute

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
    rules = shape_rules(limits)
    extensions: list[Extension] = [
        lambda: TokenLimit(limits),
        lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
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
    _plain_attribute_resolvers(schema)
    return schema


def _plain_attribute_resolvers(schema: strawberry.Schema) -> None:
    """Resolve plain data fields with a bare attribute read.

    Strawberry wraps even resolver-less fields in a generic call; a catalog response is
    mostly such fields (ids, names), so reading the attribute directly is a measurable
    share of a nested list query's time. Fields with resolvers, arguments or
    extensions keep Strawberry's wrapper.
    """
    for graphql_type in schema._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        definition = schema.get_type_by_name(graphql_type.name)
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        python_names = {
            f.graphql_name or to_camel_case(f.python_name): f for f in definition.fields
        }
        for name, graphql_field in graphql_type.fields.items():
            field = python_names.get(name)
            if (
                field is not None
                and getattr(graphql_field.resolve, "_is_default", False)
                and field.base_resolver is None
                and not field.extensions
                and not field.permission_classes
            ):
                graphql_field.resolve = _attribute(field.python_name)


def _attribute(python_name: str) -> Callable[..., Any]:
    read = attrgetter(python_name)

    def resolve(source: Any, _info: Any) -> Any:
        return read(source)

    return resolve
