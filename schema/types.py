"""The object types clients see: Product, Tag, the Node interface and the connections."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry

from db.orders import PRODUCT_LINKS_DEFAULT, TAG_LINKS_DEFAULT
from db.paging import LinkConditions
from db.records import ProductLink, ProductRecord, TagLink, TagRecord
from resolvers import queries
from resolvers.context import DEFAULT_FIRST, RequestContext
from resolvers.ids import encode_id
from schema import orders
from schema.inputs import LinkFilter
from schema.orders import ProductTagOrder, TagProductOrder

Info = strawberry.Info[RequestContext, None]


@strawberry.enum(description="How hasTags combines the tags it is asked about.")
class Match(Enum):
    ALL = "all"
    ANY = "any"


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID


@strawberry.type(description="Where a page lies in its connection (Relay's PageInfo).")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Paging forward: whether more items follow. Paging backward (`last`): "
        "true when `before` was given."
    )
    has_previous_page: bool = strawberry.field(
        description="Paging backward (`last`): whether more items precede. Paging forward: "
        "true when `after` was given."
    )
    start_cursor: str | None = strawberry.field(description="The first edge's cursor.")
    end_cursor: str | None = strawberry.field(description="The last edge's cursor.")

    @classmethod
    def of(cls, page: queries.Paged[Any]) -> PageInfo:
        items = page.items
        return cls(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=page.cursor(items[0]) if items else None,
            end_cursor=page.cursor(items[-1]) if items else None,
        )


FIRST = f"Up to this many items from the start (after `after`); {DEFAULT_FIRST} by default."
LAST = "Up to this many items from the end (before `before`); not together with `first`."
AFTER = "Only items after this cursor (from an edge or pageInfo of the same order)."
BEFORE = "Only items before this cursor (from an edge or pageInfo of the same order)."
ORDER = "The order of the items; cursors are valid only for the order that made them."
LINK_FILTER = "Only the links whose own columns are within these ranges."


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

    @strawberry.field(
        description="This product's tags with the link's priority and addedAt; by priority "
        "(highest first), then name, unless `orderBy` says otherwise."
    )
    def tags(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        last: Annotated[int | None, strawberry.argument(description=LAST)] = None,
        before: Annotated[str | None, strawberry.argument(description=BEFORE)] = None,
        order_by: Annotated[ProductTagOrder | None, strawberry.argument(description=ORDER)] = None,
        filter: Annotated[LinkFilter | None, strawberry.argument(description=LINK_FILTER)] = None,
    ) -> ProductTagConnection:
        product_id = self.database_id
        where = _link_conditions(filter)
        return queries.tags_of_product(  # type: ignore[return-value]  # graphql awaits it
            info.context,
            product_id,
            queries.PageArgs(first, after, last, before),
            orders.order(order_by, TAG_LINKS_DEFAULT),
            where,
            lambda page: ProductTagConnection(page=page, product_id=product_id, where=where),
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

    @strawberry.field(
        description="The products carrying this tag with the link's priority and addedAt; "
        "by databaseId ascending unless `orderBy` says otherwise."
    )
    def products(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        last: Annotated[int | None, strawberry.argument(description=LAST)] = None,
        before: Annotated[str | None, strawberry.argument(description=BEFORE)] = None,
        order_by: Annotated[TagProductOrder | None, strawberry.argument(description=ORDER)] = None,
        filter: Annotated[LinkFilter | None, strawberry.argument(description=LINK_FILTER)] = None,
    ) -> TagProductConnection:
        tag_id = self.database_id
        where = _link_conditions(filter)
        return queries.products_of_tag(  # type: ignore[return-value]  # graphql awaits it
            info.context,
            tag_id,
            queries.PageArgs(first, after, last, before),
            orders.order(order_by, PRODUCT_LINKS_DEFAULT),
            where,
            lambda page: TagProductConnection(page=page, tag_id=tag_id, where=where),
        )


def _link_conditions(given: LinkFilter | None) -> LinkConditions | None:
    if given is None:
        return None
    return queries.link_conditions(
        given.priority.bounds() if given.priority else None,
        given.added_at.bounds() if given.added_at else None,
    )


@strawberry.type(description="A tag of a product, with the link's own columns.")
class ProductTagEdge:
    cursor: str = strawberry.field(description="Where this edge lies, for `after`/`before`.")
    node: Tag = strawberry.field(description="The tag.")
    priority: int = strawberry.field(description="The link's priority.")
    added_at: datetime = strawberry.field(description="When the tag was linked.")


# Connections keep the page as loaded and build edges, nodes and cursors only when asked:
# a query for `nodes { name }` never pays for edge objects or cursor encoding.


@strawberry.type(description="A page of a product's tags.")
class ProductTagConnection:
    page: strawberry.Private[queries.Paged[TagLink]]
    product_id: strawberry.Private[int]
    where: strawberry.Private[LinkConditions | None]

    @strawberry.field(description="The tags with the links' own columns and cursors.")
    def edges(self) -> list[ProductTagEdge]:
        cursor = self.page.cursor
        return [
            ProductTagEdge(
                cursor=cursor(link),
                node=Tag.of(link.tag),
                priority=link.priority,
                added_at=link.added_at,
            )
            for link in self.page.items
        ]

    @strawberry.field(description="The tags alone.")
    def nodes(self) -> list[Tag]:
        return [Tag.of(link.tag) for link in self.page.items]

    @strawberry.field(description="Where this page lies.")
    def page_info(self) -> PageInfo:
        return PageInfo.of(self.page)

    @strawberry.field(description="How many tags the product has (that the filter keeps).")
    def total_count(self, info: Info) -> int:
        return queries.tag_count(info.context, self.product_id, self.where)  # type: ignore[return-value]


@strawberry.type(description="A product carrying a tag, with the link's own columns.")
class TagProductEdge:
    cursor: str = strawberry.field(description="Where this edge lies, for `after`/`before`.")
    node: Product = strawberry.field(description="The product.")
    priority: int = strawberry.field(description="The link's priority.")
    added_at: datetime = strawberry.field(description="When the product was linked.")


@strawberry.type(description="A page of a tag's products.")
class TagProductConnection:
    page: strawberry.Private[queries.Paged[ProductLink]]
    tag_id: strawberry.Private[int]
    where: strawberry.Private[LinkConditions | None]

    @strawberry.field(description="The products with the links' own columns and cursors.")
    def edges(self) -> list[TagProductEdge]:
        cursor = self.page.cursor
        return [
            TagProductEdge(
                cursor=cursor(link),
                node=Product.of(link.product),
                priority=link.priority,
                added_at=link.added_at,
            )
            for link in self.page.items
        ]

    @strawberry.field(description="The products alone.")
    def nodes(self) -> list[Product]:
        return [Product.of(link.product) for link in self.page.items]

    @strawberry.field(description="Where this page lies.")
    def page_info(self) -> PageInfo:
        return PageInfo.of(self.page)

    @strawberry.field(description="How many products carry the tag (that the filter keeps).")
    def total_count(self, info: Info) -> int:
        return queries.product_count(info.context, self.tag_id, self.where)  # type: ignore[return-value]


@strawberry.type(description="A product and its cursor.")
class ProductEdge:
    cursor: str = strawberry.field(description="Where this edge lies, for `after`/`before`.")
    node: Product = strawberry.field(description="The product.")


@strawberry.type(description="A page of products.")
class ProductConnection:
    page: strawberry.Private[queries.Paged[ProductRecord]]
    filter: strawberry.Private[queries.ProductFilter | None]

    @strawberry.field(description="The products with their cursors.")
    def edges(self) -> list[ProductEdge]:
        cursor = self.page.cursor
        return [ProductEdge(cursor=cursor(r), node=Product.of(r)) for r in self.page.items]

    @strawberry.field(description="The products alone.")
    def nodes(self) -> list[Product]:
        return [Product.of(r) for r in self.page.items]

    @strawberry.field(description="Where this page lies.")
    def page_info(self) -> PageInfo:
        return PageInfo.of(self.page)

    @strawberry.field(description="How many products the filter keeps, on all pages.")
    async def total_count(self, info: Info) -> int:
        return await queries.products_total(info.context, self.filter)


@strawberry.type(description="A tag and its cursor.")
class TagEdge:
    cursor: str = strawberry.field(description="Where this edge lies, for `after`/`before`.")
    node: Tag = strawberry.field(description="The tag.")


@strawberry.type(description="A page of tags.")
class TagConnection:
    page: strawberry.Private[queries.Paged[TagRecord]]
    name_contains: strawberry.Private[str | None]

    @strawberry.field(description="The tags with their cursors.")
    def edges(self) -> list[TagEdge]:
        cursor = self.page.cursor
        return [TagEdge(cursor=cursor(r), node=Tag.of(r)) for r in self.page.items]

    @strawberry.field(description="The tags alone.")
    def nodes(self) -> list[Tag]:
        return [Tag.of(r) for r in self.page.items]

    @strawberry.field(description="Where this page lies.")
    def page_info(self) -> PageInfo:
        return PageInfo.of(self.page)

    @strawberry.field(description="How many tags the filter keeps, on all pages.")
    async def total_count(self, info: Info) -> int:
        return await queries.tags_total(info.context, self.name_contains)
