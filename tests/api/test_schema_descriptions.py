"""Every element of the schema explains itself: each type, field, argument, input field and
enum value has a description, so the playground's docs, code generators and editors can
show one for anything a client may write.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
)

from schema import build_schema
from schema.compat import graphql_schema


def elements(schema: GraphQLSchema) -> Iterator[tuple[str, str | None]]:
    """(coordinate, description) of every element of the schema's own types."""
    for name, named in schema.type_map.items():
        if name.startswith("__"):  # introspection's own types, described by graphql-core
            continue
        yield name, named.description
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in named.fields.items():
                yield f"{name}.{field_name}", field.description
                for arg_name, arg in field.args.items():
                    yield f"{name}.{field_name}({arg_name}:)", arg.description
        elif isinstance(named, GraphQLInputObjectType):
            for field_name, input_field in named.fields.items():
                yield f"{name}.{field_name}", input_field.description
        elif isinstance(named, GraphQLEnumType):
            for value_name, value in named.values.items():
                yield f"{name}.{value_name}", value.description


def test_every_schema_element_has_a_description() -> None:
    schema = graphql_schema(build_schema())

    undescribed = [where for where, text in elements(schema) if not (text or "").strip()]

    assert undescribed == [], f"{len(undescribed)} elements lack a description: {undescribed}"


def test_the_walk_reaches_every_kind_of_element() -> None:
    # The check above is only as good as its walk: it must see each kind it claims to.
    seen = dict(elements(graphql_schema(build_schema())))

    for coordinate in (
        "Product",  # an object type
        "Node.id",  # an interface field
        "Product.tags(first:)",  # an argument
        "AddTagsInput.priority",  # an input field
        "UserErrorCode.CONFLICT",  # an enum value
        "DateTime",  # a scalar
    ):
        assert coordinate in seen, coordinate
