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
from resolvers.context import RequestContext
from resolvers.ids import encode_id
from resolvers.limits import DEFAULT_FIRST
from schema import orders
from schema.inputs import LinkFilter
from schema.orders import ProductTagOrder, TagProductOrder

Info = strawberry.Info[RequestContext, None]


@strawberry.enum(description="How hasTags combines the tags it is asked about.")
class Match(Enum):
    ALL = strawberry.enum_value("all", description="True when the product has every tag asked.")
    ANY = strawberry.enum_value("any", description="True when it has at least one of them.")


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID = strawberry.field(
        description='The global id: opaque (base64 of "Product:12"), stable, and accepted '
        "wherever an id of this type is asked for."
    )


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


FIRST = (
    f"Up to this many items from the start (after `after`); {DEFAULT_FIRST} by default, at "
    "most 100 (MAX_FIRST_EXCEEDED beyond; the server may set a lower ceiling)."
)
LAST = (
    "Up to this many items from the end (before `before`); not together with `first`. At "
    "most 100, as `first`."
)
AFTER = (
    "Only items after this cursor (from an edge or pageInfo of the same order). Cursors are "
    "opaque strings; a malformed one is the request error BAD_USER_INPUT."
)
CURSOR = "Where this edge lies, for `after`/`before`."
BEFORE = "Only items before this cursor (from an edge or pageInfo of the same order)."
ORDER = "The order of the items; cursors are valid only for the order that made them."
LINK_FILTER = "Only the links whose own columns are within these ranges."
PRIORITY = (
    "The link's priority: a 32-bit integer (negative allowed), 0 unless a write gave one. "
    "Higher comes first: without an orderBy, Product.tags lists a product's tags by "
    "priority, highest first, then by name. Writes that do not give one leave it as it is."
)
ADDED_AT = (
    "When this link was made (UTC). A link that stays keeps it: setTags and priority "
    "updates do not move it; removing and adding again does."
)


@strawberry.type(
    description=(
        "A product of the catalog, with the tags linked to it; each link carries a "
        "priority and the time it was added."
    )
)
class Product(Node):
    database_id: int = strawberry.field(
        description="The row id: a positive 32-bit integer, never reused after a delete."
    )
    name: str = strawberry.field(
        description="The name as stored: cleaned (see createProduct), at most 200 characters; "
        "not unique."
    )
    created_at: datetime = strawberry.field(description="When the product was created (UTC).")
    updated_at: datetime = strawberry.field(
        description="When the product was last renamed (UTC); link changes do not move it."
    )

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
            _page_args(first, after, last, before),
            TAG_LINKS_DEFAULT if order_by is None else orders.order(order_by, TAG_LINKS_DEFAULT),
            where,
            lambda page: ProductTagConnection(page=page, product_id=product_id, where=where),
        )

    @strawberry.field(description="Whether this product has all (or any) of the given tags.")
    async def has_tags(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description="Tags by global id (at most 100 ids and names)."),
        ] = None,
        names: Annotated[
            list[str] | None,
            strawberry.argument(
                description="Tags by name, compared by key (case-insensitive, look-alikes "
                "folded); a name no tag has counts as a tag the product lacks."
            ),
        ] = None,
        match: Annotated[
            Match | None, strawberry.argument(description="ALL (the default) or ANY.")
        ] = Match.ALL,
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
    database_id: int = strawberry.field(
        description="The row id: a positive 32-bit integer, never reused after a delete."
    )
    name: str = strawberry.field(
        description="The name as first spelled (cleaned, at most 64 characters). Unique by "
        "key: case-insensitive, look-alikes folded."
    )
    created_at: datetime = strawberry.field(description="When the tag was created (UTC).")

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
            _page_args(first, after, last, before),
            PRODUCT_LINKS_DEFAULT
            if order_by is None
            else orders.order(order_by, PRODUCT_LINKS_DEFAULT),
            where,
            lambda page: TagProductConnection(page=page, tag_id=tag_id, where=where),
        )


_NO_PAGE_ARGS = queries.PageArgs()


def _page_args(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> queries.PageArgs:
    """The paging arguments; one shared object when none is given (the common nested case)."""
    if first is None and after is None and last is None and before is None:
        return _NO_PAGE_ARGS
    return queries.PageArgs(first, after, last, before)


def _link_conditions(given: LinkFilter | None) -> LinkConditions | None:
    if given is None:
        return None
    return queries.link_conditions(
        given.priority.bounds() if given.priority else None,
        given.added_at.bounds() if given.added_at else None,
    )


def _edge_cursor(self: Any) -> str:
    """An edge's cursor, encoded only when a query asks for it."""
    return str(self.page.cursor(self.link))


@strawberry.type(description="A tag of a product, with the link's own columns.")
class ProductTagEdge:
    link: strawberry.Private[TagLink]
    page: strawberry.Private[queries.Paged[TagLink]]
    cursor: str = strawberry.field(resolver=_edge_cursor, description=CURSOR)
    node: Tag = strawberry.field(description="The tag.")
    priority: int = strawberry.field(description=PRIORITY)
    added_at: datetime = strawberry.field(description=ADDED_AT)


# Connections keep the page as loaded and build edges, nodes and cursors only when asked:
# a query for `nodes { name }` never pays for edge objects or cursor encoding.


@strawberry.type(description="A page of a product's tags.")
class ProductTagConnection:
    page: strawberry.Private[queries.Paged[TagLink]]
    product_id: strawberry.Private[int]
    where: strawberry.Private[LinkConditions | None]

    @strawberry.field(description="The tags with the links' own columns and cursors.")
    def edges(self) -> list[ProductTagEdge]:
        page = self.page
        return [
            ProductTagEdge(
                link=link,
                page=page,
                node=Tag.of(link.tag),
                priority=link.priority,
                added_at=link.added_at,
            )
            for link in page.items
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
    link: strawberry.Private[ProductLink]
    page: strawberry.Private[queries.Paged[ProductLink]]
    cursor: str = strawberry.field(resolver=_edge_cursor, description=CURSOR)
    node: Product = strawberry.field(description="The product.")
    priority: int = strawberry.field(description=PRIORITY)
    added_at: datetime = strawberry.field(description=ADDED_AT)


@strawberry.type(description="A page of a tag's products.")
class TagProductConnection:
    page: strawberry.Private[queries.Paged[ProductLink]]
    tag_id: strawberry.Private[int]
    where: strawberry.Private[LinkConditions | None]

    @strawberry.field(description="The products with the links' own columns and cursors.")
    def edges(self) -> list[TagProductEdge]:
        page = self.page
        return [
            TagProductEdge(
                link=link,
                page=page,
                node=Product.of(link.product),
                priority=link.priority,
                added_at=link.added_at,
            )
            for link in page.items
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
