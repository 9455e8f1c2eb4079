"""How the query fields get their data: lookups, top-level lists and nested pages."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any

from db import names
from db.associations import has_match
from db.catalog import ProductFilter, TagCursor
from db.errors import Invalid
from db.records import Page, ProductLink, ProductRecord, TagLink, TagLinkKey, TagRecord
from resolvers.context import RequestContext
from resolvers.errors import BadInput, LimitExceeded
from resolvers.ids import BadId, decode_cursor, decode_id, encode_cursor

Node = ProductRecord | TagRecord


@dataclass(frozen=True, slots=True)
class TagMatchArgs:
    any: Sequence[str] | None = None
    all: Sequence[str] | None = None
    none: Sequence[str] | None = None


def page_size(ctx: RequestContext, first: int | None) -> int:
    """`first`, defaulted and checked: above the maximum is an error, never a silent clamp."""
    if first is None:
        return ctx.limits.default_first
    if first < 0:
        raise BadInput("`first` must not be negative")
    if first > ctx.limits.max_first:
        raise LimitExceeded(
            "MAX_FIRST_EXCEEDED", f"`first` may be at most {ctx.limits.max_first}, got {first}"
        )
    return first


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
    ctx: RequestContext, name_contains: str | None, tags: TagMatchArgs | None
) -> ProductFilter | None:
    if name_contains is None and tags is None:
        return None
    tags = tags or TagMatchArgs()
    return ProductFilter(
        name_contains=_name_part("filter.nameContains", name_contains),
        any_tags=None if tags.any is None else _tag_ids(ctx, "filter.tags.any", tags.any),
        all_tags=_tag_ids(ctx, "filter.tags.all", tags.all or ()),
        none_tags=_tag_ids(ctx, "filter.tags.none", tags.none or ()),
    )


async def products(
    ctx: RequestContext, first: int | None, after: str | None, where: ProductFilter | None
) -> Page[ProductRecord]:
    """Products by database id ascending."""
    size = page_size(ctx, first)
    after_id = None if after is None else _cursor(after, int)[0]
    return await ctx.catalog().products_page(size, after_id, where)


async def products_total(ctx: RequestContext, where: ProductFilter | None) -> int:
    return await ctx.catalog().count_products(where)


async def tags(
    ctx: RequestContext, first: int | None, after: str | None, name_contains: str | None
) -> Page[TagRecord]:
    """Tags by name ascending (case-insensitively)."""
    size = page_size(ctx, first)
    cursor = None if after is None else TagCursor(*_cursor(after, str, int))
    name_part = _name_part("filter.nameContains", name_contains)
    return await ctx.catalog().tags_page(size, cursor, name_part)


async def tags_total(ctx: RequestContext, name_contains: str | None) -> int:
    return await ctx.catalog().count_tags(name_contains)


def product_cursor(record: ProductRecord) -> str:
    return encode_cursor(record.id)


def tag_cursor(record: TagRecord) -> str:
    return encode_cursor(record.name_key, record.id)


# -- nested, batched through the request's loaders ---------------------------------------


# These hand back the loader's future itself rather than a coroutine: a level of a query
# then waits on plain futures, without a task per parent.


def tags_of_product(
    ctx: RequestContext, product_id: int, first: int | None, after: str | None
) -> Awaitable[tuple[list[TagLink], bool]]:
    """A page of a product's tags by priority DESC, then name."""
    size = page_size(ctx, first)
    key = None if after is None else TagLinkKey(*_cursor(after, int, str, int))
    return ctx.loaders.tags_page.load((product_id, size, key))


def products_of_tag(
    ctx: RequestContext, tag_id: int, first: int | None, after: str | None
) -> Awaitable[tuple[list[ProductLink], bool]]:
    """A page of a tag's products by product id ascending."""
    size = page_size(ctx, first)
    after_id = None if after is None else _cursor(after, int)[0]
    return ctx.loaders.products_page.load((tag_id, size, after_id))


def tag_count(ctx: RequestContext, product_id: int) -> Awaitable[int]:
    return ctx.loaders.tag_count.load(product_id)


def product_count(ctx: RequestContext, tag_id: int) -> Awaitable[int]:
    return ctx.loaders.product_count.load(tag_id)


def tag_link_cursor(link: TagLink) -> str:
    return encode_cursor(link.priority, link.tag.name_key, link.tag.id)


def product_link_cursor(link: ProductLink) -> str:
    return encode_cursor(link.product.id)


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


def _cursor(value: str, *types: type) -> tuple[Any, ...]:
    try:
        parts = decode_cursor(value, *types)
    except ValueError as error:
        raise BadInput(f"`after`: {error}") from error
    if any(isinstance(part, str) and "\x00" in part for part in parts):
        # Our cursors carry name keys, which never hold NUL (PostgreSQL cannot compare it).
        raise BadInput(f"`after`: {value!r} is not a valid cursor")
    return parts


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


def _check_items(ctx: RequestContext, field: str, count: int) -> None:
    if count > ctx.limits.max_items:
        raise LimitExceeded(
            "MAX_ITEMS_EXCEEDED",
            f"`{field}`: at most {ctx.limits.max_items} items per request, got {count}",
        )
