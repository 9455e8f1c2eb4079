"""Live updates batch like queries: a burst of changes costs the same statements whether one
subscriber or many follow it (one read of the log, one batch per loader)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.associations import Associations
from db.catalog import Catalog
from db.connections import open_request
from db.feed import ChangeFeed
from db.statements import record_statements
from resolvers.ids import encode_id
from resolvers.live import Bursts, LiveContext
from schema import build_schema

PRODUCT_CHANGED = """
subscription ($id: ID!) { productChanged(id: $id) { name tags { nodes { name } } } }
"""
CATALOG_CHANGES = """
subscription ($id: ID!) {
  catalogChanges(filter: {productIds: [$id]}) { kind product { name } tag { name } }
}
"""


async def burst_statements(engine: AsyncEngine, document: str, subscribers: int) -> int:
    """The statements one write's burst costs with `subscribers` following one product."""
    schema = build_schema()
    async with open_request(engine, writes=True) as db:
        product, _ = await Catalog(db).create_product("Lamp", ["Sale"])
    product_id = encode_id("Product", product.id)
    with record_statements() as log:  # the feed's task, started inside, records here too
        bursts = Bursts(engine)
        feed = ChangeFeed(engine, burst=bursts.new)
        await feed.ready()
        try:
            streams: list[Any] = []
            for _ in range(subscribers):
                context = LiveContext(feed, engine, limits=schema.limits, access="read")
                stream = await schema.subscribe(
                    document, variable_values={"id": product_id}, context_value=context
                )
                streams.append(stream)
            firsts = [asyncio.ensure_future(anext(stream)) for stream in streams]
            for _ in range(3000):  # each joins the feed as its first event is awaited
                if feed.subscribers == subscribers:
                    break
                await asyncio.sleep(0.01)
            assert feed.subscribers == subscribers
            before = log.count
            async with open_request(engine, writes=True) as db:
                await Associations(db).add_tags(product.id, ["New"], priority=3)
            after_write = log.count
            feed.wake()
            async with asyncio.timeout(30):
                results = await asyncio.gather(*firsts)
            assert all(not r.errors for r in results), results[0].errors
            assert all(r.data for r in results)
            for stream in streams:
                await stream.aclose()
            assert after_write > before  # the write itself is not the burst's
            return log.count - after_write
        finally:
            await feed.stop()
            await bursts.close()


@pytest.mark.parametrize("document", [PRODUCT_CHANGED, CATALOG_CHANGES], ids=["product", "log"])
async def test_a_burst_costs_the_same_statements_for_1_and_300_subscribers(
    engine: AsyncEngine, document: str
) -> None:
    one = await burst_statements(engine, document, 1)
    many = await burst_statements(engine, document, 300)

    print(f"a burst: {one} statements for 1 subscriber, {many} for 300")
    assert one == many
    # The log once, then one batch per loader the selection reads.
    assert one <= 4
