"""How the query fields get their data: lookups, top-level lists and nested pages."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Generic, TypeVar

from db import names, orders
from db.associations import has_match
from db.catalog import ProductFilter
from db.errors import Invalid
from db.paging import Key, LinkConditions, Order, Range, Slice, Sort
from db.records import ProductLink, ProductRecord, TagLink, TagRecord
from resolvers.context import RequestContext
from resolvers.errors import BadInput, InvalidArgument, LimitExceeded
from resolvers.ids import BadId, OtherOrder, decode_id, decode_key_cursor, encode_key_cursor
from resolvers.loaders import then

Node = ProductRecord | TagRecord
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class TagMatchArgs:
    """Tag conditions as given: tag ids (or names) and a priority range for the links."""

    any: Sequence[str] | None = None
    all: Sequence[str] | None = None
    none: Sequence[str] | None = None
    priority: Range[int] | None = None


@dataclass(frozen=True, slots=True)
class PageArgs:
    """A connection's paging arguments, as given (Relay: first/after or last/before)."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


@dataclass(slots=True)  # not frozen: built once per parent, a frozen init costs more
class Paged(Generic[T]):
    """A page as a connection shows it: its items, Relay's two flags, and its cursors."""

    items: Sequence[T]
    has_next: bool
    has_previous: bool
    connection: str
    order: Order
    sort: Sort

    def cursor(self, item: T) -> str:
        return encode_key_cursor(self.connection, order_label(self.order), self.sort.key(item))


def page_size(ctx: RequestContext, first: int | None, name: str = "first") -> int:
    """`first` (or `last`), defaulted and checked for sign. Its maximum is checked once,
    for the whole request, before any resolver runs (MAX_FIRST_EXCEEDED, schema.cost)."""
    if first is None:
        return ctx.limits.default_first
    if first < 0:
        raise BadInput(f"`{name}` must not be negative")
    return first


def order_of(field: str | None, direction: str | None, default: Order) -> Order:
    """The order asked for: the default without a field; PRIORITY reads highest first
    unless a direction is given, every other field lowest first."""
    if field is None:
        return default if direction is None else Order(default.field, direction == "desc")
    if direction is None:
        return Order(field, descending=field == "priority")
    return Order(field, descending=direction == "desc")


def order_label(order: Order) -> str:
    """The order in the API's words ("PRIORITY DESC"): in cursors and in messages."""
    name = "DATABASE_ID" if order.field == "id" else order.field.upper()
    return f"{name} {'DESC' if order.descending else 'ASC'}"


def page_window(
    ctx: RequestContext, args: PageArgs, connection: str, sort: Sort, order: Order
) -> Slice:
    """The slice the arguments ask for; cursors must have been made for this order."""
    if args.first is not None and args.last is not None:
        raise BadInput("Give `first` or `last`, not both")
    backward = args.last is not None
    size = page_size(ctx, args.last, "last") if backward else page_size(ctx, args.first)
    if args.after is None and args.before is None:
        return _uncut(size, backward)
    return Slice(
        size,
        backward=backward,
        after=_cursor_key("after", args.after, connection, sort, order),
        before=_cursor_key("before", args.before, connection, sort, order),
    )


@lru_cache(maxsize=256)
def _uncut(size: int, backward: bool) -> Slice:
    """The slice without cursors: the same object for every parent of a level."""
    return Slice(size, backward=backward)


def link_conditions(
    priority: Range[int] | None, added_at: Range[datetime] | None
) -> LinkConditions | None:
    """Conditions on links from a LinkFilter; times must say their offset."""
    bounds = (("gte", added_at.gte), ("lte", added_at.lte)) if added_at else ()
    for side, moment in bounds:
        if moment is not None and moment.tzinfo is None:
            raise BadInput(
                f"`filter.addedAt.{side}` needs a time zone offset, e.g. 2026-01-31T09:00:00Z"
            )
    if priority is None and added_at is None:
        return None
    return LinkConditions(priority, added_at)


def paged(
    found: tuple[Sequence[T], bool], window: Slice, connection: str, order: Order, sort: Sort
) -> Paged[T]:
    """Relay's flags: beyond the page in the reading direction is `found`'s second part;
    the other side has more when a cursor bounds it (as the spec allows, not counted)."""
    items, more = found
    if window.backward:
        return Paged(items, window.before is not None, more, connection, order, sort)
    return Paged(items, more, window.after is not None, connection, order, sort)


# -- lookups -----------------------------------------------------------------------------


async def node(ctx: RequestContext, global_id: str) -> Node | None:
    """The product or tag with this global id; None for unknown or malformed ids."""
    try:
        type_name, database_id = decode_id(global_id)
    except BadId:
        return None
    if type_name == "Product":
        return await ctx.loaders.product.load(database_id)
    if type_name == "Tag":
        return await ctx.loaders.tag.load(database_id)
    return None


async def nodes(ctx: RequestContext, global_ids: Sequence[str]) -> list[Node | None]:
    """The nodes in order; all ids are asked for at once, so each loader batches them."""
    _check_items(ctx, "ids", len(global_ids))
    return list(await asyncio.gather(*(node(ctx, gid) for gid in global_ids)))


async def product(ctx: RequestContext, global_id: str) -> ProductRecord | None:
    found = await node(ctx, global_id)
    return found if isinstance(found, ProductRecord) else None


async def tag(ctx: RequestContext, global_id: str | None, name: str | None) -> TagRecord | None:
    """A tag by id or by name (trimmed, case-insensitive); exactly one must be given."""
    if (global_id is None) == (name is None):
        raise BadInput("Give exactly one of `id` and `name`")
    if global_id is not None:
        found = await node(ctx, global_id)
        return found if isinstance(found, TagRecord) else None
    try:
        key = names.tag_key(names.tag_name(name or ""))
    except Invalid:
        return None
    return await ctx.loaders.tag_by_key.load(key)


# -- top-level lists ---------------------------------------------------------------------


def product_filter(
    ctx: RequestContext,
    name_contains: str | None,
    tags: TagMatchArgs | None,
    tag_names: TagMatchArgs | None = None,
) -> ProductFilter | None:
    if name_contains is None and tags is None and tag_names is None:
        return None
    tags = tags or TagMatchArgs()
    tag_names = tag_names or TagMatchArgs()
    return ProductFilter(
        name_contains=_name_part("filter.nameContains", name_contains),
        any_tags=None if tags.any is None else _tag_ids(ctx, "filter.tags.any", tags.any),
        all_tags=_tag_ids(ctx, "filter.tags.all", tags.all or ()),
        none_tags=_tag_ids(ctx, "filter.tags.none", tags.none or ()),
        tags_priority=tags.priority,
        any_names=None
        if tag_names.any is None
        else _tag_keys(ctx, "filter.tagNames.any", tag_names.any),
        all_names=_tag_keys(ctx, "filter.tagNames.all", tag_names.all or ()),
        none_names=_tag_keys(ctx, "filter.tagNames.none", tag_names.none or ()),
        names_priority=tag_names.priority,
    )


async def products(
    ctx: RequestContext, args: PageArgs, order: Order, where: ProductFilter | None
) -> Paged[ProductRecord]:
    """A page of products in the order asked for (by databaseId when none is)."""
    sort = orders.PRODUCTS[order.field]
    window = page_window(ctx, args, "products", sort, order)
    page = await ctx.catalog().products_page(window, order, where, timestamps=ctx.timestamps)
    ctx.nodes_read += len(page.items)
    return paged((page.items, page.has_next), window, "products", order, sort)


async def products_total(ctx: RequestContext, where: ProductFilter | None) -> int:
    return await ctx.catalog().count_products(where)


async def tags(
    ctx: RequestContext, args: PageArgs, order: Order, name_contains: str | None
) -> Paged[TagRecord]:
    """A page of tags in the order asked for (by name, case-insensitively, when none is)."""
    sort = orders.TAGS[order.field]
    window = page_window(ctx, args, "tags", sort, order)
    name_part = _name_part("filter.nameContains", name_contains)
    page = await ctx.catalog().tags_page(window, order, name_part, timestamps=ctx.timestamps)
    ctx.nodes_read += len(page.items)
    return paged((page.items, page.has_next), window, "tags", order, sort)


async def tags_total(ctx: RequestContext, name_contains: str | None) -> int:
    return await ctx.catalog().count_tags(name_contains)


# -- nested, batched through the request's loaders ---------------------------------------


# These hand back the loader's future itself rather than a coroutine: a level of a query
# then waits on plain futures, without a task per parent.


def tags_of_product(
    ctx: RequestContext,
    product_id: int,
    args: PageArgs,
    order: Order,
    where: LinkConditions | None,
    shape: Callable[[Paged[TagLink]], R],
) -> Awaitable[R]:
    """A page of a product's tags (by priority DESC, then name, when no order is asked),
    shaped into what the field returns."""
    sort = orders.TAG_LINKS[order.field]
    window = page_window(ctx, args, "Product.tags", sort, order)
    found = ctx.loaders.tags_page.load((product_id, window, order, where))
    return then(
        found, lambda page: shape(paged(_read(ctx, page), window, "Product.tags", order, sort))
    )


def products_of_tag(
    ctx: RequestContext,
    tag_id: int,
    args: PageArgs,
    order: Order,
    where: LinkConditions | None,
    shape: Callable[[Paged[ProductLink]], R],
) -> Awaitable[R]:
    """A page of a tag's products (by databaseId when no order is asked), shaped."""
    sort = orders.PRODUCT_LINKS[order.field]
    window = page_window(ctx, args, "Tag.products", sort, order)
    found = ctx.loaders.products_page.load((tag_id, window, order, where))
    return then(
        found, lambda page: shape(paged(_read(ctx, page), window, "Tag.products", order, sort))
    )


def _read(ctx: RequestContext, page: tuple[Sequence[T], bool]) -> tuple[Sequence[T], bool]:
    """A page as it comes from its loader, its rows counted as read (RequestContext)."""
    ctx.nodes_read += len(page[0])
    return page


def tag_count(ctx: RequestContext, product_id: int, where: LinkConditions | None) -> Awaitable[int]:
    return ctx.loaders.tag_count.load((product_id, where))


def product_count(ctx: RequestContext, tag_id: int, where: LinkConditions | None) -> Awaitable[int]:
    return ctx.loaders.product_count.load((tag_id, where))


async def has_tags(
    ctx: RequestContext,
    product_id: int,
    global_ids: Sequence[str] | None,
    tag_names: Sequence[str] | None,
    match_all: bool,
) -> bool:
    """Whether the product has all (or any) of the tags; unknown tags count as absent."""
    refs = list(global_ids or ()) + list(tag_names or ())
    _check_items(ctx, "ids and names", len(refs))
    wanted: list[int] = []
    unknown = 0
    for gid in global_ids or ():
        try:
            wanted.append(decode_id(gid, "Tag")[1])
        except BadId as error:
            raise BadInput(f"hasTags(ids): {error}") from error
    keys: list[str] = []
    for name in tag_names or ():
        try:
            keys.append(names.tag_key(names.tag_name(name)))
        except Invalid:
            unknown += 1  # no tag can have an invalid name
    for found in await ctx.loaders.tag_by_key.load_many(keys):
        if found is None:
            unknown += 1
        else:
            wanted.append(found.id)
    if match_all and unknown:
        return False
    wanted_ids = tuple(sorted(set(wanted)))
    have = await ctx.loaders.tag_ids_among.load((product_id, wanted_ids))
    return has_match(have, wanted_ids, "all" if match_all else "any")


# -- inside ------------------------------------------------------------------------------


def _cursor_key(
    name: str, value: str | None, connection: str, sort: Sort, order: Order
) -> Key | None:
    if value is None:
        return None
    label = order_label(order)
    try:
        key = decode_key_cursor(value, connection, label, sort.types)
    except OtherOrder as error:
        raise InvalidArgument(
            f"`{name}`: this cursor was made for orderBy {error.made_for}, not {label}; "
            "page with the order the cursor came from, or start again without a cursor"
        ) from error
    except ValueError as error:
        raise BadInput(f"`{name}`: {error}") from error
    if any(isinstance(part, str) and "\x00" in part for part in key):
        # Our cursors carry names, which never hold NUL (PostgreSQL cannot compare it).
        raise BadInput(f"`{name}`: not a valid cursor (it holds a NUL character)")
    return key


def _name_part(field: str, value: str | None) -> str | None:
    """A substring to look for in names: no name holds NUL, and PostgreSQL cannot search it."""
    if value is not None and "\x00" in value:
        raise BadInput(f"`{field}` must not contain NUL characters")
    return value


def _tag_ids(ctx: RequestContext, field: str, global_ids: Sequence[str]) -> tuple[int, ...]:
    _check_items(ctx, field, len(global_ids))
    try:
        return tuple(decode_id(gid, "Tag")[1] for gid in global_ids)
    except BadId as error:
        raise BadInput(f"`{field}`: {error}") from error


def _tag_keys(ctx: RequestContext, field: str, given: Sequence[str]) -> tuple[str, ...]:
    """Names as tags compare them (trimmed, case-folded). A name no tag could have becomes
    the empty key, which no tag has: it matches nothing, like any unknown name."""
    _check_items(ctx, field, len(given))
    keys = []
    for name in given:
        try:
            keys.append(names.tag_key(names.tag_name(name)))
        except Invalid:
            keys.append("")
    return tuple(keys)


def _check_items(ctx: RequestContext, field: str, count: int) -> None:
    if count > ctx.limits.max_items:
        raise LimitExceeded(
            "MAX_ITEMS_EXCEEDED",
            f"`{field}`: at most {ctx.limits.max_items} items per request, got {count}",
        )
