"""Strawberry internals the schema layer cannot avoid, each behind a guarded import.

Everything else in schema/ uses Strawberry's and graphql-core's public API. When an upgrade
moves one of these, the feature that needs it degrades with a warning; the server still
starts.
"""

from __future__ import annotations

import logging

from graphql import ASTValidationRule

log = logging.getLogger(__name__)


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
