"""The object types clients see: Product, Tag, the Node interface and the connections."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from enum import Enum
from typing import TypeVar

import strawberry

from db.records import Page, ProductLink, ProductRecord, TagLink, TagRecord
from resolvers import queries
from resolvers.context import DEFAULT_FIRST, RequestContext
from resolvers.ids import encode_id
from resolvers.loaders import then

Info = strawberry.Info[RequestContext, None]
E = TypeVar("E")


@strawberry.enum(description="How hasTags combines the tags it is asked about.")
class Match(Enum):
    ALL = "all"
    ANY = "any"


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


def page_info(
    edges: Sequence[E], cursor: Callable[[E], str], has_next: bool, after: str | None
) -> PageInfo:
    return PageInfo(
        has_next_page=has_next,
        has_previous_page=after is not None,
        start_cursor=cursor(edges[0]) if edges else None,
        end_cursor=cursor(edges[-1]) if edges else None,
    )


@strawberry.type(
    description=(
        "A product of the catalog, with the tags linked to it; each link carries a "
        "priority and the time it was added."
    )
)
class Product(Node):
    database_id: int
    name: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: ProductRecord) -> Product:
        return cls(
            id=strawberry.ID(encode_id("Product", record.id)),
            database_id=record.id,
            name=record.name,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )

    @strawberry.field(description="This product's tags, by priority (highest first), then name.")
    def tags(
        self, info: Info, first: int | None = DEFAULT_FIRST, after: str | None = None
    ) -> ProductTagConnection:
        product_id = self.database_id
        page = queries.tags_of_product(info.context, product_id, first, after)
        return then(  # type: ignore[return-value]  # graphql awaits it
            page,
            lambda p: ProductTagConnection(
                links=p[0], has_next=p[1], after=after, product_id=product_id
            ),
        )

    @strawberry.field(description="Whether this product has all (or any) of the given tags.")
    async def has_tags(
        self,
        info: Info,
        ids: list[strawberry.ID] | None = None,
        names: list[str] | None = None,
        match: Match | None = Match.ALL,
    ) -> bool:
        return await queries.has_tags(
            info.context, self.database_id, ids, names, match_all=match is not Match.ANY
        )


@strawberry.type(
    description=(
        "A label for products. Names are unique regardless of case; each link to a "
        "product carries a priority and the time it was added."
    )
)
class Tag(Node):
    database_id: int
    name: str
    created_at: datetime

    @classmethod
    def of(cls, record: TagRecord) -> Tag:
        return cls(
            id=strawberry.ID(encode_id("Tag", record.id)),
            database_id=record.id,
            name=record.name,
            created_at=record.created_at,
        )

    @strawberry.field(description="The products carrying this tag, by databaseId ascending.")
    def products(
        self, info: Info, first: int | None = DEFAULT_FIRST, after: str | None = None
    ) -> TagProductConnection:
        tag_id = self.database_id
        page = queries.products_of_tag(info.context, tag_id, first, after)
        return then(  # type: ignore[return-value]  # graphql awaits it
            page,
            lambda p: TagProductConnection(links=p[0], has_next=p[1], after=after, tag_id=tag_id),
        )


@strawberry.type
class ProductTagEdge:
    cursor: str
    node: Tag
    priority: int
    added_at: datetime

    @classmethod
    def of(cls, link: TagLink) -> ProductTagEdge:
        return cls(
            cursor=queries.tag_link_cursor(link),
            node=Tag.of(link.tag),
            priority=link.priority,
            added_at=link.added_at,
        )


# Connections keep the page as loaded and build edges, nodes and cursors only when asked:
# a query for `nodes { name }` never pays for edge objects or cursor encoding.


@strawberry.type
class ProductTagConnection:
    links: strawberry.Private[list[TagLink]]
    has_next: strawberry.Private[bool]
    after: strawberry.Private[str | None]
    product_id: strawberry.Private[int]

    @strawberry.field
    def edges(self) -> list[ProductTagEdge]:
        return [ProductTagEdge.of(link) for link in self.links]

    @strawberry.field
    def nodes(self) -> list[Tag]:
        return [Tag.of(link.tag) for link in self.links]

    @strawberry.field
    def page_info(self) -> PageInfo:
        return page_info(self.links, queries.tag_link_cursor, self.has_next, self.after)

    @strawberry.field
    def total_count(self, info: Info) -> int:
        return queries.tag_count(info.context, self.product_id)  # type: ignore[return-value]


@strawberry.type
class TagProductEdge:
    cursor: str
    node: Product
    priority: int
    added_at: datetime

    @classmethod
    def of(cls, link: ProductLink) -> TagProductEdge:
        return cls(
            cursor=queries.product_link_cursor(link),
            node=Product.of(link.product),
            priority=link.priority,
            added_at=link.added_at,
        )


@strawberry.type
class TagProductConnection:
    links: strawberry.Private[list[ProductLink]]
    has_next: strawberry.Private[bool]
    after: strawberry.Private[str | None]
    tag_id: strawberry.Private[int]

    @strawberry.field
    def edges(self) -> list[TagProductEdge]:
        return [TagProductEdge.of(link) for link in self.links]

    @strawberry.field
    def nodes(self) -> list[Product]:
        return [Product.of(link.product) for link in self.links]

    @strawberry.field
    def page_info(self) -> PageInfo:
        return page_info(self.links, queries.product_link_cursor, self.has_next, self.after)

    @strawberry.field
    def total_count(self, info: Info) -> int:
        return queries.product_count(info.context, self.tag_id)  # type: ignore[return-value]


@strawberry.type
class ProductEdge:
    cursor: str
    node: Product


@strawberry.type
class ProductConnection:
    page: strawberry.Private[Page[ProductRecord]]
    after: strawberry.Private[str | None]
    filter: strawberry.Private[queries.ProductFilter | None]

    @strawberry.field
    def edges(self) -> list[ProductEdge]:
        return [
            ProductEdge(cursor=queries.product_cursor(r), node=Product.of(r))
            for r in self.page.items
        ]

    @strawberry.field
    def nodes(self) -> list[Product]:
        return [Product.of(r) for r in self.page.items]

    @strawberry.field
    def page_info(self) -> PageInfo:
        return page_info(self.page.items, queries.product_cursor, self.page.has_next, self.after)

    @strawberry.field
    async def total_count(self, info: Info) -> int:
        return await queries.products_total(info.context, self.filter)


@strawberry.type
class TagEdge:
    cursor: str
    node: Tag


@strawberry.type
class TagConnection:
    page: strawberry.Private[Page[TagRecord]]
    after: strawberry.Private[str | None]
    name_contains: strawberry.Private[str | None]

    @strawberry.field
    def edges(self) -> list[TagEdge]:
        return [TagEdge(cursor=queries.tag_cursor(r), node=Tag.of(r)) for r in self.page.items]

    @strawberry.field
    def nodes(self) -> list[Tag]:
        return [Tag.of(r) for r in self.page.items]

    @strawberry.field
    def page_info(self) -> PageInfo:
        return page_info(self.page.items, queries.tag_cursor, self.page.has_next, self.after)

    @strawberry.field
    async def total_count(self, info: Info) -> int:
        return await queries.tags_total(info.context, self.name_contains)
