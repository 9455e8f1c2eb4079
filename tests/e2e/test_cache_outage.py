"""Redis goes away under a running server: queries are answered from the database, /readyz
says the cache is degraded, and when Redis is back (with the entries it held) it serves
again without a stale answer: a write during the outage moved the data version."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.e2e.conftest import Server, StartServer, graphql
from tests.e2e.redisserver import RedisServer

pytestmark = pytest.mark.e2e

TOKEN = "outage-write-token"
PRODUCT = base64.b64encode(b"Product:1").decode()
CREATE = 'mutation { createProduct(input: {name: "Lamp", tagNames: ["Sale"]}) { product { id } } }'
ADD_NEW = """mutation ($p: ID!) {
  addTags(input: {productId: $p, tagNames: ["New"]}) { added { name } } }"""
QUERY = "query ($id: ID!) { product(id: $id) { name tags { nodes { name } } } }"


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisServer(directory)
    server.start()
    yield server
    server.stop()


def ask(server: Server, query: str, **variables: Any) -> httpx.Response:
    return graphql(server, TOKEN, query, **variables)


def tag_names(response: httpx.Response) -> list[str]:
    return [t["name"] for t in response.json()["data"]["product"]["tags"]["nodes"]]


def readiness(server: Server) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/readyz", timeout=10)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def eventually_a_hit(server: Server) -> httpx.Response:
    """The cache is tried again at most a second after a failure."""
    deadline = time.monotonic() + 15
    while True:
        response = ask(server, QUERY, id=PRODUCT)
        if response.headers["x-cache"] == "hit" or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def test_redis_down_then_back_never_serves_a_stale_answer(
    start_server: StartServer, database_url: str, redis_server: RedisServer, tmp_path: Path
) -> None:
    server = start_server(
        database_url, CATALOG_WRITE_TOKENS=TOKEN, CATALOG_RESPONSE_CACHE=redis_server.url
    )
    ask(server, CREATE)
    ask(server, QUERY, id=PRODUCT)
    assert eventually_a_hit(server).headers["x-cache"] == "hit"
    assert readiness(server)["cache"] == "ok"

    redis_server.stop()
    during = [ask(server, QUERY, id=PRODUCT) for _ in range(20)]
    assert all(tag_names(r) == ["Sale"] for r in during)
    ready = readiness(server)
    assert (ready["status"], ready["cache"]) == ("ok", "degraded")
    ask(server, ADD_NEW, p=PRODUCT)  # the write Redis never hears of

    redis_server.start()
    assert redis_server.client().dbsize() >= 1  # the pre-outage answer is still in Redis
    after = ask(server, QUERY, id=PRODUCT)
    assert tag_names(after) == ["New", "Sale"]
    hit = eventually_a_hit(server)
    assert hit.headers["x-cache"] == "hit"
    assert tag_names(hit) == ["New", "Sale"]
    assert readiness(server)["cache"] == "ok"

    log = (tmp_path / f"server-{server.url.rsplit(':', 1)[1]}.log").read_bytes().splitlines()
    events = [orjson.loads(line) for line in log if line.startswith(b"{")]
    warnings = [e for e in events if e["event"].startswith("response cache unavailable")]
    assert len(warnings) == 1, warnings
    assert not [e for e in events if e.get("status", 200) >= 500]


def test_a_hung_redis_costs_a_moment_not_the_request(
    start_server: StartServer, database_url: str, redis_server: RedisServer
) -> None:
    server = start_server(
        database_url, CATALOG_WRITE_TOKENS=TOKEN, CATALOG_RESPONSE_CACHE=redis_server.url
    )
    ask(server, CREATE)
    ask(server, QUERY, id=PRODUCT)

    redis_server.hang()
    try:
        # A generous bound (a loaded machine), far below the 10 s request budget.
        answers = [
            httpx.post(
                server.graphql,
                json={"query": QUERY, "variables": {"id": PRODUCT}},
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=5,
            )
            for _ in range(5)
        ]
        assert readiness(server)["cache"] == "degraded"
    finally:
        redis_server.resume()

    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"]["product"]["name"] == "Lamp"
