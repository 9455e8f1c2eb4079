"""Batch readers: each is ONE SQL statement, whatever the number of parents.

They feed the GraphQL dataloaders, so a request costs statements per level of nesting,
never per row.

Timestamps are the dearest values a row holds: asyncpg makes each one a timezone-aware
datetime through timedelta arithmetic, three objects per value, and a page of 1,100 links
spends three quarters of its decoding on them (2.4 ms against 0.6 ms without them). A
request whose documents ask for no timestamp, nor for a cursor (which may hold one), reads
them as NULL instead (`timestamps=False`): its records hold None there, and no field that
reads them runs in such a request (schema.plans decides which requests they are).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, null, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from db import orders
from db.connections import read
from db.dialects import among
from db.models import product_tags, products, tags
from db.paging import (
    LinkConditions,
    Order,
    RangeShape,
    Shape,
    Slice,
    cut,
    range_conditions,
    range_params,
    range_shape,
    slice_params,
    slice_shape,
    take,
)
from db.records import ProductLink, ProductRecord, TagLink, TagRecord

TAG_COLUMNS = (tags.c.id, tags.c.name, tags.c.name_key, tags.c.created_at)
PRODUCT_COLUMNS = (products.c.id, products.c.name, products.c.created_at, products.c.updated_at)


# Rows by position (TAG_COLUMNS, PRODUCT_COLUMNS): SQLAlchemy's rows and asyncpg's records
# (db.connections.read) alike.


def _timestamp(column: Any, timestamps: bool) -> ColumnElement[Any]:
    """A timestamp column, or NULL in its place when the request reads no timestamps."""
    return column if timestamps else null().label(column.name)


def tag_columns(timestamps: bool) -> tuple[Any, ...]:
    """TAG_COLUMNS, the timestamp NULL unless `timestamps`."""
    return (*TAG_COLUMNS[:3], _timestamp(tags.c.created_at, timestamps))


def product_columns(timestamps: bool, table: Any = products) -> tuple[Any, ...]:
    """PRODUCT_COLUMNS (of `table`, products or an alias of it), the timestamps NULL unless
    `timestamps`."""
    created, updated = (
        _timestamp(table.c.created_at, timestamps),
        _timestamp(table.c.updated_at, timestamps),
    )
    return (table.c.id, table.c.name, created, updated)


def tag_record(row: Any) -> TagRecord:
    return TagRecord(row[0], row[1], row[2], row[3])


def product_record(row: Any) -> ProductRecord:
    return ProductRecord(row[0], row[1], row[2], row[3])


async def tags_by_ids(
    connection: AsyncConnection, ids: Collection[int], *, timestamps: bool = True
) -> dict[int, TagRecord]:
    """The tags with these ids; missing ids are simply absent."""
    statement = _tags_among(connection.engine.dialect.name, "id", timestamps)
    rows = await read(connection, statement, {"keys": list(ids)})
    return {row[0]: tag_record(row) for row in rows}


async def tags_by_keys(
    connection: AsyncConnection, keys: Collection[str], *, timestamps: bool = True
) -> dict[str, TagRecord]:
    """The tags whose name keys (see db.names.tag_key) are among these."""
    statement = _tags_among(connection.engine.dialect.name, "name_key", timestamps)
    rows = await read(connection, statement, {"keys": list(keys)})
    return {row[2]: tag_record(row) for row in rows}


async def products_by_ids(
    connection: AsyncConnection, ids: Collection[int], *, timestamps: bool = True
) -> dict[int, ProductRecord]:
    """The products with these ids; missing ids are simply absent."""
    statement = _products_among(connection.engine.dialect.name, timestamps)
    rows = await read(connection, statement, {"ids": list(ids)})
    return {row[0]: product_record(row) for row in rows}


async def tags_for_products(
    connection: AsyncConnection,
    product_ids: Collection[int],
    window: Slice,
    order: Order = orders.TAG_LINKS_DEFAULT,
    where: LinkConditions | None = None,
    *,
    timestamps: bool = True,
) -> dict[int, tuple[list[TagLink], bool]]:
    """A page of each product's tags, in any order of orders.TAG_LINKS, either direction.

    Shape (the default order, forwards):
        SELECT * FROM (
          SELECT pt.product_id, pt.priority, pt.added_at, t.*,
                 row_number() OVER (PARTITION BY pt.product_id
                                    ORDER BY pt.priority DESC, t.name_key, t.id) AS rn
          FROM product_tags pt JOIN tags t ON t.id = pt.tag_id
          WHERE pt.product_id IN (:ids) [AND the link conditions]
                [AND (priority, name_key, id) after :after] [AND ... before :before]
        ) WHERE rn <= :size + 1
    A backward slice (`last`) reads the reversed order and turns each page round.
    Returns {product_id: (links, more_beyond)}; products without tags are absent.
    """
    params = {"ids": list(product_ids), **slice_params(window), **_link_params(where)}
    statement = _tags_page(order, slice_shape(window), _link_shape(where), timestamps)
    grouped: dict[int, list[TagLink]] = defaultdict(list)
    for product_id, priority, added_at, tag_id, name, key, created_at, _rn in await read(
        connection, statement, params
    ):
        grouped[product_id].append(
            TagLink(TagRecord(tag_id, name, key, created_at), priority, added_at)
        )
    return {pid: take(links, window) for pid, links in grouped.items()}


async def products_for_tags(
    connection: AsyncConnection,
    tag_ids: Collection[int],
    window: Slice,
    order: Order = orders.PRODUCT_LINKS_DEFAULT,
    where: LinkConditions | None = None,
    *,
    timestamps: bool = True,
) -> dict[int, tuple[list[ProductLink], bool]]:
    """A page of each tag's products, in any order of orders.PRODUCT_LINKS, either direction.

    Shape on PostgreSQL (the default order, forwards): each tag reads its page off the
    (tag_id, product_id) index and stops there, whatever the number of its products:
        SELECT parent.id, w.priority, w.added_at, p.*, w.rn
        FROM tags parent JOIN LATERAL (
          SELECT product_id, priority, added_at,
                 row_number() OVER (ORDER BY product_id) AS rn
          FROM product_tags
          WHERE tag_id = parent.id [AND the link conditions]
                [AND product_id > :after] [AND product_id < :before]
          ORDER BY product_id LIMIT :size + 1
        ) w ON true JOIN products p ON p.id = w.product_id
        WHERE parent.id IN (:ids)
    For W2's 100 tags of about 100 products each, this took 5 ms where the window below,
    which sorts every link of every tag first, took 17-20 ms. Ordered by name, the lateral
    joins the products it sorts by.

    Shape elsewhere (SQLite has no LATERAL):
        SELECT w.tag_id, pt.priority, pt.added_at, p.*, w.rn FROM (
          SELECT tag_id, product_id,
                 row_number() OVER (PARTITION BY tag_id ORDER BY product_id) AS rn
          FROM product_tags
          WHERE tag_id IN (:ids) [AND the link conditions]
                [AND product_id > :after] [AND product_id < :before]
        ) w
        JOIN product_tags pt ON (pt.product_id, pt.tag_id) = (w.product_id, w.tag_id)
        JOIN products p ON p.id = w.product_id
        WHERE w.rn <= :size + 1
    By id, the window reads only the (tag_id, product_id) index, and only the rows that
    survive it are joined to the junction's own columns and the products: a popular tag
    has thousands of products, and joining them all first made this the slowest statement
    of a request. Ordering by name joins products inside the window (it sorts by them).
    Returns {tag_id: (links, more_beyond)}; tags without products are absent.
    """
    params = {"ids": list(tag_ids), **slice_params(window), **_link_params(where)}
    dialect = connection.engine.dialect.name
    shape, link_shape = slice_shape(window), _link_shape(where)
    statement = (
        _products_page_lateral(order, shape, link_shape, timestamps)
        if dialect == "postgresql"
        else _products_page(order, shape, link_shape, timestamps)
    )
    grouped: dict[int, list[ProductLink]] = defaultdict(list)
    for tag_id, priority, added_at, product_id, name, created_at, updated_at, _rn in await read(
        connection, statement, params
    ):
        product = ProductRecord(product_id, name, created_at, updated_at)
        grouped[tag_id].append(ProductLink(product, priority, added_at))
    return {tid: take(links, window) for tid, links in grouped.items()}


# Every statement is built once (per dialect, order, slice shape, conditions shape) and
# bound per call: building a select costs more Python time than the database spends
# running one. The lookups by key bind their keys as one array on PostgreSQL (see
# db.dialects.among). The paged and counting statements keep an expanding IN: with an
# array, PostgreSQL plans their joins and windows afresh at every execution (its generic
# plan, guessed for an array of unknown length, looks dearer than a custom one), which
# cost more time in the database than the expansion costs in Python.


@lru_cache(maxsize=8)
def _tags_among(dialect: str, key: str, timestamps: bool) -> Select[Any]:
    return select(*tag_columns(timestamps)).where(among(dialect, tags.c[key], "keys"))


@lru_cache(maxsize=4)
def _products_among(dialect: str, timestamps: bool) -> Select[Any]:
    return select(*product_columns(timestamps)).where(among(dialect, products.c.id, "ids"))


LinkShape = tuple[RangeShape, RangeShape]


def _link_shape(where: LinkConditions | None) -> LinkShape:
    if where is None:
        return (False, False), (False, False)
    return range_shape(where.priority), range_shape(where.added_at)


def _link_params(where: LinkConditions | None) -> dict[str, Any]:
    if where is None:
        return {}
    return {**range_params(where.priority, "priority"), **range_params(where.added_at, "added")}


def _link_conditions(shape: LinkShape) -> list[Any]:
    """The junction's columns within the bound ranges (bounds bound as :priority_gte, ...)."""
    priority, added = shape
    return range_conditions(product_tags.c.priority, priority, "priority") + range_conditions(
        product_tags.c.added_at, added, "added"
    )


@lru_cache(maxsize=512)
def _tags_page(order: Order, shape: Shape, link_shape: LinkShape, timestamps: bool) -> Select[Any]:
    ordering, keyset = cut(orders.TAG_LINKS[order.field], order, shape)
    rn = func.row_number().over(partition_by=product_tags.c.product_id, order_by=ordering)
    inner = (
        select(
            product_tags.c.product_id,
            product_tags.c.priority,
            _timestamp(product_tags.c.added_at, timestamps),
        )
        .add_columns(*tag_columns(timestamps), rn.label("rn"))
        .join(tags, tags.c.id == product_tags.c.tag_id)
        .where(product_tags.c.product_id.in_(bindparam("ids", expanding=True)))
        .where(*_link_conditions(link_shape), *keyset)
    )
    page = inner.subquery()
    return (
        select(page).where(page.c.rn <= bindparam("limit")).order_by(page.c.product_id, page.c.rn)
    )


@lru_cache(maxsize=512)
def _products_page(
    order: Order, shape: Shape, link_shape: LinkShape, timestamps: bool
) -> Select[Any]:
    ordering, keyset = cut(orders.PRODUCT_LINKS[order.field], order, shape)
    rn = func.row_number().over(partition_by=product_tags.c.tag_id, order_by=ordering)
    window = (
        select(product_tags.c.tag_id, product_tags.c.product_id, rn.label("rn"))
        .where(product_tags.c.tag_id.in_(bindparam("ids", expanding=True)))
        .where(*_link_conditions(link_shape), *keyset)
    )
    if order.field == "name":
        window = window.join(products, products.c.id == product_tags.c.product_id)
    page = window.subquery()
    link = product_tags.alias("link")
    return (
        select(
            page.c.tag_id,
            link.c.priority,
            _timestamp(link.c.added_at, timestamps),
            *product_columns(timestamps),
            page.c.rn,
        )
        .join(
            link,
            and_(link.c.product_id == page.c.product_id, link.c.tag_id == page.c.tag_id),
        )
        .join(products, products.c.id == page.c.product_id)
        .where(page.c.rn <= bindparam("limit"))
        .order_by(page.c.tag_id, page.c.rn)
    )


@lru_cache(maxsize=512)
def _products_page_lateral(
    order: Order, shape: Shape, link_shape: LinkShape, timestamps: bool
) -> Select[Any]:
    ordering, keyset = cut(orders.PRODUCT_LINKS[order.field], order, shape)
    parent = tags.alias("parent")
    page = (
        select(
            product_tags.c.product_id,
            product_tags.c.priority,
            _timestamp(product_tags.c.added_at, timestamps),
            func.row_number().over(order_by=ordering).label("rn"),
        )
        .where(product_tags.c.tag_id == parent.c.id)
        .where(*_link_conditions(link_shape), *keyset)
        .order_by(*ordering)
        .limit(bindparam("limit"))
    )
    if order.field == "name":  # it sorts by the products' names: join them inside
        page = page.join(products, products.c.id == product_tags.c.product_id)
    window = page.lateral("w")
    product = products.alias("product")  # not the lateral's own products (name order)
    return (
        select(
            parent.c.id.label("tag_id"),
            window.c.priority,
            window.c.added_at,
            *product_columns(timestamps, product),
            window.c.rn,
        )
        .select_from(parent)
        .join(window, true())
        .join(product, product.c.id == window.c.product_id)
        .where(parent.c.id.in_(bindparam("ids", expanding=True)))
        .order_by(parent.c.id, window.c.rn)
    )


async def tag_counts(
    connection: AsyncConnection, product_ids: Collection[int], where: LinkConditions | None = None
) -> dict[int, int]:
    """How many tags each product has (that meet the conditions); absent means 0."""
    statement = _counts("product_id", _link_shape(where))
    params = {"ids": list(product_ids), **_link_params(where)}
    return {pid: n for pid, n in await read(connection, statement, params)}


async def product_counts(
    connection: AsyncConnection, tag_ids: Collection[int], where: LinkConditions | None = None
) -> dict[int, int]:
    """How many products each tag has (by links that meet the conditions); absent means 0."""
    statement = _counts("tag_id", _link_shape(where))
    params = {"ids": list(tag_ids), **_link_params(where)}
    return {tid: n for tid, n in await read(connection, statement, params)}


@lru_cache(maxsize=64)
def _counts(parent: str, link_shape: LinkShape) -> Select[Any]:
    """SELECT <parent>, count(*) FROM product_tags WHERE <parent> among :ids ... GROUP BY 1"""
    column = product_tags.c[parent]
    return (
        select(column, func.count())
        .where(column.in_(bindparam("ids", expanding=True)))
        .where(*_link_conditions(link_shape))
        .group_by(column)
    )


async def tag_ids_among(
    connection: AsyncConnection, product_ids: Collection[int], tag_ids: Sequence[int]
) -> dict[int, set[int]]:
    """For each product, which of `tag_ids` it has: the basis of has-tags questions."""
    params = {"product_ids": list(product_ids), "tag_ids": list(tag_ids)}
    found: dict[int, set[int]] = defaultdict(set)
    for pid, tid in await read(connection, _links_among(), params):
        found[pid].add(tid)
    return found


@lru_cache(maxsize=1)
def _links_among() -> Select[Any]:
    return select(product_tags.c.product_id, product_tags.c.tag_id).where(
        product_tags.c.product_id.in_(bindparam("product_ids", expanding=True)),
        product_tags.c.tag_id.in_(bindparam("tag_ids", expanding=True)),
    )
