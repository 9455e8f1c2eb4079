"""Two server processes on one database share cache invalidation: after a write through
one, the other's very next read is fresh."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Server, StartServer, graphql
from tests.services import redis_url

pytestmark = pytest.mark.e2e

TOKEN = "e2e-write-token"
PRODUCT = base64.b64encode(b"Product:1").decode()
CREATE = 'mutation { createProduct(input: {name: "Lamp", tagNames: ["Sale"]}) { product { id } } }'
ADD_NEW = """mutation ($p: ID!) {
  addTags(input: {productId: $p, tagNames: ["New"]}) { added { name } } }"""
QUERY = "query ($id: ID!) { product(id: $id) { name tags { totalCount nodes { name } } } }"


def ask(server: Server, query: str, **variables: Any) -> httpx.Response:
    return graphql(server, TOKEN, query, **variables)


def tag_names(response: httpx.Response) -> list[str]:
    return [t["name"] for t in response.json()["data"]["product"]["tags"]["nodes"]]


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_a_write_through_one_process_is_seen_by_the_next_read_of_another(
    start_server: StartServer, database_url: str, store: str
) -> None:
    if store == "redis":
        store = redis_url()
    env = {"CATALOG_WRITE_TOKENS": TOKEN, "CATALOG_RESPONSE_CACHE": store}
    one = start_server(database_url, **env)
    two = start_server(database_url, **env)
    ask(
        one,
        'mutation { createProduct(input: {name: "Lamp", tagNames: ["Sale"]}) { product { id } } }',
    )

    for server in (one, two):  # warm both caches
        ask(server, QUERY, id=PRODUCT)
        assert ask(server, QUERY, id=PRODUCT).headers["x-cache"] == "hit"

    ask(one, ADD_NEW, p=PRODUCT)

    fresh = ask(two, QUERY, id=PRODUCT)
    assert fresh.headers["x-cache"] == "miss"
    assert tag_names(fresh) == ["New", "Sale"]
    assert tag_names(ask(one, QUERY, id=PRODUCT)) == ["New", "Sale"]


def test_two_processes_on_one_redis_share_answers_and_persisted_queries(
    start_server: StartServer, database_url: str
) -> None:
    store = redis_url()
    env = {"CATALOG_WRITE_TOKENS": TOKEN, "CATALOG_RESPONSE_CACHE": store}
    one = start_server(database_url, **env)
    two = start_server(database_url, **env)
    ask(one, CREATE)
    query = "{ products(first: 7) { nodes { name } } }"
    digest = hashlib.sha256(query.encode()).hexdigest()
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": digest}}

    registered = httpx.post(one.graphql, json={"query": query, "extensions": persisted})
    by_hash = httpx.post(two.graphql, json={"extensions": persisted})

    assert registered.headers["x-cache"] == "miss"
    assert by_hash.status_code == 200, by_hash.text
    assert by_hash.json() == registered.json()
    assert by_hash.headers["x-cache"] == "hit"  # answered from what the other process filed
