"""Per-request DataLoaders over the service's batch readers.

Each loader turns all the keys a level of the query asks for into one statement, so a
request's statement count follows the depth of the query, not the number of rows.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import cached_property, partial
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.dataloader import DataLoader

from db import readers
from db.paging import LinkConditions, Order, Slice
from db.records import ProductLink, ProductRecord, TagLink, TagRecord

V = TypeVar("V")
T = TypeVar("T")
R = TypeVar("R")

# (parent id, slice, order, conditions): one page of a parent's links.
PageKey = tuple[int, Slice, Order, LinkConditions | None]
# (parent id, conditions): how many links of a parent meet them.
CountKey = tuple[int, LinkConditions | None]
TagLinkPage = tuple[list[TagLink], bool]
ProductLinkPage = tuple[list[ProductLink], bool]
# (product id, tag ids asked about)
HasKey = tuple[int, tuple[int, ...]]


class Loaders:
    """The loaders of one request. Built fresh per request (and after each write).

    Each loader is made on first use: a request uses one or two of them. Each load
    function is a module function bound to the connection, not a method: a loader that
    pointed back at this object would make a reference cycle, and everything the request
    loaded would then wait for the cycle collector instead of being freed when the
    request ends (server/process/heap.py).

    `timestamps=False`: the request reads no timestamps, and its records hold None there
    (db.readers).
    """

    def __init__(self, connection: AsyncConnection, *, timestamps: bool = True) -> None:
        self._connection = connection
        self._timestamps = timestamps

    @cached_property
    def product(self) -> DataLoader[int, ProductRecord | None]:
        return DataLoader(partial(_products, self._connection, self._timestamps))

    @cached_property
    def tag(self) -> DataLoader[int, TagRecord | None]:
        return DataLoader(partial(_tags, self._connection, self._timestamps))

    @cached_property
    def tag_by_key(self) -> DataLoader[str, TagRecord | None]:
        return DataLoader(partial(_tags_by_key, self._connection, self._timestamps))

    @cached_property
    def tags_page(self) -> DataLoader[PageKey, TagLinkPage]:
        return DataLoader(partial(_tag_pages, self._connection, self._timestamps))

    @cached_property
    def products_page(self) -> DataLoader[PageKey, ProductLinkPage]:
        return DataLoader(partial(_product_pages, self._connection, self._timestamps))

    @cached_property
    def tag_count(self) -> DataLoader[CountKey, int]:
        return DataLoader(partial(_tag_counts, self._connection))

    @cached_property
    def product_count(self) -> DataLoader[CountKey, int]:
        return DataLoader(partial(_product_counts, self._connection))

    @cached_property
    def tag_ids_among(self) -> DataLoader[HasKey, set[int]]:
        return DataLoader(partial(_tag_ids_among, self._connection))


async def _products(
    connection: AsyncConnection, timestamps: bool, ids: Sequence[int]
) -> list[ProductRecord | None]:
    found = await readers.products_by_ids(connection, ids, timestamps=timestamps)
    return [found.get(i) for i in ids]


async def _tags(
    connection: AsyncConnection, timestamps: bool, ids: Sequence[int]
) -> list[TagRecord | None]:
    found = await readers.tags_by_ids(connection, ids, timestamps=timestamps)
    return [found.get(i) for i in ids]


async def _tags_by_key(
    connection: AsyncConnection, timestamps: bool, keys: Sequence[str]
) -> list[TagRecord | None]:
    found = await readers.tags_by_keys(connection, keys, timestamps=timestamps)
    return [found.get(k) for k in keys]


async def _tag_pages(
    connection: AsyncConnection, timestamps: bool, keys: Sequence[PageKey]
) -> list[TagLinkPage]:
    async def read(ids: list[int], args: tuple[Any, ...]) -> dict[int, TagLinkPage]:
        return await readers.tags_for_products(connection, ids, *args, timestamps=timestamps)

    return await _grouped(keys, read, ([], False))


async def _product_pages(
    connection: AsyncConnection, timestamps: bool, keys: Sequence[PageKey]
) -> list[ProductLinkPage]:
    async def read(ids: list[int], args: tuple[Any, ...]) -> dict[int, ProductLinkPage]:
        return await readers.products_for_tags(connection, ids, *args, timestamps=timestamps)

    return await _grouped(keys, read, ([], False))


async def _tag_counts(connection: AsyncConnection, keys: Sequence[CountKey]) -> list[int]:
    async def read(ids: list[int], args: tuple[Any, ...]) -> dict[int, int]:
        return await readers.tag_counts(connection, ids, *args)

    return await _grouped(keys, read, 0)


async def _product_counts(connection: AsyncConnection, keys: Sequence[CountKey]) -> list[int]:
    async def read(ids: list[int], args: tuple[Any, ...]) -> dict[int, int]:
        return await readers.product_counts(connection, ids, *args)

    return await _grouped(keys, read, 0)


async def _tag_ids_among(connection: AsyncConnection, keys: Sequence[HasKey]) -> list[set[int]]:
    async def read(ids: list[int], args: tuple[Any, ...]) -> dict[int, set[int]]:
        return await readers.tag_ids_among(connection, ids, args[0])

    return await _grouped(keys, read, set())


async def _grouped(
    keys: Sequence[tuple[Any, ...]],
    read: Callable[[list[int], tuple[Any, ...]], Awaitable[Mapping[int, V]]],
    empty: V,
) -> list[V]:
    """Answer keys (parent id, *args) with one read per distinct args (normally just one)."""
    by_args: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for key in keys:
        by_args[key[1:]].append(key[0])
    answers: dict[tuple[Any, ...], V] = {}
    for args, parent_ids in by_args.items():
        found = await read(list(dict.fromkeys(parent_ids)), args)
        for parent_id in parent_ids:
            answers[(parent_id, *args)] = found.get(parent_id, empty)
    return [answers[key] for key in keys]


def then(awaitable: Awaitable[T], shape: Callable[[T], R]) -> asyncio.Future[R]:
    """A future of `shape(result)`: the loaded value turned into what a field returns.

    Resolvers return this instead of awaiting in a coroutine, so a level of a query
    waits on plain futures rather than on a task per parent object.
    """
    source = asyncio.ensure_future(awaitable)
    shaped: asyncio.Future[R] = source.get_loop().create_future()

    def settle(done: asyncio.Future[T]) -> None:
        if shaped.done():
            return
        if done.cancelled():
            shaped.cancel()
        elif (error := done.exception()) is not None:
            shaped.set_exception(error)
        else:
            try:
                shaped.set_result(shape(done.result()))
            except Exception as failure:
                shaped.set_exception(failure)

    source.add_done_callback(settle)
    return shaped
