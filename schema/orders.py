"""How clients ask for an order: `orderBy: {field, direction}`, as GitHub's API does."""

from __future__ import annotations

from enum import Enum

import strawberry

from db.paging import Order
from resolvers import queries

# The enum values are the data layer's names for the fields (see db/orders.py).


@strawberry.enum(description="Which way an order runs.")
class OrderDirection(Enum):
    ASC = strawberry.enum_value("asc", description="Lowest first (A before Z, oldest first).")
    DESC = strawberry.enum_value("desc", description="Highest first (Z before A, newest first).")


@strawberry.enum(description="What a product's tags can be ordered by.")
class ProductTagOrderField(Enum):
    PRIORITY = strawberry.enum_value(
        "priority", description="The link's priority; ties by tag name, then databaseId."
    )
    NAME = strawberry.enum_value(
        "name", description="The tag's name, case-insensitively, by code point."
    )
    ADDED_AT = strawberry.enum_value(
        "added_at", description="When the tag was linked; ties by the tag's databaseId."
    )


@strawberry.enum(description="What a tag's products can be ordered by.")
class TagProductOrderField(Enum):
    DATABASE_ID = strawberry.enum_value("id", description="The product's databaseId.")
    NAME = strawberry.enum_value(
        "name",
        description="The product's name, case-insensitively, by code point; ties by databaseId.",
    )
    PRIORITY = strawberry.enum_value(
        "priority", description="The link's priority; ties by the product's databaseId."
    )
    ADDED_AT = strawberry.enum_value(
        "added_at", description="When the product was linked; ties by its databaseId."
    )


@strawberry.enum(description="What products can be ordered by.")
class ProductOrderField(Enum):
    DATABASE_ID = strawberry.enum_value("id", description="The product's databaseId.")
    NAME = strawberry.enum_value(
        "name", description="The name, case-insensitively, by code point; ties by databaseId."
    )
    CREATED_AT = strawberry.enum_value(
        "created_at", description="When the product was created; ties by databaseId."
    )


@strawberry.enum(description="What tags can be ordered by.")
class TagOrderField(Enum):
    NAME = strawberry.enum_value("name", description="The name, case-insensitively, by code point.")
    DATABASE_ID = strawberry.enum_value("id", description="The tag's databaseId.")
    CREATED_AT = strawberry.enum_value(
        "created_at", description="When the tag was created; ties by databaseId."
    )


DIRECTION = (
    "ASC or DESC; when left out, DESC for PRIORITY (highest first) and ASC for every other field."
)


@strawberry.input(
    description="An order for a product's tags. Without one: PRIORITY DESC, then name."
)
class ProductTagOrder:
    field: ProductTagOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection | None = strawberry.field(default=None, description=DIRECTION)


@strawberry.input(description="An order for a tag's products. Without one: DATABASE_ID ASC.")
class TagProductOrder:
    field: TagProductOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection | None = strawberry.field(default=None, description=DIRECTION)


@strawberry.input(description="An order for products. Without one: DATABASE_ID ASC.")
class ProductOrder:
    field: ProductOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection | None = strawberry.field(default=None, description=DIRECTION)


@strawberry.input(description="An order for tags. Without one: NAME ASC.")
class TagOrder:
    field: TagOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection | None = strawberry.field(default=None, description=DIRECTION)


AnyOrder = ProductTagOrder | TagProductOrder | ProductOrder | TagOrder


def order(given: AnyOrder | None, default: Order) -> Order:
    """The data layer's order for an `orderBy` argument (or its absence)."""
    if given is None:
        return default
    # strawberry.enum_value leaves the plain string as each member's value
    direction = None if given.direction is None else str(given.direction.value)
    return queries.order_of(str(given.field.value), direction, default)
