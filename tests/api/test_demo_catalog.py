"""The demo catalog (`catalog seed --demo`) shows what the junction carries.

Its links have varied priorities and addedAt times, so the orders and filters a newcomer
tries in GraphiQL (and the README's tour) give visibly different answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.seed import seed_demo
from tests.api.conftest import gql_data

PRODUCTS = 40
TAGS_IN_EVERY_ORDER = """
{ products(first: 40) { nodes {
    byPriority: tags(orderBy: {field: PRIORITY}) { edges { priority addedAt node { name } } }
    byName: tags(orderBy: {field: NAME}) { nodes { name } }
    byAddedAt: tags(orderBy: {field: ADDED_AT}) { nodes { name } }
} } }
"""


@pytest.fixture
async def demo(engine: AsyncEngine) -> AsyncIterator[None]:
    async with engine.connect() as connection:
        await seed_demo(connection, products_count=PRODUCTS)
    yield


async def tags_in_every_order(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    data = await gql_data(client, TAGS_IN_EVERY_ORDER)
    nodes: list[dict[str, Any]] = data["products"]["nodes"]
    assert len(nodes) == PRODUCTS
    return nodes


async def test_the_demo_links_have_varied_priorities_and_times(
    client: httpx.AsyncClient, demo: None
) -> None:
    edges = [
        edge for node in await tags_in_every_order(client) for edge in node["byPriority"]["edges"]
    ]
    priorities = {edge["priority"] for edge in edges}
    times = sorted(datetime.fromisoformat(edge["addedAt"]) for edge in edges)
    assert len(priorities) > 3, priorities
    assert min(priorities) < 0 < max(priorities)
    assert len(set(times)) > len(edges) // 2
    assert times[-1] - times[0] > timedelta(weeks=4)


async def test_ordering_demo_tags_by_priority_name_or_added_at_differs(
    client: httpx.AsyncClient, demo: None
) -> None:
    nodes = await tags_in_every_order(client)
    by_priority = [[edge["node"]["name"] for edge in node["byPriority"]["edges"]] for node in nodes]
    by_name = [[tag["name"] for tag in node["byName"]["nodes"]] for node in nodes]
    by_added_at = [[tag["name"] for tag in node["byAddedAt"]["nodes"]] for node in nodes]
    assert any(p != n for p, n in zip(by_priority, by_name, strict=True))
    assert any(a != n for a, n in zip(by_added_at, by_name, strict=True))
    assert any(a != p for a, p in zip(by_added_at, by_priority, strict=True))


async def test_filtering_demo_products_by_link_priority_keeps_fewer(
    client: httpx.AsyncClient, demo: None
) -> None:
    data = await gql_data(
        client,
        """{ all: products(filter: {tagNames: {any: ["Sale", "New", "Eco"]}}) { totalCount }
             high: products(filter: {tagNames: {any: ["Sale", "New", "Eco"],
                                                 priority: {gte: 2}}}) { totalCount } }""",
    )
    assert 0 < data["high"]["totalCount"] < data["all"]["totalCount"]
