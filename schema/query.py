"""The Query root: lookups by id and the two top-level lists."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from db.orders import PRODUCTS_DEFAULT, TAGS_DEFAULT
from db.records import ProductRecord, TagRecord
from resolvers import changes as change_log
from resolvers import queries
from schema import orders
from schema.changes import CHANGES_AFTER, CHANGES_FILTER, ChangeConnection, filter_args
from schema.inputs import ProductFilter, TagFilter, TagMatch, TagNameMatch
from schema.orders import ProductOrder, TagOrder
from schema.points import Budget
from schema.types import (
    AFTER,
    BEFORE,
    FIRST,
    LAST,
    ORDER,
    Info,
    Node,
    Product,
    ProductConnection,
    Tag,
    TagConnection,
)


def as_node(record: ProductRecord | TagRecord | None) -> Node | None:
    if isinstance(record, ProductRecord):
        return Product.of(record)
    if isinstance(record, TagRecord):
        return Tag.of(record)
    return None


def _match(given: TagMatch | TagNameMatch) -> queries.TagMatchArgs:
    priority = given.priority.bounds() if given.priority else None
    return queries.TagMatchArgs(given.any, given.all, given.none, priority)


@strawberry.type(
    description='A caller\'s budget of points (docs/api.md, "Rate limits"): an operation '
    "costs its node estimate / 100, rounded up, at least 1; a mutation at least 10."
)
class RateLimit:
    limit: int = strawberry.field(description="Points per window.")
    cost: int = strawberry.field(description="What this operation costs, by its estimate.")
    remaining: int = strawberry.field(
        description="Points left in the window once this operation is counted."
    )
    reset_at: datetime = strawberry.field(description="When the window starts again.")


@strawberry.type(
    description="Every read. Lists are connections (edges, nodes, pageInfo, totalCount) paged "
    "with first/after or last/before; one list argument takes at most 100 ids or names "
    "(MAX_ITEMS_EXCEEDED beyond)."
)
class Query:
    @strawberry.field(
        description="The caller's rate limit (CATALOG_RATE_LIMIT) as this operation sees it; "
        "null when the server sets none. Asking for it alone costs nothing."
    )
    def rate_limit(self, info: Info) -> RateLimit | None:
        budget = getattr(info.context, "budget", None)
        if not isinstance(budget, Budget):
            return None
        return RateLimit(
            limit=budget.limit,
            cost=budget.cost,
            remaining=budget.remaining,
            reset_at=budget.reset_at,
        )

    @strawberry.field(description="Any object by its global id; null when there is none.")
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global id of any type.")],
    ) -> Node | None:
        return as_node(await queries.node(info.context, id))

    @strawberry.field(description="Objects by global ids, in order; null where there is none.")
    async def nodes(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID], strawberry.argument(description="Global ids, at most 100.")
        ],
    ) -> list[Node | None]:
        return [as_node(r) for r in await queries.nodes(info.context, ids)]

    @strawberry.field(description="A product by global id; null when there is none.")
    async def product(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The product's global id.")],
    ) -> Product | None:
        record = await queries.product(info.context, id)
        return None if record is None else Product.of(record)

    @strawberry.field(
        description="Products, by databaseId ascending unless `orderBy` says otherwise."
    )
    async def products(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        filter: Annotated[
            ProductFilter | None,
            strawberry.argument(description="Only the products these conditions keep."),
        ] = None,
        last: Annotated[int | None, strawberry.argument(description=LAST)] = None,
        before: Annotated[str | None, strawberry.argument(description=BEFORE)] = None,
        order_by: Annotated[ProductOrder | None, strawberry.argument(description=ORDER)] = None,
    ) -> ProductConnection:
        tags = filter.tags if filter else None
        tag_names = filter.tag_names if filter else None
        where = queries.product_filter(
            info.context,
            filter.name_contains if filter else None,
            None if tags is None else _match(tags),
            None if tag_names is None else _match(tag_names),
        )
        page = await queries.products(
            info.context,
            queries.PageArgs(first, after, last, before),
            orders.order(order_by, PRODUCTS_DEFAULT),
            where,
        )
        return ProductConnection(page=page, filter=where)

    @strawberry.field(
        description="A tag by global id or by name (compared by key: case-insensitive, "
        "look-alikes folded)."
    )
    async def tag(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The tag's global id.")
        ] = None,
        name: Annotated[
            str | None, strawberry.argument(description="The tag's name, in any spelling.")
        ] = None,
    ) -> Tag | None:
        record = await queries.tag(info.context, id, name)
        return None if record is None else Tag.of(record)

    @strawberry.field(
        description="Tags, by name ascending (case-insensitively) unless `orderBy` says otherwise."
    )
    async def tags(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        filter: Annotated[
            TagFilter | None, strawberry.argument(description="Only the tags it keeps.")
        ] = None,
        last: Annotated[int | None, strawberry.argument(description=LAST)] = None,
        before: Annotated[str | None, strawberry.argument(description=BEFORE)] = None,
        order_by: Annotated[TagOrder | None, strawberry.argument(description=ORDER)] = None,
    ) -> TagConnection:
        name_contains = filter.name_contains if filter else None
        page = await queries.tags(
            info.context,
            queries.PageArgs(first, after, last, before),
            orders.order(order_by, TAGS_DEFAULT),
            name_contains,
        )
        return TagConnection(page=page, name_contains=name_contains)

    @strawberry.field(
        description="The change log, oldest first: what every committed write changed, "
        "recorded in its own transaction. Entries are kept for the retention "
        "(CATALOG_CHANGES_RETENTION, 7 days by default)."
    )
    async def changes(
        self,
        info: Info,
        after: CHANGES_AFTER = None,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        filter: CHANGES_FILTER = None,
    ) -> ChangeConnection:
        size = queries.page_size(info.context, first)
        page = await change_log.changes_page(info.context.db, after, size, filter_args(filter))
        info.context.nodes_read += len(page.entries)
        return ChangeConnection(page=page)
