"""Document validation: never reported as the server's fault, and able to keep the schema
private.

With introspection off, the schema's names must not leak through "Did you mean ...?"
suggestions either. graphql-core (3.3) takes a public `hide_suggestions` flag in both places
that make them: `validate()` (unknown fields, arguments, types, enum values and input
fields in the document) and `execute()` (the same for variable values). Strawberry passes
neither, so validation runs here, once per document (schema.plans), in Strawberry's place,
and CatalogSchema passes the flag to its executor.
"""

from __future__ import annotations

from collections.abc import Sequence

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    NoSchemaIntrospectionCustomRule,
    specified_rules,
    validate,
)

from resolvers.limits import Limits
from schema.compat import strawberry_validation_rules
from schema.limits import BUILT_IN_INTROSPECTION_RULE, shape_rules

_STRAWBERRY_RULES = strawberry_validation_rules()


def validation_rules(limits: Limits, *, introspection: bool) -> tuple[type[ASTValidationRule], ...]:
    """graphql-core's rules, with the shape limits in place of its fixed introspection bound,
    and the rule that refuses introspection when it is off."""
    kept = tuple(rule for rule in specified_rules if rule is not BUILT_IN_INTROSPECTION_RULE)
    closed = () if introspection else (NoSchemaIntrospectionCustomRule,)
    return (*kept, *shape_rules(limits), *closed)


def validate_document(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: Sequence[type[ASTValidationRule]],
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
