"""Reads on asyncpg directly (RequestConnection.read): the same rows as SQLAlchemy's,
counted alike, and as safe when a connection dies (a cancelled read: test_connections)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from db import readers
from db.catalog import Catalog
from db.connections import open_request, write_transaction
from db.dialects import is_unavailable
from db.paging import Order, Slice
from db.statements import record_statements
from tests.db.rows import Factory
from tests.faults.conftest import backends_in_transaction

pytestmark = pytest.mark.postgres_only

Reader = Callable[[AsyncConnection], Awaitable[Any]]


@pytest.fixture
async def admin(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url, isolation_level="AUTOCOMMIT")
    yield engine
    await engine.dispose()


def cursor_executions(engine: AsyncEngine) -> list[str]:
    """Statements that go through SQLAlchemy's cursor from now on (a direct read does not)."""
    seen: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda _c, _k, s, *_a: seen.append(s))
    return seen


async def catalog(make: Factory) -> tuple[list[int], list[int]]:
    products = await make.products("Lamp", "Desk", "Chair")
    tags = await make.tags("Sale", "New", "Eco")
    await make.link(products[0], *tags, priority=2)
    await make.link(products[1], tags[0])
    return products, tags


async def test_every_reader_reads_the_same_rows_directly_as_through_sqlalchemy(
    engine: AsyncEngine, make: Factory
) -> None:
    products, tags = await catalog(make)
    readings: list[Reader] = [
        lambda c: readers.products_by_ids(c, products),
        lambda c: readers.tags_by_ids(c, tags),
        lambda c: readers.tags_by_keys(c, ["sale", "eco", "none"]),
        lambda c: readers.tags_for_products(c, products, Slice(2)),
        # The same statement with other lists of the same lengths: laid out once, filled
        # in afresh (db.expansion).
        lambda c: readers.tags_for_products(c, products[:2], Slice(2)),
        lambda c: readers.tags_for_products(c, products[1:], Slice(1)),
        lambda c: readers.tags_for_products(c, products, Slice(2, backward=True)),
        lambda c: readers.products_for_tags(c, tags, Slice(5)),
        lambda c: readers.tag_counts(c, products),
        lambda c: readers.product_counts(c, tags),
        lambda c: readers.tag_ids_among(c, products, tags[:2]),
        # The unfiltered root pages, each statement built once per order and slice shape.
        lambda c: Catalog(c).products_page(Slice(2)),
        lambda c: Catalog(c).products_page(Slice(2, after=(products[0],))),
        lambda c: Catalog(c).products_page(Slice(2, backward=True), Order("name", True)),
        lambda c: Catalog(c).products_page(
            Slice(5, after=(datetime(2000, 1, 1, tzinfo=UTC), 0)), Order("created_at")
        ),
        lambda c: Catalog(c).tags_page(Slice(2)),
        lambda c: Catalog(c).tags_page(Slice(2, before=("sale", tags[0]))),
        lambda c: Catalog(c).tags_page(Slice(3), Order("created_at", True), timestamps=False),
    ]
    through_cursor = cursor_executions(engine)
    for reading in readings:
        async with open_request(engine, writes=False) as direct:
            with record_statements() as counted_direct:
                direct_answer = await reading(direct)
        cursor_before = len(through_cursor)
        async with open_request(engine, writes=False, direct_reads=False) as plain:
            with record_statements() as counted_plain:
                plain_answer = await reading(plain)

        assert direct_answer == plain_answer
        assert counted_direct.count == counted_plain.count == 1
        assert len(through_cursor) == cursor_before + 1  # the plain one only
    assert len(through_cursor) == len(readings)  # no direct read touched the cursor


async def test_a_read_inside_a_write_sees_the_write(engine: AsyncEngine, make: Factory) -> None:
    products, _tags = await catalog(make)
    async with open_request(engine, writes=True) as connection:
        async with write_transaction(connection, dry_run=True):
            await connection.execute(
                text("UPDATE products SET name = 'Lampe' WHERE id = :id"), {"id": products[0]}
            )
            inside = await readers.products_by_ids(connection, [products[0]])
        after = await readers.products_by_ids(connection, [products[0]])

    assert inside[products[0]].name == "Lampe"
    assert after[products[0]].name == "Lamp"  # the dry run rolled back


async def test_a_connection_that_died_fails_its_read_as_unavailable_then_the_next_reconnects(
    engine: AsyncEngine, admin: AsyncEngine, make: Factory
) -> None:
    products, _tags = await catalog(make)
    async with open_request(engine, writes=False) as connection:
        await readers.products_by_ids(connection, products)
        pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with admin.connect() as killer:
            await killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await asyncio.sleep(0.2)
        with pytest.raises(Exception) as failed:
            await readers.products_by_ids(connection, products)
        assert is_unavailable(failed.value), repr(failed.value)
        again = await readers.products_by_ids(connection, products)

    assert sorted(again) == sorted(products)
    assert await backends_in_transaction(admin) == []
