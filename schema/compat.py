"""Strawberry internals the schema layer cannot avoid, each behind a guarded import.

Everything else in schema/ uses Strawberry's and graphql-core's public API. When an upgrade
moves one of these, the feature that needs it degrades with a warning; the server still
starts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from graphql import ASTValidationRule, GraphQLSchema

log = logging.getLogger(__name__)


def graphql_schema(schema: Any) -> GraphQLSchema:
    """The graphql-core schema a Strawberry schema was built into.

    Strawberry keeps it in the private `_schema` attribute and offers no public accessor;
    every use in the project goes through here, so a rename breaks in one known place.
    """
    built = getattr(schema, "_schema", None)
    if not isinstance(built, GraphQLSchema):
        raise RuntimeError("Strawberry no longer keeps its graphql-core schema in `_schema`")
    return built


def strawberry_validation_rules() -> tuple[type[ASTValidationRule], ...]:
    """The rules Strawberry adds to graphql-core's when it validates a document itself.

    schema.validation runs validation in place of Strawberry (to pass graphql-core's public
    `hide_suggestions`), so it adds these the way Strawberry's own `validate_document` does.
    Without them only `strawberry.Maybe` and @oneOf checks are lost, neither of which the
    catalog schema uses today.
    """
    rules: list[type[ASTValidationRule]] = []
    try:
        from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule

        rules.append(MaybeNullValidationRule)
    except ImportError:  # pragma: no cover - depends on the installed Strawberry
        log.warning("Strawberry's MaybeNullValidationRule moved; its check is skipped")
    try:
        from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

        rules.append(OneOfInputValidationRule)
    except ImportError:  # pragma: no cover - depends on the installed Strawberry
        log.warning("Strawberry's OneOfInputValidationRule moved; its check is skipped")
    return tuple(rules)


def build_input_with(input_type: type, build: Callable[[Mapping[str, Any]], Any]) -> bool:
    """Let `build` make `input_type`'s values from graphql-core's coerced input value.

    Strawberry's generic conversion walks every field of every value through its type
    machinery; for applyTags (1,000 items of up to 100 links) that is most of the
    request's time. Strawberry lets a type definition bring its own builder (the
    `from_input` hook that integrations such as strawberry.pydantic fill in). Without
    the hook, the generic conversion stays, with a warning. True when installed.
    """
    definition = getattr(input_type, "__strawberry_definition__", None)
    if definition is None or not hasattr(definition, "from_input"):
        log.warning(
            "Strawberry's from_input hook moved; %s uses the generic conversion",
            input_type.__name__,
        )
        return False
    definition.from_input = lambda _cls, value, _context: build(value)
    return True
