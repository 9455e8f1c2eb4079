"""Document validation: cached, never reported as the server's fault, and able to keep the
schema private.

With introspection off, the schema's names must not leak through "Did you mean ...?"
suggestions either. graphql-core (3.3) takes a public `hide_suggestions` flag in both places
that make them: `validate()` (unknown fields, arguments, types, enum values and input
fields in the document) and `execute()` (the same for variable values). Strawberry passes
neither, so the `Validation` extension validates in its place (as Strawberry's own
ValidationCache extension does) and CatalogSchema passes the flag to its executor.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from functools import lru_cache

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, validate
from strawberry.extensions import SchemaExtension

from schema.compat import graphql_schema, strawberry_validation_rules

CACHE_SIZE = 1024
_STRAWBERRY_RULES = strawberry_validation_rules()


@lru_cache(maxsize=CACHE_SIZE)
def validate_document(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    """graphql-core's validation with Strawberry's extra rules; errors as the client's."""
    errors = validate(
        schema, document, (*rules, *_STRAWBERRY_RULES), hide_suggestions=hide_suggestions
    )
    return [_as_client_error(error) for error in errors]


def _as_client_error(error: GraphQLError) -> GraphQLError:
    """A validation error is always the document's fault, even when a scalar's parser raised
    something other than a GraphQLError (int() of a 5,000-digit Int literal raises
    ValueError); keep the message, drop the exception, so it is not reported as internal.
    """
    if error.original_error is None or isinstance(error.original_error, GraphQLError):
        return error
    return GraphQLError(error.message, error.nodes, extensions=error.extensions)


class Validation(SchemaExtension):
    """Validate each document once (an LRU cache shared by every request)."""

    def __init__(self, *, hide_suggestions: bool) -> None:
        self.hide_suggestions = hide_suggestions

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            rules: Collection[type[ASTValidationRule]] = context.validation_rules
            # Setting the errors (an empty list when valid) tells Strawberry validation ran.
            context.pre_execution_errors = validate_document(
                graphql_schema(context.schema),
                context.graphql_document,
                tuple(rules),
                self.hide_suggestions,
            )
        yield
