"""Strawberry internals the schema layer cannot avoid, each behind a guarded import.

Everything else in schema/ uses Strawberry's and graphql-core's public API. When an upgrade
moves one of these, the optimisation that needs it turns off: one warning, and its name in
`disabled_optimisations()` (server.observability.metrics shows it as
`catalog_optimisation_disabled`); the server still starts and answers the same.

The touchpoints, and what each one serves:

- `graphql_schema`: Strawberry's graphql-core schema (`_schema`), for everything that walks
  the built schema.
- `executor_base`: the methods of graphql-core's Executor the lean executor
  (schema.execution) calls; when they change, graphql-core runs every operation.
- `is_default_resolver`: which fields Strawberry resolves by attribute; without it, the
  plain attribute resolvers of schema.shortcuts stay off.
- `strawberry_info`: Strawberry's `Info` built around graphql-core's info; without it, the
  direct resolver calls of schema.shortcuts stay off.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
from collections.abc import Callable, Mapping
from typing import Any

from graphql import ASTValidationRule, GraphQLResolveInfo, GraphQLSchema

log = logging.getLogger(__name__)

_disabled: dict[str, str] = {}


def disable(name: str, reason: str) -> None:
    """Turn the optimisation `name` off: one warning per name and process, and a record."""
    if name in _disabled:
        return
    _disabled[name] = reason
    log.warning("optimisation %s is off: %s", name, reason)


def disabled_optimisations() -> dict[str, str]:
    """The optimisations turned off in this process, with the reason, by name."""
    return dict(_disabled)


# What the lean executor calls of graphql-core's Executor, which documents subclassing it
# (`executor_class`) but calls these methods internal: their parameters, as they are today.
EXECUTOR_METHODS = {
    "execute_operation": ("self", "serially"),
    "build_resolve_info": ("self", "field_def", "field_nodes", "parent_type", "path"),
    "build_response": ("self", "data"),
}


def executor_base(default: Any) -> bool:
    """Whether Strawberry's default execution context class (`default`, read from a
    schema's public `execution_context_class`) is still graphql-core's Executor as the
    lean executor (schema.execution) knows it; if not, that optimisation is off."""
    from graphql.execution import Executor

    if not (isinstance(default, type) and issubclass(default, Executor)):
        disable("lean_executor", f"Strawberry's execution context {default!r} is no Executor")
        return False
    if "collected_errors" not in getattr(Executor, "__annotations__", {}):
        disable("lean_executor", "graphql-core's Executor no longer collects collected_errors")
        return False
    for name, parameters in EXECUTOR_METHODS.items():
        method = getattr(default, name, None)
        try:
            found = tuple(inspect.signature(method).parameters) if callable(method) else ()
        except (TypeError, ValueError):
            found = ()
        if found != parameters:
            disable("lean_executor", f"graphql-core's Executor.{name} changed: {found}")
            return False
    return True


def is_default_resolver(resolve: Any) -> bool | None:
    """Whether Strawberry marked `resolve` as its default (attribute-reading) resolver;
    None when Strawberry no longer says (the caller then keeps Strawberry's resolver)."""
    try:
        from strawberry.resolvers import is_default_resolver as strawberry_is_default
    except ImportError:
        disable("plain_attribute_resolvers", "strawberry.resolvers.is_default_resolver moved")
        return None
    if resolve is None or not hasattr(resolve, "_is_default"):
        return None
    return bool(strawberry_is_default(resolve))


def strawberry_info_available() -> bool:
    """Whether `strawberry_info` can build an Info; if not, the optimisation is off."""
    info_class = _strawberry_info_class()
    names = {f.name for f in dataclasses.fields(info_class)} if info_class else set()
    if not names >= {"_raw_info", "_field"}:
        disable("direct_resolvers", "strawberry.types.Info no longer takes _raw_info and _field")
        return False
    return True


def strawberry_info(raw_info: GraphQLResolveInfo, field: Any) -> Any:
    """The `Info` Strawberry would hand a resolver, through its private constructor
    arguments: callers ask `strawberry_info_available` once before relying on it."""
    return _INFO(_raw_info=raw_info, _field=field)


def _strawberry_info_class() -> Any:
    try:
        from strawberry.types import Info
    except ImportError:
        return None
    return Info if dataclasses.is_dataclass(Info) else None


_INFO: Any = _strawberry_info_class()


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
