"""What clients see: the GraphQL types and the schema built from them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StreamResult
from strawberry.types.execution import PreExecutionError

from resolvers.limits import Limits
from resolvers.live import LiveContext, shape_errors
from schema import compat, execution, shortcuts
from schema.compat import graphql_schema
from schema.inputs import ApplyTagsInput, apply_tags_input
from schema.mutation import Mutation
from schema.plans import Planning, Plans
from schema.query import Query
from schema.subscription import Subscription
from schema.types import Product, Tag

Extension = type[SchemaExtension] | Callable[[], SchemaExtension]


class CatalogSchema(strawberry.Schema):
    """Strawberry's schema, whose queries take the lean executor (schema.execution)."""

    # Every document's plan (schema.plans), set by build_schema.
    plans: Plans
    limits: Limits

    def __init__(self, *args: Any, hide_suggestions: bool = False, **kwargs: Any) -> None:
        """`hide_suggestions`: whether error messages may suggest names of the schema ("Did
        you mean ...?"): not when the schema is private (introspection off).
        schema.validation covers the documents; the execution context class covers variable
        values. An `execution_context_class` given is used as it is."""
        super().__init__(*args, **kwargs)
        self.hide_suggestions = hide_suggestions
        # Strawberry's own class, as its public attribute holds it when none is given.
        self.default_execution_context_class = self.execution_context_class
        if kwargs.get("execution_context_class") is None:
            self.execution_context_class = execution.executor_class(
                self.execution_context_class, hide_suggestions=hide_suggestions
            )

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Log nothing here for requests: the HTTP layer logs unexpected errors once, with
        the request id. A long-lived connection's results are shaped here (resolvers.live)."""
        context = getattr(execution_context, "context", None)
        if isinstance(context, LiveContext):
            shape_errors(context, errors)

    async def stream(self, *args: Any, **kwargs: Any) -> StreamResult:
        """Strawberry's stream, where a refusal raised while the document is planned (the
        Planning extension: too many tokens, a syntax error, a mutation on a long-lived
        connection) comes as the stream's pre-execution error, as `execute` answers it.
        Strawberry's stream lets it escape instead: the WebSocket would get a bare
        `complete`, the event stream an internal error."""
        results = await super().stream(*args, **kwargs)
        return _refusal_as_result(results, kwargs.get("context_value"))


async def _refusal_as_result(results: StreamResult, context: Any) -> StreamResult:
    started = False
    try:
        async for result in results:
            started = True
            yield result
    except GraphQLError as refusal:
        if started:
            raise
        if isinstance(context, LiveContext):
            shape_errors(context, [refusal])
        yield PreExecutionError(data=None, errors=[refusal])


def build_schema(
    limits: Limits | None = None,
    *,
    introspection: bool = True,
    max_batch: int = 0,
    extra: Iterable[Extension] = (),
) -> CatalogSchema:
    """The catalog schema with its request limits and its plans.

    Limits run before any resolver (so before any SQL): tokens before parsing, depth and
    aliases with validation, both once per document (schema.plans); page sizes, list
    lengths and the node estimate just before execution, when the variables are known.
    """
    limits = limits or Limits()
    hide_suggestions = not introspection
    extensions: list[Extension] = [Planning, *extra]
    config = StrawberryConfig(
        batching_config={"max_operations": max_batch} if max_batch > 0 else None
    )
    schema = CatalogSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Product, Tag],
        extensions=extensions,
        config=config,
        hide_suggestions=hide_suggestions,
    )
    schema.limits = limits
    schema.plans = Plans(graphql_schema(schema), limits, introspection=introspection)
    shortcuts.install(schema)
    compat.build_input_with(ApplyTagsInput, apply_tags_input)
    return schema
