"""Products and tags themselves: create, rename, delete, look up and list.

Linking the two is the association service's job (db.associations); this module calls it
when a product is created with tags, inside the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from db import links, names, orders, readers
from db.associations import MAX_ITEMS, Associations
from db.changes import journal
from db.connections import read, write_transaction
from db.dialects import insert_ignoring_conflicts
from db.errors import Conflict, NotFound, TooMany
from db.models import is_storable_id, product_tags, products, tags, utcnow
from db.paging import Order, Range, Shape, Slice, Sort, cut, slice_params, slice_shape, take
from db.records import Changed, Page, ProductRecord, TagRecord
from db.references import TagRef, WantedTag

S = TypeVar("S", bound=Select[Any])


@dataclass(frozen=True, slots=True)
class ProductFilter:
    """Which products a listing keeps: a name substring and tag conditions, by tag id and
    by tag name key (see db.names.tag_key). Within each kind, only links whose priority
    lies in its range count: `any` keeps products linked to one of the tags within it,
    `all` those linked to every one within it, `none` those linked to none within it; a
    range alone keeps products with some link within it."""

    name_contains: str | None = None
    any_tags: tuple[int, ...] | None = None
    all_tags: tuple[int, ...] = ()
    none_tags: tuple[int, ...] = ()
    tags_priority: Range[int] | None = None
    any_names: tuple[str, ...] | None = None
    all_names: tuple[str, ...] = ()
    none_names: tuple[str, ...] = ()
    names_priority: Range[int] | None = None


class Catalog:
    """Products and tags, bound to one connection (one request)."""

    def __init__(self, connection: AsyncConnection, *, max_items: int = MAX_ITEMS) -> None:
        self._connection = connection
        self._max_items = max_items
        self._associations = Associations(connection, max_items=max_items)

    # -- products --------------------------------------------------------------------------

    async def create_product(
        self, name: str, tag_refs: Iterable[TagRef | WantedTag] = ()
    ) -> tuple[ProductRecord, Changed]:
        """Create a product, optionally tagged (each link with its priority), in one transaction."""
        clean = names.product_name(name)
        async with write_transaction(self._connection):
            now = utcnow()
            statement = (
                insert(products)
                .values(name=clean, created_at=now, updated_at=now)
                .returning(*readers.PRODUCT_COLUMNS)
            )
            product = readers.product_record((await self._connection.execute(statement)).one())
            journal(self._connection).note("PRODUCT_CREATED", product_id=product.id)
            changed = await self._associations.link(product.id, tag_refs)
            return product, changed

    async def update_product(self, product_id: int, *, name: str | None = None) -> ProductRecord:
        """Rename a product (a None name changes nothing but still checks it exists)."""
        values: dict[str, Any] = {"name": products.c.name}  # no-op update still returns the row
        if name is not None:
            clean = names.product_name(name)
            values = {"name": clean, "name_key": names.product_key(clean), "updated_at": utcnow()}
        _require_storable(product_id, "product")
        async with write_transaction(self._connection):
            statement = (
                update(products)
                .where(products.c.id == product_id)
                .values(**values)
                .returning(*readers.PRODUCT_COLUMNS)
            )
            row = (await self._connection.execute(statement)).first()
            if row is None:
                raise NotFound("product", [product_id])
            if name is not None:
                journal(self._connection).note("PRODUCT_UPDATED", product_id=product_id)
            return readers.product_record(row)

    async def delete_product(self, product_id: int) -> None:
        """Delete a product; its junction rows go with it (ON DELETE CASCADE)."""
        await self._delete(products, product_id, "product")

    # -- tags ------------------------------------------------------------------------------

    async def create_tag(self, name: str) -> TagRecord:
        """Create a tag; Conflict when a tag of the same name (case-insensitively) exists."""
        clean = names.tag_name(name)
        key = names.tag_key(clean)
        async with write_transaction(self._connection):
            row = {"name": clean, "name_key": key, "created_at": utcnow()}
            statement = insert_ignoring_conflicts(
                self._connection, tags, [row], on=["name_key"]
            ).returning(*readers.TAG_COLUMNS)
            created = (await self._connection.execute(statement)).first()
            if created is None:
                raise Conflict("name", clean)
            journal(self._connection).note("TAG_CREATED", tag_id=created.id)
            return readers.tag_record(created)

    async def update_tag(self, tag_id: int, *, name: str | None = None) -> TagRecord:
        """Rename a tag; Conflict when another tag already has the name."""
        values: dict[str, Any] = {"name": tags.c.name}  # no-op update still returns the row
        if name is not None:
            clean = names.tag_name(name)
            values = {"name": clean, "name_key": names.tag_key(clean)}
        _require_storable(tag_id, "tag")
        async with write_transaction(self._connection):
            statement = (
                update(tags)
                .where(tags.c.id == tag_id)
                .values(**values)
                .returning(*readers.TAG_COLUMNS)
            )
            try:
                row = (await self._connection.execute(statement)).first()
            except IntegrityError as error:
                raise Conflict("name", values["name"]) from error
            if row is None:
                raise NotFound("tag", [tag_id])
            if name is not None:
                journal(self._connection).note("TAG_UPDATED", tag_id=tag_id)
            return readers.tag_record(row)

    async def delete_tag(self, tag_id: int) -> None:
        """Delete a tag; its junction rows go with it (ON DELETE CASCADE)."""
        await self._delete(tags, tag_id, "tag")

    # -- reading ---------------------------------------------------------------------------

    async def tag_by_name(self, name: str) -> TagRecord | None:
        """The tag with this name, compared as tags are (trimmed, case-insensitive)."""
        key = names.tag_key(names.tag_name(name))
        return (await readers.tags_by_keys(self._connection, [key])).get(key)

    async def products_page(
        self,
        window: Slice,
        order: Order = orders.PRODUCTS_DEFAULT,
        where: ProductFilter | None = None,
        *,
        timestamps: bool = True,
    ) -> Page[ProductRecord]:
        """A page of products in any order of orders.PRODUCTS, either direction (their
        timestamps None unless `timestamps`, as db.readers reads them)."""
        if where is None:  # every product: a statement built once per order and shape
            statement = _all_products(order, slice_shape(window), timestamps)
            rows = await self._read_page(statement, window)
        else:
            columns = readers.product_columns(timestamps)
            query = self._filtered_products(select(*columns), where)
            rows = await self._page(query, orders.PRODUCTS[order.field], order, window)
        items, more = take([readers.product_record(r) for r in rows], window)
        return Page(items, more)

    async def count_products(self, where: ProductFilter | None = None) -> int:
        query = self._filtered_products(select(func.count()).select_from(products), where)
        return (await self._connection.execute(query)).scalar_one()

    async def tags_page(
        self,
        window: Slice,
        order: Order = orders.TAGS_DEFAULT,
        name_contains: str | None = None,
        *,
        timestamps: bool = True,
    ) -> Page[TagRecord]:
        """A page of tags in any order of orders.TAGS (by name: case-insensitively), their
        timestamps None unless `timestamps`."""
        needle = names.fold(name_contains or "")
        if not needle:  # every tag, as for products above
            statement = _all_tags(order, slice_shape(window), timestamps)
            rows = await self._read_page(statement, window)
        else:
            query = _tag_name_filter(select(*readers.tag_columns(timestamps)), needle)
            rows = await self._page(query, orders.TAGS[order.field], order, window)
        items, more = take([readers.tag_record(r) for r in rows], window)
        return Page(items, more)

    async def count_tags(self, name_contains: str | None = None) -> int:
        needle = names.fold(name_contains or "")
        query = _tag_name_filter(select(func.count()).select_from(tags), needle)
        return (await self._connection.execute(query)).scalar_one()

    # -- inside ----------------------------------------------------------------------------

    def _filtered_products(self, query: S, where: ProductFilter | None) -> S:
        if where is None:
            return query
        needle = names.fold(where.name_contains or "")
        if needle:  # compared folded, by the one rule of db.names (never lower() in SQL)
            query = query.where(products.c.name_key.contains(needle, autoescape=True))
        for field, items in (
            ("tags.any", where.any_tags),
            ("tags.all", where.all_tags),
            ("tags.none", where.none_tags),
            ("tagNames.any", where.any_names),
            ("tagNames.all", where.all_names),
            ("tagNames.none", where.none_names),
        ):
            if items is not None and len(items) > self._max_items:
                raise TooMany(field, self._max_items, len(items))
        by_id = _TagTerms(product_tags.c.tag_id, None, where.tags_priority)
        query = query.where(*by_id.conditions(where.any_tags, where.all_tags, where.none_tags))
        by_name = _TagTerms(tags.c.name_key, tags, where.names_priority)
        return query.where(*by_name.conditions(where.any_names, where.all_names, where.none_names))

    async def _page(self, query: S, sort: Sort, order: Order, window: Slice) -> list[Any]:
        """size + 1 rows of the slice, in reading order (see db.paging)."""
        statement = _sliced(query, sort, order, slice_shape(window))
        return list((await self._connection.execute(statement, slice_params(window))).all())

    async def _read_page(self, statement: Select[Any], window: Slice) -> list[Any]:
        """The rows of a page whose statement is built once: read as db.readers read,
        directly on the driver where the request's connection allows it."""
        return list(await read(self._connection, statement, slice_params(window)))

    async def _delete(self, table: Table, row_id: int, kind: str) -> None:
        """Delete a parent and its links. The row is locked FOR UPDATE first, so no link to
        it can be added meanwhile; its links are deleted by the service, which records
        each (ON DELETE CASCADE would take them unrecorded), then the row itself."""
        _require_storable(row_id, kind)
        async with write_transaction(self._connection):
            locked = select(table.c.id).where(table.c.id == row_id).with_for_update()
            if (await self._connection.execute(locked)).first() is None:
                raise NotFound(kind, [row_id])
            side = product_tags.c.product_id if table is products else product_tags.c.tag_id
            await links.remove_where(self._connection, side == row_id)
            await self._connection.execute(delete(table).where(table.c.id == row_id))
            if table is products:
                journal(self._connection).note("PRODUCT_DELETED", product_id=row_id)
            else:
                journal(self._connection).note("TAG_DELETED", tag_id=row_id)


@dataclass(frozen=True, slots=True)
class _TagTerms:
    """any/all/none over one way of naming tags (ids, or name keys through `join`)."""

    column: ColumnElement[Any]
    join: Table | None
    priority: Range[int] | None

    def conditions(
        self, any_of: Sequence[Any] | None, all_of: Sequence[Any], none_of: Sequence[Any]
    ) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if any_of is not None:
            found.append(self._linked(any_of))
        found.extend(self._linked([item]) for item in sorted(set(all_of)))
        if none_of:
            found.append(~self._linked(none_of))
        if not found and self.priority is not None:
            found.append(self._linked(None))
        return found

    def _linked(self, items: Sequence[Any] | None) -> ColumnElement[bool]:
        """EXISTS (a link of this product [to one of the items] within the priority range)"""
        links = select(product_tags.c.product_id).where(product_tags.c.product_id == products.c.id)
        if self.join is not None:
            links = links.join(self.join, self.join.c.id == product_tags.c.tag_id)
        if items is not None:
            links = links.where(self.column.in_(items))
        if self.priority is not None and self.priority.gte is not None:
            links = links.where(product_tags.c.priority >= self.priority.gte)
        if self.priority is not None and self.priority.lte is not None:
            links = links.where(product_tags.c.priority <= self.priority.lte)
        return links.exists()


def _sliced(query: S, sort: Sort, order: Order, shape: Shape) -> S:
    """The query cut to a slice of this shape: size + 1 rows in reading order (db.paging)."""
    ordering, keyset = cut(sort, order, shape)
    return query.where(*keyset).order_by(*ordering).limit(bindparam("limit"))


# The unfiltered pages (a product list, a tag list) are the common root reads: their
# statements depend only on the order, the slice's shape and the timestamps, so each is
# built once and read like db.readers' statements, not built and compiled per request.
# 3 orders x 2 directions x 8 slice shapes x 2 (timestamps or not): 96 at most, all kept.


@lru_cache(maxsize=128)
def _all_products(order: Order, shape: Shape, timestamps: bool) -> Select[Any]:
    query = select(*readers.product_columns(timestamps))
    return _sliced(query, orders.PRODUCTS[order.field], order, shape)


@lru_cache(maxsize=128)
def _all_tags(order: Order, shape: Shape, timestamps: bool) -> Select[Any]:
    query = select(*readers.tag_columns(timestamps))
    return _sliced(query, orders.TAGS[order.field], order, shape)


def _tag_name_filter(query: S, needle: str) -> S:
    """Tags whose folded name contains the folded needle (none: every tag)."""
    if not needle:
        return query
    return query.where(tags.c.name_key.contains(needle, autoescape=True))


def _require_storable(row_id: int, kind: str) -> None:
    if not is_storable_id(row_id):
        raise NotFound(kind, [row_id])
