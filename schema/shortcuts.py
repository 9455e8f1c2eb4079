"""Shorter call paths for the fields a catalog response is made of.

Strawberry wraps every field in a generic resolver; the two shortcuts here keep the same
behaviour for the common cases at a fraction of the per-call cost, which adds up over the
hundreds of fields of one page. They are installed on the built schema, so both executors
(schema.execution and graphql-core) use them. The Strawberry internals they rely on are
reached through schema.compat; when one has moved, that shortcut stays off.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from operator import attrgetter
from typing import Any

import strawberry
from graphql import GraphQLField, GraphQLObjectType, get_nullable_type
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField
from strawberry.utils.str_converters import to_camel_case

from schema import compat
from schema.compat import graphql_schema

# The attribute resolvers installed here, each with the attribute it reads: they never read
# their info argument, so the lean executor need not build one for them, and may read the
# attribute itself.
_ATTRIBUTES: weakref.WeakKeyDictionary[Callable[..., Any], Callable[[Any], Any]] = (
    weakref.WeakKeyDictionary()
)


def install(schema: strawberry.Schema) -> None:
    _plain_attribute_resolvers(schema)
    if compat.strawberry_info_available():
        _direct_resolvers(schema)


def ignores_info(resolve: Callable[..., Any] | None) -> bool:
    """Whether `resolve` is one of the attribute resolvers installed here."""
    return resolve is not None and resolve in _ATTRIBUTES


def attribute_read(resolve: Callable[..., Any] | None) -> Callable[[Any], Any] | None:
    """What `resolve` does, when it is one of the attribute resolvers installed here: the
    read of its source's attribute (an `operator.attrgetter`); None for any other."""
    return None if resolve is None else _ATTRIBUTES.get(resolve)


def _fields(schema: strawberry.Schema) -> Iterator[tuple[GraphQLField, StrawberryField]]:
    """Every field of the schema's own object types, with its Strawberry definition."""
    for graphql_type in graphql_schema(schema).type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        definition = schema.get_type_by_name(graphql_type.name)
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        by_name = {f.graphql_name or to_camel_case(f.python_name): f for f in definition.fields}
        for name, graphql_field in graphql_type.fields.items():
            if name in by_name:
                yield graphql_field, by_name[name]


def _plain_attribute_resolvers(schema: strawberry.Schema) -> None:
    """Resolve plain data fields with a bare attribute read.

    Strawberry wraps even resolver-less fields in a generic call; a catalog response is
    mostly such fields (ids, names), so reading the attribute directly is a measurable
    share of a nested list query's time. Fields with resolvers, arguments or
    extensions keep Strawberry's wrapper.
    """
    fields = list(_fields(schema))
    verdicts = [compat.is_default_resolver(graphql_field.resolve) for graphql_field, _f in fields]
    if fields and all(verdict is None for verdict in verdicts):
        compat.disable(
            "plain_attribute_resolvers", "Strawberry no longer marks its default resolvers"
        )
        return
    for (graphql_field, field), is_default in zip(fields, verdicts, strict=True):
        if (
            is_default
            and field.base_resolver is None
            and not field.extensions
            and not field.permission_classes
        ):
            graphql_field.resolve = _attribute(field.python_name)


def _attribute(python_name: str) -> Callable[..., Any]:
    read = attrgetter(python_name)

    def resolve(source: Any, _info: Any) -> Any:
        return read(source)

    _ATTRIBUTES[resolve] = read
    return resolve


_PLAIN_SCALARS = frozenset({"Int", "String", "ID", "Boolean"})


def _direct_resolvers(schema: strawberry.Schema) -> None:
    """Call resolvers without Strawberry's wrapper while their arguments are plain scalars.

    For plain scalar arguments Strawberry's conversion is the identity but still costs a
    per-call walk over the arguments (Product.tags runs once per product of a page).
    The call is the same: the method with its source as self, the Info and the arguments
    under their Python names. Arguments of other types (orderBy, filter) need Strawberry's
    conversion into input objects: while any of them is given, the call goes through the
    wrapper as before. Fields with extensions, permissions or root/parent parameters always
    keep the wrapper, and so do subscription fields.
    """
    for graphql_field, field in _fields(schema):
        resolver = field.base_resolver
        if (
            resolver is None
            # A subscription's resolver makes its event stream; graphql-core resolves
            # each event through the field's own `resolve`, which must stay as it is.
            or field.is_subscription
            or field.extensions
            or field.permission_classes
            or resolver.self_parameter is None
            or resolver.root_parameter is not None
            or resolver.parent_parameter is not None
            or not callable(resolver.wrapped_func)  # static and class methods
        ):
            continue
        converted = frozenset(
            name
            for name, argument in graphql_field.args.items()
            if getattr(get_nullable_type(argument.type), "name", None) not in _PLAIN_SCALARS
        )
        names = {
            a.graphql_name or to_camel_case(a.python_name): a.python_name for a in field.arguments
        }
        info_name = resolver.info_parameter.name if resolver.info_parameter else None
        graphql_field.resolve = _direct(
            resolver.wrapped_func, names, info_name, field, converted, graphql_field.resolve
        )


def _direct(
    method: Callable[..., Any],
    names: dict[str, str],
    info_name: str | None,
    field: Any,
    converted: frozenset[str],
    wrapper: Callable[..., Any] | None,
) -> Callable[..., Any]:
    def resolve(source: Any, info: Any, **arguments: Any) -> Any:
        if (
            converted
            and wrapper is not None
            and any(arguments.get(name) is not None for name in converted)
        ):
            return wrapper(source, info, **arguments)
        kwargs = {names[name]: value for name, value in arguments.items()}
        if info_name is not None:
            kwargs[info_name] = compat.strawberry_info(info, field)
        return method(source, **kwargs)

    return resolve
