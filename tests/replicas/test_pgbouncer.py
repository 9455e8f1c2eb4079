"""The whole API through PgBouncer in transaction mode (CATALOG_DB_PGBOUNCER=true): queries
and mutations, one at a time and many at once on a pool of a few server connections, where
a statement prepared on one server connection and run on another would fail."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from clusters import PgBouncer, Replicated
from server.app import create_app
from server.config.settings import Settings
from tests.hardening.api import WRITE, WRITE_TOKEN, post
from tests.replicas.conftest import DATABASE

PRODUCTS = """
{ products(first: 20, orderBy: {field: NAME}) {
    totalCount
    nodes { name tags { edges { priority node { name } } } } } }
"""
CREATE = """
mutation ($name: String!, $tags: [TagLinkInput!]) {
  createProduct(input: {name: $name, tags: $tags}) { product { id } userErrors { code } }
}
"""
SET_TAGS = """
mutation ($id: ID!, $tags: [TagLinkInput!]) {
  setTags(input: {productId: $id, tags: $tags}) {
    added { name } removed { name } userErrors { code }
  }
}
"""
APPLY = """
mutation ($items: [ApplyTagsItem!]!) {
  applyTags(input: {items: $items, mode: ADD}) { results { added { name } } userErrors { code } }
}
"""
TAG = '{ tag(name: "Sale") { name products { totalCount } } }'


@pytest.fixture
async def client(pg_bouncer: PgBouncer, replicated: Replicated) -> AsyncIterator[httpx.AsyncClient]:
    app: Starlette = create_app(
        Settings(
            database_url=pg_bouncer.url(DATABASE),
            db_pgbouncer=True,
            db_pool_size=10,
            write_tokens=(WRITE_TOKEN,),
        )
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://catalog.test") as client:
        yield client
    await app.state.engine.dispose()


async def data(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await post(client, query, variables, headers=WRITE)
    body: dict[str, Any] = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


async def test_queries_and_mutations_work_through_pgbouncer(client: httpx.AsyncClient) -> None:
    created = await data(
        client, CREATE, name="Lamp", tags=[{"name": "Sale", "priority": 5}, {"name": "New"}]
    )
    product = created["createProduct"]["product"]["id"]
    changed = await data(client, SET_TAGS, id=product, tags=[{"name": "Sale"}, {"name": "Eco"}])
    assert changed["setTags"]["added"] == [{"name": "Eco"}]
    assert changed["setTags"]["removed"] == [{"name": "New"}]
    await data(client, APPLY, items=[{"productId": product, "tags": [{"name": "Gift"}]}])

    page = (await data(client, PRODUCTS))["products"]
    assert page["totalCount"] == 1
    assert [e["node"]["name"] for e in page["nodes"][0]["tags"]["edges"]] == [
        "Sale",
        "Eco",
        "Gift",
    ]
    assert (await data(client, TAG))["tag"] == {"name": "Sale", "products": {"totalCount": 1}}


async def test_many_requests_at_once_share_a_few_server_connections(
    client: httpx.AsyncClient,
) -> None:
    async def one(n: int) -> None:
        await data(client, CREATE, name=f"Product {n}", tags=[{"name": f"Tag {n % 5}"}])
        await data(client, PRODUCTS)
        await data(client, TAG)

    await asyncio.gather(*(one(n) for n in range(40)))

    assert (await data(client, PRODUCTS))["products"]["totalCount"] == 40
