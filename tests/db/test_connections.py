"""A request's connection: checked out once, lazily; statements in turn; cancellation safe;
writes in one transaction on it; and a pool that keeps the connections it opened."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, literal, select, text
from sqlalchemy.exc import ResourceClosedError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from db import readers
from db.catalog import Catalog
from db.connections import open_request
from db.engine import create_engine
from db.models import products
from db.per_statement import BriefConnection
from resolvers.loaders import Loaders
from tests.db.rows import Factory
from tests.faults.conftest import backends_in_transaction


@contextmanager
def pool_events(engine: AsyncEngine) -> Iterator[dict[str, int]]:
    """Count the pool's checkouts, checkins and newly opened connections while the block
    runs."""
    counts = {"checkout": 0, "checkin": 0, "connect": 0}

    def checkout(*_args: object) -> None:
        counts["checkout"] += 1

    def checkin(*_args: object) -> None:
        counts["checkin"] += 1

    def connect(*_args: object) -> None:
        counts["connect"] += 1

    pool = engine.sync_engine.pool
    event.listen(pool, "checkout", checkout)
    event.listen(pool, "checkin", checkin)
    event.listen(pool, "connect", connect)
    try:
        yield counts
    finally:
        event.remove(pool, "checkout", checkout)
        event.remove(pool, "checkin", checkin)
        event.remove(pool, "connect", connect)


async def test_a_request_checks_out_one_connection_at_its_first_statement(
    engine: AsyncEngine, make: Factory
) -> None:
    ids = await make.products(*(f"P{i}" for i in range(20)))
    with pool_events(engine) as counts:
        connection = open_request(engine, writes=False)
        assert counts["checkout"] == 0
        found = await asyncio.gather(*(readers.products_by_ids(connection, [i]) for i in ids))
        await connection.close()

    assert [next(iter(f)) for f in found] == ids
    assert counts["checkout"] == 1


async def test_a_request_that_runs_no_statement_never_touches_the_pool(
    engine: AsyncEngine,
) -> None:
    with pool_events(engine) as counts:
        async with open_request(engine, writes=False):
            pass
    assert counts["checkout"] == 0


async def test_a_statement_after_the_request_ended_is_refused(engine: AsyncEngine) -> None:
    connection = open_request(engine, writes=False)
    await connection.execute(select(1))
    await connection.close()
    with pool_events(engine) as counts, pytest.raises(ResourceClosedError):
        await connection.execute(select(1))
    assert counts["checkout"] == 0


async def test_a_loader_batch_due_when_the_request_ends_still_runs(
    engine: AsyncEngine, make: Factory
) -> None:
    """A load asked for but not awaited (a field whose sibling failed, say) is dispatched
    on a later loop turn; closing lets it run first instead of failing it."""
    product = await make.product("Lamp")
    connection = open_request(engine, writes=False)
    pending = Loaders(connection, timestamps=False).product.load(product)

    await connection.close()

    record = await pending
    assert record is not None and record.name == "Lamp"


async def test_a_settled_request_gives_its_connection_back(engine: AsyncEngine) -> None:
    with pool_events(engine) as counts:
        async with open_request(engine, writes=False) as connection:
            assert (await connection.execute(select(1))).scalar_one() == 1
            connection.settled()
        assert counts["checkin"] == 1
        with pytest.raises(ResourceClosedError):
            await connection.execute(select(1))
    assert (counts["checkout"], counts["checkin"]) == (1, 1)


async def test_reads_after_a_write_see_it_and_run_outside_a_transaction_again(
    engine: AsyncEngine, backend: str
) -> None:
    async with open_request(engine, writes=True) as connection:
        assert (await readers.products_by_ids(connection, [1])) == {}
        product, _changed = await Catalog(connection).create_product("Lamp")
        assert (await readers.products_by_ids(connection, [product.id])) == {product.id: product}
        if backend == "postgres":
            raw = await connection.get_raw_connection()
            assert raw.driver_connection is not None
            assert not raw.driver_connection.is_in_transaction()


@pytest.mark.postgres_only
@pytest.mark.parametrize("way", ["execute", "read"])
async def test_a_read_cancelled_midway_loses_its_connection_and_the_next_read_gets_another(
    engine: AsyncEngine, admin: AsyncEngine, way: str
) -> None:
    """A connection whose statement is cancelled is invalidated (SQLAlchemy does it for an
    exit exception mid-statement, RequestConnection.read for its direct reads): closed,
    never pooled, its backend gone; the request's next read reconnects."""
    async with open_request(engine, writes=False) as connection:
        first_pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await getattr(connection, way)(text("SELECT pg_sleep(5)"))
        assert connection.invalidated
        pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        count = (await connection.execute(select(products.c.id))).all()

    assert pid != first_pid
    assert count == []
    assert await backends_in_transaction(admin) == []
    sleeping = text("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(5)'")
    async with admin.connect() as watcher:
        for _ in range(50):  # the closed connection's backend goes away within moments
            if (await watcher.execute(sleeping)).scalar_one() == 0:
                break
            await asyncio.sleep(0.1)
        assert (await watcher.execute(sleeping)).scalar_one() == 0


@pytest.mark.postgres_only
async def test_a_write_cancelled_midway_is_rolled_back_and_never_pooled_open(
    engine: AsyncEngine, admin: AsyncEngine, make: Factory
) -> None:
    tag = await make.tag("Sale")
    async with admin.begin() as holder:  # holds the tag, so the write waits on its lock
        await holder.execute(text("SELECT id FROM tags WHERE id = :id FOR UPDATE"), {"id": tag})
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5), open_request(engine, writes=True) as connection:
                await Catalog(connection).update_tag(tag, name="Clearance")
    async with open_request(engine, writes=False) as connection:
        names = (await connection.execute(text("SELECT name FROM tags"))).scalars().all()

    assert names == ["Sale"]
    assert await backends_in_transaction(admin) == []


@pytest.mark.postgres_only
async def test_the_end_of_a_cancelled_request_does_not_wait_for_a_sibling_statement(
    engine: AsyncEngine, admin: AsyncEngine
) -> None:
    """A loader's batch (a task of its own) still runs when the request's budget ends: the
    request's close cancels that statement instead of waiting for it."""
    started = time.perf_counter()
    sibling: asyncio.Task[object] | None = None
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3), open_request(engine, writes=False) as connection:
            sibling = asyncio.ensure_future(connection.execute(text("SELECT pg_sleep(5)")))
            await asyncio.sleep(10)
    assert sibling is not None
    await asyncio.wait([sibling])

    assert time.perf_counter() - started < 3
    assert sibling.cancelled()
    assert await backends_in_transaction(admin) == []


@pytest.mark.postgres_only
async def test_the_pool_keeps_the_connections_it_opened_across_bursts(database_url: str) -> None:
    """16 requests at once on a pool of 4: four connections open, once; no overflow opened
    and closed with every burst."""
    engine = create_engine(database_url, pool_size=4)
    try:
        with pool_events(engine) as counts:
            for _burst in range(3):

                async def request() -> None:
                    async with open_request(engine, writes=False) as connection:
                        await connection.execute(text("SELECT pg_sleep(0.02)"))

                await asyncio.gather(*(request() for _ in range(16)))
    finally:
        await engine.dispose()

    assert counts["checkout"] == 48
    assert counts["connect"] == 4


@pytest.fixture
async def admin(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine of the test's own, with transactions: to hold locks and watch backends."""
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


async def test_a_brief_connection_holds_no_pooled_connection_between_its_statements(
    engine: AsyncEngine,
) -> None:
    """The reads of a burst of live events are shared over a moment of unknown length:
    between statements they hold nothing of the pool."""
    out = [0]  # connections checked out and not yet back, counted by the pool's events

    def checked_out(*_args: object) -> None:
        out[0] += 1

    def checked_in(*_args: object) -> None:
        out[0] -= 1

    event.listen(engine.sync_engine, "checkout", checked_out)
    event.listen(engine.sync_engine, "checkin", checked_in)
    brief = BriefConnection(engine)
    try:
        for _ in range(3):
            rows = await brief.read(select(literal(1)))
            assert [tuple(r) for r in rows] == [(1,)]
            assert out[0] == 0
        many = await asyncio.gather(*(brief.read(select(literal(n))) for n in range(5)))
        assert [rows[0][0] for rows in many] == list(range(5))
        assert out[0] == 0
    finally:
        await brief.close()
        event.remove(engine.sync_engine, "checkout", checked_out)
        event.remove(engine.sync_engine, "checkin", checked_in)
