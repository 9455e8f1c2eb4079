"""A row lock held past the request's time budget: the waiting write gets a clear,
retryable answer before the budget runs out, and no pooled connection is left dirty.

The lock is held by a connection of the test's own (as a long transaction or a psql
session would hold it). Everything else goes through the app, as a client sees it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.associations import Associations
from db.catalog import Catalog
from db.connections import open_request
from db.engine import create_engine
from resolvers.ids import decode_id
from tests.faults.conftest import MakeClient, backends_in_transaction
from tests.hardening.api import WRITE, codes, create_product, post

SET_TAGS = """
mutation ($input: SetTagsInput!) {
  setTags(input: $input) { product { tags { nodes { name } } } userErrors { code } }
}
"""
COUNT = "{ products { totalCount } }"


@asynccontextmanager
async def row_locked(admin: AsyncEngine, product_id: int) -> AsyncIterator[AsyncConnection]:
    """Hold `SELECT ... FOR UPDATE` on one product until the block ends (then commit)."""
    async with admin.begin() as holder:
        await holder.execute(
            text("SELECT id FROM products WHERE id = :id FOR UPDATE"), {"id": product_id}
        )
        yield holder


async def holder_pid(holder: AsyncConnection) -> int:
    return int((await holder.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def thirty_reads_succeed(client: httpx.AsyncClient, expected_total: int) -> None:
    for _ in range(30):
        response = await post(client, COUNT)
        assert response.status_code == 200, response.text
        assert response.json() == {"data": {"products": {"totalCount": expected_total}}}


async def test_a_write_waiting_on_a_lock_past_the_budget_gets_try_again_and_the_pool_stays_clean(
    make_client: MakeClient, admin: AsyncEngine
) -> None:
    async with asyncio.timeout(120):
        budget = 6.0  # seconds; generous, so a loaded machine still answers before it
        client = make_client(request_timeout_ms=int(budget * 1000), db_pool_size=2)
        product = await create_product(client, "Lamp", ["Old"])
        variables = {"input": {"productId": product, "tagNames": ["New"]}}

        async with row_locked(admin, decode_id(product)[1]) as holder:
            locked_at = time.monotonic()
            response = await post(client, SET_TAGS, variables, headers=WRITE)
            # The database gave up waiting for the lock before the request's budget ran
            # out: a retryable answer, not a timeout and never an internal error.
            assert response.status_code == 503, response.text
            assert codes(response.json()) == ["TRY_AGAIN"], response.text
            assert response.headers["retry-after"].isdigit()

            await thirty_reads_succeed(client, 1)
            assert await backends_in_transaction(admin, besides=await holder_pid(holder)) == []
            await asyncio.sleep(budget + 0.5 - (time.monotonic() - locked_at))  # past the budget

        # Healthy the moment the lock is released: the very next write goes through.
        response = await post(client, SET_TAGS, variables, headers=WRITE)
        assert response.status_code == 200, response.text
        payload = response.json()["data"]["setTags"]
        assert payload == {"product": {"tags": {"nodes": [{"name": "New"}]}}, "userErrors": []}
        await thirty_reads_succeed(client, 1)
        assert await backends_in_transaction(admin) == []


async def test_a_write_cancelled_by_the_budget_mid_statement_never_returns_its_connection_dirty(
    database_url: str, admin: AsyncEngine
) -> None:
    """The last resort: the database sets no timeout and the asyncio budget cancels a write
    while its statement still waits for a lock. The connection must not go back to the pool
    inside the transaction (it is rolled back or discarded)."""
    engine = create_engine(database_url, pool_size=1)  # one connection, no overflow to hide in

    def sessions() -> AsyncConnection:
        return open_request(engine, writes=True)

    try:
        async with asyncio.timeout(120):
            async with sessions() as session:
                product, _changed = await Catalog(session).create_product("Lamp")

            async with row_locked(admin, product.id) as holder:
                try:
                    async with asyncio.timeout(0.5), sessions() as session:
                        await Associations(session).set_tags(product.id, ["New"])
                except TimeoutError:
                    pass
                else:
                    raise AssertionError("the write got through a held lock")

                for _ in range(30):
                    async with sessions() as session:
                        count = await session.execute(text("SELECT count(*) FROM products"))
                        assert count.scalar_one() == 1
                assert await backends_in_transaction(admin, besides=await holder_pid(holder)) == []

            async with sessions() as session:
                changed = await Associations(session).set_tags(product.id, ["New"])
            assert len(changed.added) == 1
            assert await backends_in_transaction(admin) == []
    finally:
        await engine.dispose()


async def test_a_connection_returned_inside_a_transaction_is_closed_not_pooled(
    database_url: str,
) -> None:
    """Whatever path leaves a transaction open behind SQLAlchemy's back, the pool's guard
    closes that connection instead of handing it to the next request."""
    engine = create_engine(database_url, pool_size=1)
    try:
        async with asyncio.timeout(60):
            async with engine.connect() as connection:
                first = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
                # The engine runs in autocommit: SQLAlchemy does not know of this BEGIN.
                await connection.exec_driver_sql("BEGIN")
            async with engine.connect() as connection:
                again = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
                driver = (await connection.get_raw_connection()).driver_connection
                assert driver is not None and not driver.is_in_transaction()
            assert again != first  # a new connection: the dirty one was closed
    finally:
        await engine.dispose()
