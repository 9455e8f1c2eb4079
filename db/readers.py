"""Batch readers: each is ONE SQL statement, whatever the number of parents.

They feed the GraphQL dataloaders, so a request costs statements per level of nesting,
never per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from functools import cache
from typing import Any

from sqlalchemy import BindParameter, Select, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import product_tags, products, tags
from db.records import ProductLink, ProductRecord, TagLink, TagLinkKey, TagRecord

TAG_COLUMNS = (tags.c.id, tags.c.name, tags.c.name_key, tags.c.created_at)
PRODUCT_COLUMNS = (products.c.id, products.c.name, products.c.created_at, products.c.updated_at)


def tag_record(row: Any) -> TagRecord:
    return TagRecord(row.id, row.name, row.name_key, row.created_at)


def product_record(row: Any) -> ProductRecord:
    return ProductRecord(row.id, row.name, row.created_at, row.updated_at)


async def tags_by_ids(session: AsyncSession, ids: Collection[int]) -> dict[int, TagRecord]:
    """The tags with these ids; missing ids are simply absent."""
    rows = await session.execute(select(*TAG_COLUMNS).where(tags.c.id.in_(ids)))
    return {row.id: tag_record(row) for row in rows}


async def tags_by_keys(session: AsyncSession, keys: Collection[str]) -> dict[str, TagRecord]:
    """The tags whose name keys (see db.names.tag_key) are among these."""
    rows = await session.execute(select(*TAG_COLUMNS).where(tags.c.name_key.in_(keys)))
    return {row.name_key: tag_record(row) for row in rows}


async def products_by_ids(session: AsyncSession, ids: Collection[int]) -> dict[int, ProductRecord]:
    """The products with these ids; missing ids are simply absent."""
    rows = await session.execute(select(*PRODUCT_COLUMNS).where(products.c.id.in_(ids)))
    return {row.id: product_record(row) for row in rows}


async def tags_for_products(
    session: AsyncSession,
    product_ids: Collection[int],
    first: int,
    after: TagLinkKey | None = None,
) -> dict[int, tuple[list[TagLink], bool]]:
    """A page of each product's tags, by priority DESC, then name, then id.

    Shape:
        SELECT * FROM (
          SELECT pt.product_id, pt.priority, pt.added_at, t.*,
                 row_number() OVER (PARTITION BY pt.product_id
                                    ORDER BY pt.priority DESC, t.name_key, t.id) AS rn
          FROM product_tags pt JOIN tags t ON t.id = pt.tag_id
          WHERE pt.product_id IN (:ids) [AND (priority, name_key, id) after the cursor]
        ) WHERE rn <= :first + 1
    Returns {product_id: (links, has_next_page)}; products without tags are absent.
    """
    params: dict[str, object] = {"ids": list(product_ids), "limit": first + 1}
    if after is not None:
        params.update(priority=after.priority, name_key=after.name_key, tag_id=after.tag_id)
    grouped: dict[int, list[TagLink]] = defaultdict(list)
    rows = (await session.execute(_tags_page(after is not None), params)).all()
    for product_id, priority, added_at, tag_id, name, key, created_at, _rn in rows:
        grouped[product_id].append(
            TagLink(TagRecord(tag_id, name, key, created_at), priority, added_at)
        )
    return {pid: (links[:first], len(links) > first) for pid, links in grouped.items()}


async def products_for_tags(
    session: AsyncSession,
    tag_ids: Collection[int],
    first: int,
    after: int | None = None,
) -> dict[int, tuple[list[ProductLink], bool]]:
    """A page of each tag's products, by product id ascending, resuming after `after`.

    Shape:
        SELECT w.tag_id, pt.priority, pt.added_at, p.*, w.rn FROM (
          SELECT tag_id, product_id,
                 row_number() OVER (PARTITION BY tag_id ORDER BY product_id) AS rn
          FROM product_tags
          WHERE tag_id IN (:ids) [AND product_id > :after]
        ) w
        JOIN product_tags pt ON (pt.product_id, pt.tag_id) = (w.product_id, w.tag_id)
        JOIN products p ON p.id = w.product_id
        WHERE w.rn <= :first + 1
    The window reads only the (tag_id, product_id) index, and only the rows that survive
    it are joined to the junction's own columns and the products: a popular tag has
    thousands of products, and joining them all first made this the slowest statement of
    a request.
    Returns {tag_id: (links, has_next_page)}; tags without products are absent.
    """
    params: dict[str, object] = {"ids": list(tag_ids), "limit": first + 1}
    if after is not None:
        params["after"] = after
    grouped: dict[int, list[ProductLink]] = defaultdict(list)
    rows = (await session.execute(_products_page(after is not None), params)).all()
    for tag_id, priority, added_at, product_id, name, created_at, updated_at, _rn in rows:
        product = ProductRecord(product_id, name, created_at, updated_at)
        grouped[tag_id].append(ProductLink(product, priority, added_at))
    return {tid: (links[:first], len(links) > first) for tid, links in grouped.items()}


# The paged statements are built once (per cursor variant) and bound per call: building a
# windowed subquery costs more Python time than the database spends running it.


@cache
def _tags_page(with_cursor: bool) -> Select[Any]:
    rn = func.row_number().over(
        partition_by=product_tags.c.product_id,
        order_by=(product_tags.c.priority.desc(), tags.c.name_key, tags.c.id),
    )
    inner = (
        select(product_tags.c.product_id, product_tags.c.priority, product_tags.c.added_at)
        .add_columns(*TAG_COLUMNS, rn.label("rn"))
        .join(tags, tags.c.id == product_tags.c.tag_id)
        .where(product_tags.c.product_id.in_(bindparam("ids", expanding=True)))
    )
    if with_cursor:
        priority: BindParameter[int] = bindparam("priority")
        key: BindParameter[str] = bindparam("name_key")
        inner = inner.where(
            or_(
                product_tags.c.priority < priority,
                and_(
                    product_tags.c.priority == priority,
                    or_(
                        tags.c.name_key > key,
                        and_(tags.c.name_key == key, tags.c.id > bindparam("tag_id")),
                    ),
                ),
            )
        )
    page = inner.subquery()
    return (
        select(page).where(page.c.rn <= bindparam("limit")).order_by(page.c.product_id, page.c.rn)
    )


@cache
def _products_page(with_cursor: bool) -> Select[Any]:
    rn = func.row_number().over(
        partition_by=product_tags.c.tag_id, order_by=product_tags.c.product_id
    )
    window = select(product_tags.c.tag_id, product_tags.c.product_id, rn.label("rn")).where(
        product_tags.c.tag_id.in_(bindparam("ids", expanding=True))
    )
    if with_cursor:
        window = window.where(product_tags.c.product_id > bindparam("after"))
    page = window.subquery()
    link = product_tags.alias("link")
    return (
        select(page.c.tag_id, link.c.priority, link.c.added_at, *PRODUCT_COLUMNS, page.c.rn)
        .join(
            link,
            and_(link.c.product_id == page.c.product_id, link.c.tag_id == page.c.tag_id),
        )
        .join(products, products.c.id == page.c.product_id)
        .where(page.c.rn <= bindparam("limit"))
        .order_by(page.c.tag_id, page.c.rn)
    )


async def tag_counts(session: AsyncSession, product_ids: Collection[int]) -> dict[int, int]:
    """How many tags each product has; products without tags are absent (count 0)."""
    query = (
        select(product_tags.c.product_id, func.count())
        .where(product_tags.c.product_id.in_(product_ids))
        .group_by(product_tags.c.product_id)
    )
    return {pid: n for pid, n in await session.execute(query)}


async def product_counts(session: AsyncSession, tag_ids: Collection[int]) -> dict[int, int]:
    """How many products each tag has; tags without products are absent (count 0)."""
    query = (
        select(product_tags.c.tag_id, func.count())
        .where(product_tags.c.tag_id.in_(tag_ids))
        .group_by(product_tags.c.tag_id)
    )
    return {tid: n for tid, n in await session.execute(query)}


async def tag_ids_among(
    session: AsyncSession, product_ids: Collection[int], tag_ids: Sequence[int]
) -> dict[int, set[int]]:
    """For each product, which of `tag_ids` it has: the basis of has-tags questions."""
    query = select(product_tags.c.product_id, product_tags.c.tag_id).where(
        product_tags.c.product_id.in_(product_ids), product_tags.c.tag_id.in_(tag_ids)
    )
    found: dict[int, set[int]] = defaultdict(set)
    for pid, tid in await session.execute(query):
        found[pid].add(tid)
    return found
