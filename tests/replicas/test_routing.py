"""The API on a primary and a streaming replica: queries read from the replica, mutations
from the primary, a consistency token is honoured, and no request fails because the
replica is behind or down. Statements are counted by each node (pg_stat_statements).

The replica set's monitor is driven by hand (`probe()`), so each test decides exactly
what the server has measured.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from clusters import Replicated
from db.replicas import ReplicaSet, parse_position
from server.app import create_app
from server.config.settings import Settings
from tests.hardening.api import WRITE, WRITE_TOKEN, post
from tests.server.metrics_page import parse, value

TOKEN = "catalog-consistency-token"
TAGS = "{ tags(first: 10) { nodes { name } } }"
CREATE_TAG = "mutation ($name: String!) { createTag(input: {name: $name}) { tag { name } } }"
CREATE_PRODUCT = """
mutation ($tags: [String!]) {
  createProduct(input: {name: "Lamp", tagNames: $tags}) { product { tags { nodes { name } } } }
}
"""
# Statements as pg_stat_statements normalizes them: the tags reader, and the write.
READS_TAGS = "SELECT%FROM tags%"
INSERTS_TAGS = "INSERT INTO tags%"


@pytest.fixture
async def app(replicated: Replicated) -> AsyncIterator[Starlette]:
    app = create_app(
        Settings(
            database_url=replicated.primary_url,
            read_database_urls=(replicated.standby_url,),
            replica_max_lag_ms=1000,
            write_tokens=(WRITE_TOKEN,),
            response_cache="memory",
        )
    )
    yield app
    await app.state.replicas.stop()
    await app.state.engine.dispose()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://catalog.test") as client:
        yield client


def replicas(app: Starlette) -> ReplicaSet:
    nodes: ReplicaSet = app.state.replicas
    return nodes


async def names(client: httpx.AsyncClient, first: int = 10, **headers: str) -> list[str]:
    """The tags' names (`first` varies the request, which the response cache keys on)."""
    query = TAGS.replace("first: 10", f"first: {first}")
    response = await client.post("/graphql", json={"query": query}, headers=headers)
    body: dict[str, Any] = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return [tag["name"] for tag in body["data"]["tags"]["nodes"]]


async def create_tag(client: httpx.AsyncClient, name: str) -> str:
    """Create a tag; the consistency token of the write."""
    response = await post(client, CREATE_TAG, {"name": name}, headers=WRITE)
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    token: str = response.headers[TOKEN]
    assert body["extensions"]["consistency"]["token"] == token
    return token


async def test_queries_read_on_the_replica_and_mutations_on_the_primary(
    app: Starlette, client: httpx.AsyncClient, replicated: Replicated
) -> None:
    await create_tag(client, "Sale")
    replicated.wait_for_replay()
    await replicas(app).probe()
    replicated.reset_statements()

    for first in (10, 11, 12):
        assert await names(client, first) == ["Sale"]
    assert replicated.statements_on(replicated.standby, READS_TAGS) == 3
    assert replicated.statements_on(replicated.primary, READS_TAGS) == 0

    response = await post(client, CREATE_PRODUCT, {"tags": ["Sale", "New"]}, headers=WRITE)
    tags = response.json()["data"]["createProduct"]["product"]["tags"]["nodes"]
    assert sorted(tag["name"] for tag in tags) == ["New", "Sale"]

    # The mutation, and what its payload read, ran on the primary.
    assert replicated.statements_on(replicated.primary, INSERTS_TAGS) == 1
    assert replicated.statements_on(replicated.primary, READS_TAGS) >= 1
    assert replicated.statements_on(replicated.standby, READS_TAGS) == 3


async def test_a_client_sending_its_token_sees_its_write_while_replay_is_paused(
    app: Starlette, client: httpx.AsyncClient, replicated: Replicated
) -> None:
    await replicas(app).probe()
    replicated.pause_replay()

    token = await create_tag(client, "Sale")
    await replicas(app).probe()  # behind, but within the lag bound: still serving

    assert await names(client) == []  # no token: the replica's (older) answer
    assert await names(client, **{TOKEN: token}) == ["Sale"]

    replicated.resume_replay()
    replicated.wait_for_replay()
    await replicas(app).probe()
    replicated.reset_statements()
    assert await names(client, 13, **{TOKEN: token}) == ["Sale"]
    assert replicated.statements_on(replicated.standby, READS_TAGS) == 1  # caught up: replica


async def test_a_paused_replica_past_the_lag_bound_gets_no_reads(
    app: Starlette, client: httpx.AsyncClient, replicated: Replicated
) -> None:
    await replicas(app).probe()
    replicated.pause_replay()
    await create_tag(client, "Sale")
    await asyncio.sleep(1.2)
    await replicas(app).probe()
    replicated.reset_statements()

    assert await names(client) == ["Sale"]
    assert replicated.statements_on(replicated.standby, READS_TAGS) == 0
    assert replicated.statements_on(replicated.primary, READS_TAGS) == 1


async def test_a_stopped_replica_fails_no_request(
    app: Starlette, client: httpx.AsyncClient, replicated: Replicated
) -> None:
    await create_tag(client, "Sale")
    replicated.wait_for_replay()
    await replicas(app).probe()
    assert await names(client) == ["Sale"]  # a pooled connection to the replica now

    await asyncio.to_thread(replicated.standby.stop)  # no probe yet: still thought healthy

    assert await names(client, 11) == ["Sale"]
    assert await names(client, 12) == ["Sale"]
    assert not replicas(app).replicas[0].reachable


async def test_the_cache_answers_from_the_node_that_serves_the_request(
    app: Starlette, client: httpx.AsyncClient, replicated: Replicated
) -> None:
    await replicas(app).probe()
    assert await names(client) == []  # filed under the replica's version
    replicated.pause_replay()
    token = await create_tag(client, "Sale")
    await replicas(app).probe()

    stale = await client.post("/graphql", json={"query": TAGS})
    fresh = await client.post("/graphql", json={"query": TAGS}, headers={TOKEN: token})
    again = await client.post("/graphql", json={"query": TAGS}, headers={TOKEN: token})

    # The replica is behind: its version is the old one, whose answer is the old one.
    assert stale.headers["x-cache"] == "hit" and stale.json()["data"]["tags"]["nodes"] == []
    # The token needs the write: the primary's version is new, so is its answer.
    assert fresh.headers["x-cache"] == "miss"
    assert fresh.json()["data"]["tags"]["nodes"] == [{"name": "Sale"}]
    assert again.headers["x-cache"] == "hit"
    assert again.json()["data"]["tags"]["nodes"] == [{"name": "Sale"}]


async def test_a_token_that_is_not_one_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": TAGS}, headers={TOKEN: "yesterday"})

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert TOKEN in error["message"].lower()


async def test_tokens_move_forward_with_each_write(client: httpx.AsyncClient) -> None:
    first = await create_tag(client, "Sale")
    second = await create_tag(client, "New")
    assert parse_position(second) > parse_position(first)


async def test_metrics_show_a_paused_replica_leaving_the_reads(
    app: Starlette, client: httpx.AsyncClient, replicated: Replicated
) -> None:
    await create_tag(client, "Sale")
    replicated.wait_for_replay()
    await replicas(app).probe()
    caught_up = parse((await client.get("/metrics")).text)
    replicated.pause_replay()
    await create_tag(client, "New")
    await asyncio.sleep(1.2)
    await replicas(app).probe()
    behind = parse((await client.get("/metrics")).text)

    name = replicas(app).replicas[0].name
    assert value(caught_up, "catalog_replica_healthy", replica=name) == 1
    assert value(behind, "catalog_replica_healthy", replica=name) == 0
    assert value(behind, "catalog_replica_lag_seconds", replica=name) > 1.0
